"""``hippo check``: is the embedded store whole? SQLite integrity, vectors, graph edges, orphans.

(A Neo4j store is checked for the same invariants by :mod:`hippo.stores.neo4j_check`, in the same report.)

Every write path is meant to keep these invariants (one transaction per batch, vectors flushed
before the rows that point at them commit, cascading deletes); this module verifies them from the
outside, so a crash test, a user after a power cut, or a bug report can tell a sound store from a
damaged one. Everything is read in one SQLite read transaction, and the vector files are measured
against the row counts committed in that same snapshot, so the check runs safely beside a writer.

What is checked:

- ``sqlite``: ``PRAGMA integrity_check`` (pages, indexes, constraints of the file itself);
- vectors, per kind (passage, entity, fact, unit, cluster): the file holds at least the committed
  rows; every record's ``vec_row`` lies below that count and belongs to one record only; every live
  row is finite and non-zero (a zero row is a hole: bytes that never reached the disk);
- graph edges: RELATES is not stored but counted from ``fact_sources`` whenever the graph is built
  (:meth:`SQLiteStore.graph_edges`), so its weights equal the supporting (fact, passage) pairs by
  construction; what can break is what it is counted from, so facts must name existing entities and
  have a source, each source must be an existing passage that MENTIONS the fact's subject and object,
  and MENTIONS, SYNONYM and ASSOCIATED edges must join existing records;
- orphans: entities with no mention and no fact, facts with no source, passages without a
  document, documents without passages, units and cluster members pointing at missing records.

Bytes past the committed rows of a vector file are not a problem: a write killed before its
commit leaves them, and the next write cuts them off. They are reported as a note.
"""

from __future__ import annotations

import fcntl
import math
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hippo.errors import StoreError
from hippo.stores.base import GraphStore
from hippo.stores.schema import KIND_TABLE, VECTOR_KINDS

__all__ = ["EXAMPLES", "Problem", "StoreCheck", "check_folder", "check_store"]

EXAMPLES = 5
"""Example ids kept per kind of problem."""
NORM_CHUNK_ROWS = 65536
"""Vector rows read at a time when checking norms (bounded memory on large stores)."""


@dataclass(frozen=True)
class Problem:
    """One kind of damage: how many records have it and a few of their ids."""

    kind: str
    count: int
    examples: tuple[str, ...]
    detail: str


@dataclass(frozen=True)
class StoreCheck:
    """What :func:`check_store` found: ``ok`` when ``problems`` is empty.

    ``checked`` counts the records looked at by kind; ``notes`` are facts worth knowing that are not
    damage (uncommitted vector bytes, a writer at work).
    """

    store: str
    problems: tuple[Problem, ...] = ()
    checked: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem_counts(self) -> dict[str, int]:
        """Damaged records by kind of problem."""
        return {p.kind: p.count for p in self.problems}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


