"""The embedded store: one folder with a SQLite database (WAL) and one vector file per kind.

Layout of a store folder::

    hippo.db          documents, passages, entities, facts, edges, units, settings (meta)
    vectors/*.f32     append-only float32 matrices (see vectors.py)
    write.lock        held by the one process writing; readers never take it

Why SQLite: it gives the crash safety the ingest needs (a batch is one transaction) and
lets other processes read a consistent snapshot while one writes (WAL), with no server.

The write lock is an ``flock`` on ``write.lock``, so the kernel releases it when its holder
dies, even by SIGKILL; the file keeps the last holder's pid and command only to name it in
messages. An ingest run holds the lock from its first batch to its last
(:meth:`SQLiteStore.write_session`), so a second writer waits for the whole run instead of
interleaving batches planned against a store that has changed under it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from hippo.config import Settings
from hippo.errors import EmbeddingModelMismatch, StoreError
from hippo.model import Cluster, Document, Entity, Fact, Matrix, Passage, Unit
from hippo.stores.base import (
    ClusterEdges,
    DocumentSummary,
    GraphEdges,
    GraphStore,
    MemoryEdges,
    PassageContext,
    stored_settings_with,
)
from hippo.stores.schema import DDL, KIND_TABLE, MIGRATIONS, SCHEMA_VERSION, VECTOR_KINDS
from hippo.stores.vectors import VectorFile, VectorTable
from hippo.text import normalize_name

__all__ = ["DB_NAME", "LOCK_NAME", "SQLiteStore", "lock_holder"]

DB_NAME = "hippo.db"
LOCK_NAME = "write.lock"
WRITE_LOCK_TIMEOUT_S = 60.0
"""How long a writer waits for another process's write lock before giving up with a message."""

logger = logging.getLogger(__name__)


