"""The embedded store's files and documents: what was indexed from where, and removing a document cleanly.

Separate from :mod:`hippo.stores.sqlite` because this is the ingest's bookkeeping (which file gave
which documents and passages, and what a re-index or delete must drop with them), not how the store
commits; :class:`SQLiteDocuments` is a mixin that writes through the store's transaction and vector
files (``_require_tx``, ``append_vectors``) and reads with its ``_one``/``_all``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from hippo.model import Document, Matrix, Passage
from hippo.stores.base import DocumentSummary
from hippo.stores.rows import chunks

__all__ = ["SQLiteDocuments"]


class SQLiteDocuments:
    """Files and documents of :class:`~hippo.stores.sqlite.SQLiteStore`, which supplies the connection and helpers."""

    # --- files and documents -----------------------------------------------------------
    def file_hash(self, path: str) -> str | None:
        row = self._one("SELECT content_hash FROM files WHERE path = ?", (path,))
        return row[0] if row else None

    def set_file(self, path: str, content_hash: str, size: int) -> None:
        self._require_tx()
        self._conn.execute(
            "INSERT INTO files(path, content_hash, size, indexed_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET content_hash = excluded.content_hash, size = excluded.size, "
            "indexed_at = excluded.indexed_at",
            (path, content_hash, size, time.time()),
        )

    def forget_file(self, path: str) -> None:
        self._require_tx()
        self._conn.execute("DELETE FROM files WHERE path = ?", (path,))

    def list_files(self) -> list[tuple[str, str, int]]:
        return [(p, h, int(n)) for p, h, n in self._all("SELECT path, content_hash, size FROM files ORDER BY path")]

    def documents_of_file(self, path: str) -> dict[str, Document]:
        return {d.source: d for d in self._documents("WHERE file = ?", (path,))}

    def document(self, doc_id: str) -> Document | None:
        found = self._documents("WHERE id = ?", (doc_id,))
        return found[0] if found else None

    def find_documents(self, ref: str) -> list[Document]:
        for where in ("WHERE id = ?", "WHERE source = ?", "WHERE file = ?"):
            found = self._documents(where, (ref,))
            if found:
                return found
        resolved = str(Path(ref).resolve())
        return self._documents("WHERE file = ? OR source = ?", (resolved, resolved))

    def list_documents(self) -> list[DocumentSummary]:
        counts = dict(self._all("SELECT doc_id, COUNT(*) FROM passages GROUP BY doc_id"))
        return [DocumentSummary(d, counts.get(d.id, 0)) for d in self._documents("", ())]

    def put_document(self, document: Document, passages: Sequence[Passage], vectors: Matrix) -> None:
        self._require_tx()
        if len(passages) != len(vectors):
            raise ValueError(f"{len(passages)} passages but {len(vectors)} vectors for document {document.id}.")
        self._conn.execute(
            "INSERT INTO documents(id, source, file, title, content_hash, added_at, metadata, timestamp) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (document.id, document.source, document.metadata.get("file"), document.title, document.content_hash,
             document.added_at, json.dumps(document.metadata, ensure_ascii=False), document.timestamp),
        )
        rows = self.append_vectors("passage", vectors)
        self._conn.executemany(
            "INSERT INTO passages(id, doc_id, position, text, content_hash, vec_row, key, time) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(p.id, p.doc_id, p.position, p.text, p.content_hash, row, p.key, p.time)
             for p, row in zip(passages, rows)],
        )

    def delete_document(self, doc_id: str, keep: Collection[str] = ()) -> int:
        self._require_tx()
        removed = self._one("SELECT COUNT(*) FROM passages WHERE doc_id = ?", (doc_id,))[0]
        in_doc = "SELECT id FROM passages WHERE doc_id = ?"
        facts = [r[0] for r in self._all(f"SELECT DISTINCT fact_id FROM fact_sources WHERE passage_id IN ({in_doc})",
                                         (doc_id,))]
        entities = {r[0] for r in self._all(
            f"SELECT DISTINCT entity_id FROM mentions WHERE passage_id IN ({in_doc})", (doc_id,))}
        self._conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        kept = set(keep)
        self._drop_orphans([f for f in facts if f not in kept], {e for e in entities if e not in kept}, kept)
        return int(removed)

    def _drop_orphans(self, fact_ids: list[str], entity_ids: set[str], kept: set[str]) -> None:
        """Remove the given facts left with no source passage, then the given entities (and the
        endpoints of removed facts, unless ``kept``) that no passage mentions and no fact uses."""
        for chunk in chunks(fact_ids, 500):
            marks = ",".join("?" * len(chunk))
            dead = self._conn.execute(
                f"SELECT id, subject_id, object_id FROM facts WHERE id IN ({marks}) "
                "AND NOT EXISTS (SELECT 1 FROM fact_sources s WHERE s.fact_id = facts.id)", chunk
            ).fetchall()
            self._conn.executemany("DELETE FROM facts WHERE id = ?", [(f,) for f, _, _ in dead])
            entity_ids.update(e for _, subj, obj in dead for e in (subj, obj) if e not in kept)
        for chunk in chunks(sorted(entity_ids), 500):
            marks = ",".join("?" * len(chunk))
            self._conn.execute(
                f"DELETE FROM entities WHERE id IN ({marks}) "
                "AND NOT EXISTS (SELECT 1 FROM mentions m WHERE m.entity_id = entities.id) "
                "AND NOT EXISTS (SELECT 1 FROM facts f WHERE f.subject_id = entities.id) "
                "AND NOT EXISTS (SELECT 1 FROM facts f WHERE f.object_id = entities.id)", chunk
            )

    def _documents(self, where: str, params: tuple[Any, ...]) -> list[Document]:
        rows = self._all(
            "SELECT id, source, title, content_hash, added_at, metadata, timestamp FROM documents "
            f"{where} ORDER BY rowid", params,
        )
        return [Document(id=r[0], source=r[1], title=r[2], content_hash=r[3], added_at=r[4],
                         metadata=json.loads(r[5]), timestamp=r[6]) for r in rows]