# (kind, what it means, FROM ... WHERE ... clause, the id shown as an example)
_ORPHANS: tuple[tuple[str, str, str, str], ...] = (
    (
        "passage without document",
        "a passage whose document is gone",
        "passages p WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = p.doc_id)",
        "p.id",
    ),
    (
        "document without passages",
        "a document with no passage (nothing of it can be retrieved)",
        "documents d WHERE NOT EXISTS (SELECT 1 FROM passages p WHERE p.doc_id = d.id)",
        "d.id",
    ),
    (
        "orphan entity",
        "an entity that no passage mentions and no fact uses",
        "entities e WHERE NOT EXISTS (SELECT 1 FROM mentions m WHERE m.entity_id = e.id) "
        "AND NOT EXISTS (SELECT 1 FROM facts f WHERE f.subject_id = e.id) "
        "AND NOT EXISTS (SELECT 1 FROM facts f WHERE f.object_id = e.id)",
        "e.id",
    ),
    (
        "fact without source",
        "a fact no passage supports (it would add a RELATES edge of weight 0)",
        "facts f WHERE NOT EXISTS (SELECT 1 FROM fact_sources s WHERE s.fact_id = f.id)",
        "f.id",
    ),
    (
        "fact with missing entity",
        "a fact whose subject or object entity is gone",
        "facts f WHERE NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = f.subject_id) "
        "OR NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = f.object_id)",
        "f.id",
    ),
    (
        "fact source with missing record",
        "a fact's source names a missing fact or passage",
        "fact_sources s WHERE NOT EXISTS (SELECT 1 FROM facts f WHERE f.id = s.fact_id) "
        "OR NOT EXISTS (SELECT 1 FROM passages p WHERE p.id = s.passage_id)",
        "s.fact_id || ' @ ' || s.passage_id",
    ),
    (
        "fact not mentioned by its source",
        "a fact's source passage does not MENTION its subject and object",
        "fact_sources s JOIN facts f ON f.id = s.fact_id "
        "WHERE NOT EXISTS (SELECT 1 FROM mentions m WHERE m.passage_id = s.passage_id AND m.entity_id = f.subject_id) "
        "OR NOT EXISTS (SELECT 1 FROM mentions m WHERE m.passage_id = s.passage_id AND m.entity_id = f.object_id)",
        "s.fact_id || ' @ ' || s.passage_id",
    ),
    (
        "mention with missing record",
        "a MENTIONS edge to a missing passage or entity",
        "mentions m WHERE NOT EXISTS (SELECT 1 FROM passages p WHERE p.id = m.passage_id) "
        "OR NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = m.entity_id)",
        "m.passage_id || ' - ' || m.entity_id",
    ),
    (
        "synonym with missing entity",
        "a SYNONYM edge to a missing entity, or from an entity to itself",
        "synonyms s WHERE s.a = s.b OR NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = s.a) "
        "OR NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = s.b)",
        "s.a || ' - ' || s.b",
    ),
    (
        "unit with missing record",
        "a memory unit whose document or passage is gone",
        "units u WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = u.doc_id) "
        "OR (u.passage_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM passages p WHERE p.id = u.passage_id))",
        "u.id",
    ),
    (
        "association with missing unit",
        "an ASSOCIATED edge to a missing memory unit",
        "associations a WHERE NOT EXISTS (SELECT 1 FROM units u WHERE u.id = a.a) "
        "OR NOT EXISTS (SELECT 1 FROM units u WHERE u.id = a.b)",
        "a.a || ' - ' || a.b",
    ),
    (
        "cluster member with missing record",
        "an IN_CLUSTER edge to a missing cluster or passage",
        "cluster_members c WHERE NOT EXISTS (SELECT 1 FROM clusters k WHERE k.id = c.cluster_id) "
        "OR NOT EXISTS (SELECT 1 FROM passages p WHERE p.id = c.passage_id)",
        "c.cluster_id || ' @ ' || c.passage_id",
    ),
)


def check_store(store: GraphStore) -> StoreCheck:
    """Check the open ``store``: the embedded store's files, or a Neo4j store's graph through Cypher."""
    from hippo.stores.neo4j import Neo4jStore
    from hippo.stores.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return check_folder(store.path)
    if isinstance(store, Neo4jStore):
        from hippo.stores.neo4j_check import check_neo4j

        return check_neo4j(store)
    raise StoreError(
        f"hippo check knows the embedded and the Neo4j store; {store.location} is a {type(store).__name__}."
    )