class SQLiteStore(GraphStore):
    """The default store. Open it with :meth:`open`; use as a context manager to close it."""

    def __init__(self, path: Path, conn: sqlite3.Connection, settings: Settings) -> None:
        self.path = path
        self.location = str(path)
        self.settings = settings
        self._conn = conn
        self._lock = threading.RLock()
        self._in_tx = False
        self._pending_rows: dict[str, int] = {}
        self._lock_handle: Any = None
        self._lock_depth = 0
        self._writer = threading.RLock()  # one writing thread per process; the flock excludes other processes
        self._snapshot_depth = 0

    # --- opening -----------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], overrides: dict[str, Any] | None = None, *, create: bool = True
             ) -> SQLiteStore:
        """Open (or create) the store at ``path``.

        Parameters
        ----------
        path : folder of the store; created when missing and ``create`` is true.
        overrides : settings that differ from the stored ones for this session. Naming a
            different ``embed_model`` than the store was built with raises
            :class:`EmbeddingModelMismatch`.
        create : when false, a missing store raises :class:`StoreError`.
        """
        folder = Path(path)
        overrides = dict(overrides or {})
        db = folder / DB_NAME
        exists = db.exists()
        if not exists:
            if not create:
                raise StoreError(f"no hippo store at {folder}; create one with `hippo index PATH --store {folder}`.")
            if folder.is_file():
                raise StoreError(f"{folder} is a file, not a store folder; choose a folder path for --store.")
            if folder.is_dir() and any(p.name != LOCK_NAME for p in folder.iterdir()):
                raise StoreError(
                    f"{folder} exists and is not a hippo store (it has no {DB_NAME}); "
                    "choose a new or empty folder for --store."
                )
            folder.mkdir(parents=True, exist_ok=True)
        conn = _connect(db)
        if exists:
            settings = _stored_settings(conn, folder, overrides)
        else:
            settings = Settings().replace(**overrides)
            conn.executescript(DDL)
            _write_meta(conn, {
                "schema_version": str(SCHEMA_VERSION),
                "settings": json.dumps(settings.to_dict()),
                "created_at": str(time.time()),
                "version": "0",
                **{f"rows.{kind}": "0" for kind in VECTOR_KINDS},
            })
        return cls(folder, conn, settings)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions ------------------------------------------------------------------
    def version(self) -> int:
        return int(self._meta("version") or 0)

    @contextmanager
    def write_session(self) -> Iterator[None]:
        """Hold the write lock across several transactions (one ingest run); re-entrant.

        Another process that wants to write meanwhile waits (up to :data:`WRITE_LOCK_TIMEOUT_S`,
        saying whom it waits for), then gives up with a :class:`StoreError` naming the holder.
        """
        with self._writer:
            self._acquire_write_lock()
            try:
                yield
            finally:
                self._release_write_lock()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write batch. Only one process writes at a time (``write.lock``); readers are never blocked."""
        with self._writer, self._lock:
            if self._in_tx:
                raise StoreError("a write transaction is already open on this store; batches do not nest.")
            if self._snapshot_depth:
                raise StoreError("cannot write inside a read snapshot of this store; finish reading first.")
            self._acquire_write_lock()
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._in_tx = True
                self._pending_rows = {k: int(self._meta(f"rows.{k}") or 0) for k in VECTOR_KINDS}
                self._drop_uncommitted_vectors()
                committed = dict(self._pending_rows)
                try:
                    yield
                    self._sync_vectors(committed)
                    _write_meta(self._conn, {
                        "version": str(self.version() + 1),
                        "settings": json.dumps(self.settings.to_dict()),
                        **{f"rows.{k}": str(v) for k, v in self._pending_rows.items()},
                    })
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                finally:
                    self._in_tx = False
            finally:
                self._release_write_lock()

    def _acquire_write_lock(self) -> None:
        """Take ``write.lock`` (or count one more use of it, when this store already holds it)."""
        if self._lock_depth:
            self._lock_depth += 1
            return
        handle = open(self.path / LOCK_NAME, "a+")  # noqa: SIM115  (held until the batch or run ends)
        deadline = time.monotonic() + WRITE_LOCK_TIMEOUT_S
        waiting = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = lock_holder(handle)
                if time.monotonic() > deadline:
                    handle.close()
                    raise StoreError(
                        f"store {self.path} is being written by another process ({holder}); gave up after "
                        f"waiting {WRITE_LOCK_TIMEOUT_S:.0f} s. Let it finish (or stop it), then run this again."
                    ) from None
                if not waiting:
                    logger.warning("store %s is being written by another process (%s); waiting up to %.0f s "
                                   "for it to finish", self.path, holder, WRITE_LOCK_TIMEOUT_S)
                    waiting = True
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {_command_line()}")
        handle.flush()
        self._lock_handle = handle
        self._lock_depth = 1

    def _release_write_lock(self) -> None:
        self._lock_depth -= 1
        if self._lock_depth == 0 and self._lock_handle is not None:
            fcntl.flock(self._lock_handle, fcntl.LOCK_UN)
            self._lock_handle.close()
            self._lock_handle = None

    def _drop_uncommitted_vectors(self) -> None:
        """Cut vector bytes past the committed rows: what a write killed before its commit left behind.

        Readers map only committed rows, so the cut never touches what they read; without it the
        next append would overwrite the leftovers anyway, but a shorter batch would leave some.
        """
        dim = self._meta("embed_dim")
        if dim is None:
            return
        for kind, rows in self._pending_rows.items():
            path = self.path / "vectors" / f"{kind}.f32"
            committed = rows * int(dim) * 4
            if path.exists() and path.stat().st_size > committed:
                logger.info("dropping %d uncommitted byte(s) of %s", path.stat().st_size - committed, path)
                os.truncate(path, committed)

    def _require_tx(self) -> None:
        if not self._in_tx:
            raise StoreError("writes must happen inside `with store.transaction():`.")

    def set_embedding_dim(self, dim: int) -> None:
        stored = self._meta("embed_dim")
        if stored is None:
            self._require_tx()
            _write_meta(self._conn, {"embed_dim": str(dim)})
        elif int(stored) != dim:
            raise EmbeddingModelMismatch(
                f"store {self.path} holds {stored}-dimensional vectors but the embedder gives {dim}; "
                "index into a new folder or use the model the store was built with."
            )

    # --- vectors -----------------------------------------------------------------------
    def _vector_file(self, kind: str) -> VectorFile:
        dim = self._meta("embed_dim")
        if dim is None:
            raise StoreError(f"store {self.path} has no embedding dimension yet; nothing has been embedded.")
        return VectorFile(self.path / "vectors" / f"{kind}.f32", int(dim))

    def append_vectors(self, kind: str, vectors: Matrix) -> list[int]:
        """Write ``vectors`` after the committed rows of ``kind``; return their row numbers."""
        self._require_tx()
        start = self._pending_rows[kind]
        if len(vectors):
            self._vector_file(kind).write_rows(start, vectors, sync=False)
        self._pending_rows[kind] = start + len(vectors)
        return list(range(start, start + len(vectors)))

    def _sync_vectors(self, committed: dict[str, int]) -> None:
        """Sync each vector file this transaction appended to, once, before the commit that counts its rows."""
        for kind, rows in self._pending_rows.items():
            if rows > committed.get(kind, 0):
                self._vector_file(kind).sync()

    def vector_table(self, kind: str) -> VectorTable:
        if kind not in KIND_TABLE:
            raise ValueError(f"unknown vector kind {kind!r}; known: {', '.join(VECTOR_KINDS)}.")
        with self._lock, self.snapshot():
            rows = int(self._meta(f"rows.{kind}") or 0)
            owners = self._conn.execute(f"SELECT id, vec_row FROM {KIND_TABLE[kind]}").fetchall()
            dim = self._meta("embed_dim")
        ids = np.full(rows, "", dtype=object)
        if owners:
            ids[np.fromiter((r for _, r in owners), dtype=np.int64, count=len(owners))] = [i for i, _ in owners]
        live = ids != ""
        matrix = (VectorFile(self.path / "vectors" / f"{kind}.f32", int(dim)).read(rows) if dim
                  else np.zeros((0, 0), dtype=np.float32))
        return VectorTable(ids=ids, live=live, matrix=matrix)

    def vectors_by_hash(self, hashes: Sequence[str]) -> dict[str, Matrix]:
        if not hashes or self._meta("embed_dim") is None:
            return {}
        found: dict[str, int] = {}
        with self._lock:
            for chunk in _chunks(list(set(hashes)), 500):
                marks = ",".join("?" * len(chunk))
                for h, row in self._conn.execute(
                    f"SELECT content_hash, vec_row FROM passages WHERE content_hash IN ({marks})", chunk
                ):
                    found[h] = row
            rows = int(self._meta("rows.passage") or 0)
        if not found:
            return {}
        matrix = self._vector_file("passage").read(rows)
        return {h: np.array(matrix[row]) for h, row in found.items()}

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
        for chunk in _chunks(fact_ids, 500):
            marks = ",".join("?" * len(chunk))
            dead = self._conn.execute(
                f"SELECT id, subject_id, object_id FROM facts WHERE id IN ({marks}) "
                "AND NOT EXISTS (SELECT 1 FROM fact_sources s WHERE s.fact_id = facts.id)", chunk
            ).fetchall()
            self._conn.executemany("DELETE FROM facts WHERE id = ?", [(f,) for f, _, _ in dead])
            entity_ids.update(e for _, subj, obj in dead for e in (subj, obj) if e not in kept)
        for chunk in _chunks(sorted(entity_ids), 500):
            marks = ",".join("?" * len(chunk))
            self._conn.execute(
                f"DELETE FROM entities WHERE id IN ({marks}) "
                "AND NOT EXISTS (SELECT 1 FROM mentions m WHERE m.entity_id = entities.id) "
                "AND NOT EXISTS (SELECT 1 FROM facts f WHERE f.subject_id = entities.id) "
                "AND NOT EXISTS (SELECT 1 FROM facts f WHERE f.object_id = entities.id)", chunk
            )

    # --- passages ----------------------------------------------------------------------
    def passage_context(self, passage_ids: Sequence[str]) -> dict[str, PassageContext]:
        out: dict[str, PassageContext] = {}
        with self._lock:
            for chunk in _chunks(list(passage_ids), 500):
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                    "SELECT p.id, p.doc_id, p.text, d.title, d.source, p.position, p.key, p.time FROM passages p "
                    f"JOIN documents d ON d.id = p.doc_id WHERE p.id IN ({marks})", chunk
                ):
                    out[row[0]] = PassageContext(*row)
        return out

    def iter_passages(self) -> Iterator[PassageContext]:
        last = -1
        while True:
            with self._lock:
                batch = self._conn.execute(
                    "SELECT p.rowid, p.id, p.doc_id, p.text, d.title, d.source, p.position, p.key, p.time "
                    "FROM passages p "
                    "JOIN documents d ON d.id = p.doc_id WHERE p.rowid > ? ORDER BY p.rowid LIMIT 2000", (last,)
                ).fetchall()
            if not batch:
                return
            for row in batch:
                yield PassageContext(*row[1:])
            last = batch[-1][0]

    def counts(self) -> dict[str, int]:
        tables = {"documents": "documents", "passages": "passages", "entities": "entities", "facts": "facts",
                  "mentions": "mentions", "synonyms": "synonyms", "units": "units", "associations": "associations",
                  "clusters": "clusters", "files": "files"}
        with self._lock, self.snapshot():
            return {name: self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                    for name, table in tables.items()}

    # --- the graph ---------------------------------------------------------------------
    def known_ids(self, kind: str, ids: Sequence[str]) -> set[str]:
        table = {"entity": "entities", "fact": "facts"}[kind]
        found: set[str] = set()
        with self._lock:
            for chunk in _chunks(list(set(ids)), 500):
                marks = ",".join("?" * len(chunk))
                found.update(r[0] for r in self._conn.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", chunk))
        return found

    def put_graph(self, entities: Sequence[Entity], entity_vectors: Matrix, facts: Sequence[Fact],
                  fact_vectors: Matrix, mentions: Sequence[tuple[str, str]],
                  fact_sources: Sequence[tuple[str, str, str]]) -> None:
        self._require_tx()
        rows = self.append_vectors("entity", entity_vectors)
        self._conn.executemany(
            "INSERT INTO entities(id, name, display, label, vec_row) VALUES (?, ?, ?, ?, ?)",
            [(e.id, e.name, e.display, e.label, row) for e, row in zip(entities, rows)],
        )
        rows = self.append_vectors("fact", fact_vectors)
        self._conn.executemany(
            "INSERT INTO facts(id, subject_id, predicate, object_id, vec_row) VALUES (?, ?, ?, ?, ?)",
            [(f.id, f.subject_id, f.predicate, f.object_id, row) for f, row in zip(facts, rows)],
        )
        self._conn.executemany("INSERT OR IGNORE INTO mentions(passage_id, entity_id) VALUES (?, ?)", mentions)
        self._conn.executemany(
            "INSERT OR IGNORE INTO fact_sources(fact_id, passage_id, extractor) VALUES (?, ?, ?)", fact_sources
        )

    def put_synonyms(self, rows: Sequence[tuple[str, str, float]]) -> None:
        self._require_tx()
        self._conn.executemany("INSERT OR REPLACE INTO synonyms(a, b, score) VALUES (?, ?, ?)", rows)

    def graph_edges(self) -> GraphEdges:
        with self._lock, self.snapshot():
            relations = self._conn.execute(
                "SELECT f.subject_id, f.object_id, COUNT(*) FROM facts f JOIN fact_sources s ON s.fact_id = f.id "
                "GROUP BY f.subject_id, f.object_id"
            ).fetchall()
            mentions = self._conn.execute("SELECT passage_id, entity_id FROM mentions").fetchall()
            synonyms = self._conn.execute("SELECT a, b, score FROM synonyms").fetchall()
            facts = self._conn.execute("SELECT id, subject_id, object_id FROM facts").fetchall()
        return GraphEdges(relations=_columns(relations, 3), mentions=_columns(mentions, 2),
                          synonyms=_columns(synonyms, 3), facts=_columns(facts, 3))

    def entities(self, ids: Sequence[str]) -> dict[str, Entity]:
        out: dict[str, Entity] = {}
        with self._lock:
            for chunk in _chunks(list(set(ids)), 500):
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                    f"SELECT id, name, display, label FROM entities WHERE id IN ({marks})", chunk
                ):
                    out[row[0]] = Entity(*row)
        return out

    def facts(self, ids: Sequence[str]) -> dict[str, Fact]:
        out: dict[str, Fact] = {}
        with self._lock:
            for chunk in _chunks(list(set(ids)), 500):
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    "SELECT f.id, f.subject_id, f.predicate, f.object_id, s.display, o.display, "
                    "(SELECT group_concat(passage_id, ' ') FROM fact_sources WHERE fact_id = f.id) "
                    "FROM facts f JOIN entities s ON s.id = f.subject_id JOIN entities o ON o.id = f.object_id "
                    f"WHERE f.id IN ({marks})", chunk,
                ).fetchall()
                for r in rows:
                    out[r[0]] = Fact(r[0], r[1], r[2], r[3], r[4], r[5], tuple((r[6] or "").split()))
        return out

    def find_entities(self, text: str, limit: int = 20) -> list[Entity]:
        name = normalize_name(text)
        if not name:
            return []
        like = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._all(
            "SELECT e.id, e.name, e.display, e.label FROM entities e "
            "LEFT JOIN (SELECT entity_id, COUNT(*) AS n FROM mentions GROUP BY entity_id) m ON m.entity_id = e.id "
            "WHERE e.name LIKE ? ESCAPE '\\' "
            "ORDER BY (e.name = ?) DESC, (e.name LIKE ? ESCAPE '\\') DESC, COALESCE(m.n, 0) DESC, e.name LIMIT ?",
            (f"%{like}%", name, f"{like}%", limit),
        )
        return [Entity(*r) for r in rows]

    def facts_of_entity(self, entity_id: str, limit: int = 200) -> list[Fact]:
        ids = [r[0] for r in self._all(
            "SELECT id FROM facts WHERE subject_id = ? UNION SELECT id FROM facts WHERE object_id = ? LIMIT ?",
            (entity_id, entity_id, limit),
        )]
        found = self.facts(ids)
        return [found[i] for i in ids if i in found]

    def entity_names(self) -> tuple[list[str], list[str], list[str]]:
        return _columns(self._all("SELECT id, name, display FROM entities"), 3)

    def top_entities(self, limit: int = 50) -> list[Entity]:
        rows = self._all(
            "SELECT e.id, e.name, e.display, e.label FROM entities e JOIN "
            "(SELECT entity_id, COUNT(*) AS n FROM mentions GROUP BY entity_id) m ON m.entity_id = e.id "
            "ORDER BY m.n DESC, e.name LIMIT ?", (limit,),
        )
        return [Entity(*r) for r in rows]

    def list_facts(self, limit: int = 200) -> list[Fact]:
        ids = [r[0] for r in self._all("SELECT id FROM facts ORDER BY rowid LIMIT ?", (limit,))]
        found = self.facts(ids)
        return [found[i] for i in ids if i in found]

    def passages_of_entity(self, entity_id: str, limit: int = 50) -> list[PassageContext]:
        rows = self._all(
            "SELECT p.id, p.doc_id, p.text, d.title, d.source, p.position, p.key, p.time FROM mentions m "
            "JOIN passages p ON p.id = m.passage_id JOIN documents d ON d.id = p.doc_id "
            "WHERE m.entity_id = ? ORDER BY p.rowid LIMIT ?", (entity_id, limit),
        )
        return [PassageContext(*r) for r in rows]

    def synonyms_of(self, entity_id: str) -> list[tuple[Entity, float]]:
        rows = self._all(
            "SELECT e.id, e.name, e.display, e.label, MAX(x.score) AS score FROM ("
            "SELECT b AS other, score FROM synonyms WHERE a = ? UNION ALL "
            "SELECT a AS other, score FROM synonyms WHERE b = ?) x JOIN entities e ON e.id = x.other "
            "GROUP BY e.id ORDER BY score DESC", (entity_id, entity_id),
        )
        return [(Entity(*r[:4]), float(r[4])) for r in rows]

    def facts_between(self, a: str, b: str) -> list[Fact]:
        ids = [r[0] for r in self._all(
            "SELECT id FROM facts WHERE (subject_id = ? AND object_id = ?) OR (subject_id = ? AND object_id = ?)",
            (a, b, b, a),
        )]
        found = self.facts(ids)
        return [found[i] for i in ids if i in found]

    def mentions_of_passages(self, passage_ids: Sequence[str]) -> dict[str, list[Entity]]:
        out: dict[str, list[Entity]] = {}
        with self._lock:
            for chunk in _chunks(list(passage_ids), 500):
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                    "SELECT m.passage_id, e.id, e.name, e.display, e.label FROM mentions m "
                    f"JOIN entities e ON e.id = m.entity_id WHERE m.passage_id IN ({marks}) ORDER BY m.rowid", chunk
                ):
                    out.setdefault(row[0], []).append(Entity(*row[1:]))
        return out

    def fact_sources(self, passage_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        rows: list[tuple[str, str, str]] = []
        with self._lock:
            for chunk in _chunks(list(passage_ids), 500):
                marks = ",".join("?" * len(chunk))
                rows += self._conn.execute(
                    f"SELECT fact_id, passage_id, extractor FROM fact_sources WHERE passage_id IN ({marks}) "
                    "ORDER BY rowid", chunk
                ).fetchall()
        return rows

    def facts_of_passages(self, passage_ids: Sequence[str]) -> dict[str, list[Fact]]:
        pairs: list[tuple[str, str]] = []
        with self._lock:
            for chunk in _chunks(list(passage_ids), 500):
                marks = ",".join("?" * len(chunk))
                pairs += self._conn.execute(
                    f"SELECT passage_id, fact_id FROM fact_sources WHERE passage_id IN ({marks}) ORDER BY rowid", chunk
                ).fetchall()
        found = self.facts([f for _, f in pairs])
        out: dict[str, list[Fact]] = {}
        for passage_id, fact_id in pairs:
            if fact_id in found:
                out.setdefault(passage_id, []).append(found[fact_id])
        return out

    # --- memory units (MemGAS) ---------------------------------------------------------
    def put_units(self, units: Sequence[Unit], vectors: Matrix) -> None:
        self._require_tx()
        if len(units) != len(vectors):
            raise ValueError(f"{len(units)} units but {len(vectors)} vectors.")
        rows = self.append_vectors("unit", vectors)
        self._conn.executemany(
            "INSERT INTO units(id, granularity, text, doc_id, time, vec_row, passage_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(u.id, u.granularity, u.text, u.doc_id, u.time, row, u.passage_id) for u, row in zip(units, rows)],
        )

    def put_associations(self, rows: Sequence[tuple[str, str, float]]) -> None:
        self._require_tx()
        self._conn.executemany("INSERT OR REPLACE INTO associations(a, b, weight) VALUES (?, ?, ?)", rows)

    def memory_edges(self) -> MemoryEdges:
        with self._lock, self.snapshot():
            units = self._conn.execute(
                "SELECT id, doc_id, granularity, COALESCE(passage_id, '') FROM units ORDER BY rowid").fetchall()
            associations = self._conn.execute("SELECT a, b, weight FROM associations").fetchall()
            passages = self._conn.execute("SELECT id, doc_id FROM passages").fetchall()
        return MemoryEdges(units=_columns(units, 4), associations=_columns(associations, 3),
                           passages=_columns(passages, 2))

    def units(self, ids: Sequence[str]) -> dict[str, Unit]:
        out: dict[str, Unit] = {}
        with self._lock:
            for chunk in _chunks(list(set(ids)), 500):
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                    f"SELECT id, granularity, text, doc_id, time, passage_id FROM units WHERE id IN ({marks})", chunk
                ):
                    out[row[0]] = Unit(*row)
        return out

    def document_units(self, doc_id: str) -> list[Unit]:
        rows = self._all("SELECT id, granularity, text, doc_id, time, passage_id FROM units WHERE doc_id = ? "
                         "ORDER BY rowid", (doc_id,))
        return [Unit(*r) for r in rows]

    # --- layers (ComoRAG) ---------------------------------------------------------------
    def put_clusters(self, clusters: Sequence[Cluster], vectors: Matrix,
                     members: Sequence[tuple[str, str, float]]) -> None:
        self._require_tx()
        if len(clusters) != len(vectors):
            raise ValueError(f"{len(clusters)} clusters but {len(vectors)} vectors.")
        rows = self.append_vectors("cluster", vectors)
        self._conn.executemany(
            "INSERT INTO clusters(id, level, summary, vec_row) VALUES (?, ?, ?, ?)",
            [(c.id, c.level, c.summary, row) for c, row in zip(clusters, rows)],
        )
        self._conn.executemany(
            "INSERT OR REPLACE INTO cluster_members(cluster_id, passage_id, weight) VALUES (?, ?, ?)", members)

    def delete_clusters(self, ids: Sequence[str]) -> None:
        self._require_tx()
        for chunk in _chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            self._conn.execute(f"DELETE FROM cluster_members WHERE cluster_id IN ({marks})", chunk)
            self._conn.execute(f"DELETE FROM clusters WHERE id IN ({marks})", chunk)

    def clusters(self, ids: Sequence[str]) -> dict[str, Cluster]:
        out: dict[str, Cluster] = {}
        with self._lock:
            for chunk in _chunks(list(set(ids)), 500):
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(f"SELECT id, level, summary FROM clusters WHERE id IN ({marks})", chunk):
                    out[row[0]] = Cluster(*row)
        return out

    def cluster_edges(self) -> ClusterEdges:
        with self._lock, self.snapshot():
            clusters = self._conn.execute("SELECT id, level FROM clusters ORDER BY rowid").fetchall()
            members = self._conn.execute("SELECT cluster_id, passage_id, weight FROM cluster_members").fetchall()
        return ClusterEdges(clusters=_columns(clusters, 2), members=_columns(members, 3))

    def layer_info(self) -> dict[str, Any]:
        stored = self._meta("layers")
        return json.loads(stored) if stored else {}

    def set_layer_info(self, info: dict[str, Any]) -> None:
        self._require_tx()
        _write_meta(self._conn, {"layers": json.dumps(info)})

    # --- small helpers -----------------------------------------------------------------
    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one committed state (a read transaction); re-entrant, and a no-op inside a write.

        Other threads of this process wait meanwhile (the connection is shared); other processes never do.
        """
        with self._lock:
            if self._in_tx or self._snapshot_depth:
                self._snapshot_depth += 1
                try:
                    yield
                finally:
                    self._snapshot_depth -= 1
                return
            self._conn.execute("BEGIN")
            self._snapshot_depth = 1
            try:
                yield
            finally:
                self._snapshot_depth = 0
                self._conn.execute("COMMIT")

    def _documents(self, where: str, params: tuple[Any, ...]) -> list[Document]:
        rows = self._all(
            "SELECT id, source, title, content_hash, added_at, metadata, timestamp FROM documents "
            f"{where} ORDER BY rowid", params,
        )
        return [Document(id=r[0], source=r[1], title=r[2], content_hash=r[3], added_at=r[4],
                         metadata=json.loads(r[5]), timestamp=r[6]) for r in rows]

    def _meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else None

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()


