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

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from hippo.config import Settings
from hippo.embed import embedding_identity
from hippo.errors import EmbeddingModelMismatch, StoreError
from hippo.model import Entity, Fact, Matrix
from hippo.stores.base import GraphStore, PassageContext
from hippo.stores.rows import chunks
from hippo.stores.schema import DDL, KIND_TABLE, SCHEMA_VERSION, VECTOR_KINDS
from hippo.stores.sqlite_documents import SQLiteDocuments
from hippo.stores.sqlite_graph import SQLiteGraphReads
from hippo.stores.sqlite_layers import SQLiteLayers
from hippo.stores.sqlite_lock import LOCK_NAME, WriteLock, lock_holder
from hippo.stores.sqlite_meta import DB_NAME, connect, stored_settings, write_meta
from hippo.stores.vectors import VectorFile, VectorTable

__all__ = ["DB_NAME", "LOCK_NAME", "SQLiteStore", "lock_holder"]

WRITE_LOCK_TIMEOUT_S = 60.0
"""How long a writer waits for another process's write lock before giving up with a message."""

logger = logging.getLogger(__name__)


class SQLiteStore(SQLiteDocuments, SQLiteGraphReads, SQLiteLayers, GraphStore):
    """The default store. Open it with :meth:`open`; use as a context manager to close it."""

    def __init__(self, path: Path, conn: sqlite3.Connection, settings: Settings) -> None:
        self.path = path
        self.location = str(path)
        self.settings = settings
        self._conn = conn
        self._lock = threading.RLock()
        self._in_tx = False
        self._pending_rows: dict[str, int] = {}
        self._write_lock = WriteLock(path, logger)
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
        conn = connect(db)
        if exists:
            settings = stored_settings(conn, folder, overrides)
        else:
            settings = Settings().replace(**overrides)
            conn.executescript(DDL)
            write_meta(conn, {
                "schema_version": str(SCHEMA_VERSION),
                "settings": json.dumps(settings.to_dict()),
                # which model and which prefix embed each kind of text (the name alone is what a store checks)
                "embedding": json.dumps(embedding_identity(settings.embed_model)),
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
            self._write_lock.acquire(WRITE_LOCK_TIMEOUT_S)
            try:
                yield
            finally:
                self._write_lock.release()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write batch. Only one process writes at a time (``write.lock``); readers are never blocked."""
        with self._writer, self._lock:
            if self._in_tx:
                raise StoreError("a write transaction is already open on this store; batches do not nest.")
            if self._snapshot_depth:
                raise StoreError("cannot write inside a read snapshot of this store; finish reading first.")
            self._write_lock.acquire(WRITE_LOCK_TIMEOUT_S)
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._in_tx = True
                self._pending_rows = {k: int(self._meta(f"rows.{k}") or 0) for k in VECTOR_KINDS}
                self._drop_uncommitted_vectors()
                committed = dict(self._pending_rows)
                try:
                    yield
                    self._sync_vectors(committed)
                    write_meta(self._conn, {
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
                self._write_lock.release()

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
            write_meta(self._conn, {"embed_dim": str(dim)})
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
            for chunk in chunks(list(set(hashes)), 500):
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

    # --- passages ----------------------------------------------------------------------
    def passage_context(self, passage_ids: Sequence[str]) -> dict[str, PassageContext]:
        out: dict[str, PassageContext] = {}
        with self._lock:
            for chunk in chunks(list(passage_ids), 500):
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
            for chunk in chunks(list(set(ids)), 500):
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


    def _meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else None

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()