def check_folder(folder: str | Path) -> StoreCheck:
    """Check the embedded store in ``folder`` (read only; safe while another process writes).

    Raises :class:`StoreError` when the folder holds no store or its database cannot be opened.
    """
    from hippo.stores.sqlite import DB_NAME

    started = time.perf_counter()
    folder = Path(folder)
    db = folder / DB_NAME
    if not db.is_file():
        raise StoreError(f"no hippo store at {folder}; nothing to check.")
    try:
        conn = sqlite3.connect(db, isolation_level=None, timeout=30.0)
        conn.execute("PRAGMA query_only=ON")
        conn.execute("BEGIN")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open {db}: {exc}.") from exc
    problems: list[Problem] = []
    notes: list[str] = []
    checked: dict[str, int] = {}
    try:
        problems += _integrity(conn)
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        for table in (
            "documents",
            "passages",
            "entities",
            "facts",
            "mentions",
            "synonyms",
            "units",
            "associations",
            "clusters",
            "cluster_members",
            "fact_sources",
        ):
            checked[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        problems += _vectors(conn, folder, meta, notes)
        problems += _orphans(conn)
    except sqlite3.DatabaseError as exc:
        problems.append(Problem("sqlite", 1, (str(exc),), "the database could not be read to the end"))
    finally:
        conn.close()  # ends the read transaction (nothing was written)
    holder = _writer(folder)
    if holder:
        notes.append(f"a writer is at work ({holder}); the check saw the last committed batch")
    return StoreCheck(str(folder), tuple(problems), checked, tuple(notes), time.perf_counter() - started)


def _integrity(conn: sqlite3.Connection) -> list[Problem]:
    messages = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    if messages == ["ok"]:
        return []
    return [Problem("sqlite", len(messages), tuple(messages[:EXAMPLES]), "SQLite's integrity check failed")]


def _orphans(conn: sqlite3.Connection) -> list[Problem]:
    found = []
    for kind, detail, where, shown in _ORPHANS:
        count = conn.execute(f"SELECT COUNT(*) FROM {where}").fetchone()[0]
        if count:
            examples = tuple(r[0] for r in conn.execute(f"SELECT {shown} FROM {where} LIMIT {EXAMPLES}"))
            found.append(Problem(kind, count, examples, detail))
    return found


def _vectors(conn: sqlite3.Connection, folder: Path, meta: dict[str, str], notes: list[str]) -> list[Problem]:
    """Vector files against the committed row counts and the ``vec_row`` of every record."""
    found: list[Problem] = []
    committed = {kind: int(meta.get(f"rows.{kind}", "0")) for kind in VECTOR_KINDS}
    dim = int(meta["embed_dim"]) if meta.get("embed_dim") else None
    if dim is None:
        used = [k for k, rows in committed.items() if rows]
        if used:
            found.append(
                Problem(
                    "vectors without dimension",
                    len(used),
                    tuple(used),
                    "rows are committed but the store has no embedding dimension",
                )
            )
        return found
    for kind in VECTOR_KINDS:
        table, rows = KIND_TABLE[kind], committed[kind]
        path = folder / "vectors" / f"{kind}.f32"
        size = path.stat().st_size if path.exists() else 0
        if size < rows * dim * 4:
            found.append(
                Problem(
                    "vector file too short",
                    rows - size // (dim * 4),
                    (f"{kind}: {path.name}",),
                    f"{path.name} holds {size // (dim * 4):,} row(s) but {rows:,} are committed",
                )
            )
            continue
        if size > rows * dim * 4:
            extra = size / (dim * 4) - rows
            notes.append(
                f"{path.name}: {math.ceil(extra):,} uncommitted row(s) past the {rows:,} committed "
                "(left by an interrupted write; the next write drops them)"
            )
        where = f"{table} WHERE vec_row < 0 OR vec_row >= {rows}"
        count = conn.execute(f"SELECT COUNT(*) FROM {where}").fetchone()[0]
        if count:
            examples = tuple(r[0] for r in conn.execute(f"SELECT id FROM {where} LIMIT {EXAMPLES}"))
            found.append(
                Problem(
                    "vector row out of range",
                    count,
                    examples,
                    f"a {kind} points past the {rows:,} committed rows of {path.name}",
                )
            )
        shared = conn.execute(f"SELECT vec_row FROM {table} GROUP BY vec_row HAVING COUNT(*) > 1").fetchall()
        if shared:
            found.append(
                Problem(
                    "vector row shared",
                    len(shared),
                    tuple(f"{kind} row {r[0]}" for r in shared[:EXAMPLES]),
                    f"several {table} point at one row of {path.name}",
                )
            )
        found += _bad_rows(conn, path, table, kind, rows, dim)
    return found


def _bad_rows(conn: sqlite3.Connection, path: Path, table: str, kind: str, rows: int, dim: int) -> list[Problem]:
    """Live rows that are not finite or are all zero (a hole: bytes that never reached the disk)."""
    if rows == 0:
        return []
    owners = conn.execute(f"SELECT vec_row, id FROM {table} WHERE vec_row >= 0 AND vec_row < ?", (rows,)).fetchall()
    if not owners:
        return []
    live = np.fromiter((r for r, _ in owners), dtype=np.int64, count=len(owners))
    order = np.argsort(live)
    live = live[order]
    matrix = np.memmap(path, dtype=np.float32, mode="r", shape=(rows, dim))
    bad: list[int] = []
    for start in range(0, len(live), NORM_CHUNK_ROWS):
        chunk = live[start : start + NORM_CHUNK_ROWS]
        block = np.asarray(matrix[chunk])
        norms = np.linalg.norm(block, axis=1)
        bad += (start + np.flatnonzero(~np.isfinite(norms) | (norms == 0))).tolist()
    del matrix
    if not bad:
        return []
    examples = tuple(owners[int(order[i])][1] for i in bad[:EXAMPLES])
    return [
        Problem(
            "vector missing or not finite",
            len(bad),
            examples,
            f"a {kind}'s vector in {path.name} is all zeros or holds NaN/inf",
        )
    ]


def _writer(folder: Path) -> str | None:
    """Who holds the write lock right now (from the lock file), or None when nobody does."""
    from hippo.stores.sqlite import LOCK_NAME, lock_holder

    path = folder / LOCK_NAME
    if not path.exists():
        return None
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return lock_holder(handle)
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None