def _connect(db: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open {db}: {exc}. Is it a hippo store? Index into a new folder instead.") from exc
    return conn


def _command_line() -> str:
    """This process's command line, shortened: what a waiting writer is told about the lock's holder."""
    words = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
    line = " ".join(words).replace("\n", " ")
    return line if len(line) <= 200 else line[:199] + "…"


def lock_holder(handle: Any) -> str:
    """Who holds the write lock, from what it wrote into the lock file (``pid 123: hippo index docs``)."""
    handle.seek(0)
    pid, _, command = handle.read().strip().partition(" ")
    if not pid:
        return "pid unknown"
    return f"pid {pid}: {command}" if command else f"pid {pid}"


def _write_meta(conn: sqlite3.Connection, values: dict[str, str]) -> None:
    conn.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        list(values.items()),
    )


def _stored_settings(conn: sqlite3.Connection, folder: Path, overrides: dict[str, Any]) -> Settings:
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{folder / DB_NAME} is not a readable hippo store: {exc}.") from exc
    version = int(meta.get("schema_version", "0"))
    if version in MIGRATIONS and version < SCHEMA_VERSION:
        version = _migrate(conn, version)
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"store {folder} has schema version {version}; this hippo reads version {SCHEMA_VERSION}. "
            "Re-index into a new folder."
        )
    return stored_settings_with(Settings.from_dict(json.loads(meta["settings"])), overrides, str(folder),
                                "a new folder")


def _migrate(conn: sqlite3.Connection, version: int) -> int:
    """Upgrade the schema step by step to :data:`SCHEMA_VERSION` in one transaction; return the new version."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        while version < SCHEMA_VERSION:
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            version += 1
        _write_meta(conn, {"schema_version": str(version)})
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return version


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _columns(rows: list[tuple[Any, ...]], width: int) -> tuple[list[Any], ...]:
    """Rows as ``width`` parallel column lists (empty lists when there are no rows)."""
    if not rows:
        return tuple([] for _ in range(width))
    return tuple(list(column) for column in zip(*rows))
