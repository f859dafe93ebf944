"""``hippo check`` on a Neo4j store: the embedded store's invariants, read with Cypher one page at a time.

The server keeps its own files sound, but not hippo's rules: every record's vector row lies below the
committed count and belongs to it alone, every vector is there, finite and non-zero, RELATES weights
equal the (fact, passage) pairs behind them, facts name their entities and have sources that mention
them, and nothing is orphaned. The report has the embedded check's shape and problem names
(:class:`~hippo.stores.check.StoreCheck`), with one kind only Neo4j can have ("relates weight wrong",
since there RELATES is stored rather than counted when the graph is read) and a ``schema`` kind in
place of SQLite's integrity check (constraints and indexes present and online, the vector index unquantized).

Nodes are read in pages of :data:`CHECK_BATCH` in id order, each page in its own read transaction, so
neither the server nor this process ever holds more than a page (vectors included). Neo4j has no
snapshot reads: a batch committed while the check runs can show as a problem, so a version that moved
during the check is reported as a note, saying to run it again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hippo.stores import neo4j_cypher as cypher
from hippo.stores.check import EXAMPLES, Problem, StoreCheck
from hippo.stores.neo4j_meta import meta_of, vector_index_plan

if TYPE_CHECKING:
    from hippo.stores.neo4j import Neo4jStore
    from hippo.stores.neo4j_connection import Neo4jConnection

__all__ = ["CHECK_BATCH", "Tally", "VectorAudit", "check_neo4j", "judge_page"]

CHECK_BATCH = 1000
"""Nodes per page: with 384-wide vectors about 3 MB on the wire (and 1,000 ids in the server's sort)."""


@dataclass
class _Found:
    count: int = 0
    examples: list[str] = field(default_factory=list)


class Tally:
    """Problems found so far, by (kind, detail), in the order first seen, with up to ``EXAMPLES`` ids each."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str], _Found] = {}

    def add(self, kind: str, detail: str, example: str, count: int = 1) -> None:
        found = self._found.setdefault((kind, detail), _Found())
        found.count += count
        if len(found.examples) < EXAMPLES:
            found.examples.append(example)

    def problems(self) -> tuple[Problem, ...]:
        return tuple(Problem(kind, f.count, tuple(f.examples), detail) for (kind, detail), f in self._found.items())


class VectorAudit:
    """One kind's vectors, page by page: each ``vec_row`` below the committed ``rows`` and owned once, and
    each vector ``dim`` wide, finite and non-zero (the embedded check's rules for its vector files)."""

    def __init__(self, kind: str, rows: int, dim: int) -> None:
        self.kind, self.rows, self.dim = kind, rows, dim
        self.owners = np.zeros(rows, dtype=np.int32)

    def page(self, ids: Sequence[str], vec_rows: Sequence[Any], vectors: Sequence[Any], tally: Tally) -> None:
        """Judge one page of ``(id, vec_row, embedding)`` columns."""
        for record_id, row in zip(ids, vec_rows):
            if row is None or not 0 <= int(row) < self.rows:
                tally.add("vector row out of range", f"a {self.kind} points past the {self.rows:,} committed rows "
                          f"of its kind (or has no row)", record_id)
            else:
                self.owners[int(row)] += 1
        for record_id, vector in zip(ids, vectors):
            if not _sound_vector(vector, self.dim):
                tally.add("vector missing or not finite", f"a {self.kind}'s vector is missing, not {self.dim} wide, "
                          "all zeros or holds NaN/inf", record_id)

    def finish(self, tally: Tally) -> None:
        """Count the rows several records point at (once every page has been seen)."""
        shared = np.flatnonzero(self.owners > 1)
        if len(shared):
            tally.add("vector row shared", f"several {self.kind} records point at one vector row",
                      f"{self.kind} row {shared[0]}", count=len(shared))
            for row in shared[1:EXAMPLES]:
                tally.add("vector row shared", f"several {self.kind} records point at one vector row",
                          f"{self.kind} row {row}", count=0)


def _sound_vector(vector: Any, dim: int) -> bool:
    if vector is None or len(vector) != dim:
        return False
    values = np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(values))
    return bool(np.isfinite(norm) and norm > 0)


# Per label: (column, value that means damage, problem kind, detail). Columns follow CHECK_PAGES.
_FLAGS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "document": (("has_passages", "document without passages",
                  "a document with no passage (nothing of it can be retrieved)"),),
    "passage": (("in_document", "passage without document", "a passage whose document is gone"),),
    "entity": (("used", "orphan entity", "an entity that no passage mentions and no fact uses"),),
    "fact": (
        ("has_source", "fact without source", "a fact no passage supports (it would add a RELATES edge of weight 0)"),
        ("has_entities", "fact with missing entity", "a fact whose subject or object entity is gone"),
    ),
    "unit": (("has_records", "unit with missing record", "a memory unit whose document or passage is gone"),),
    "cluster": (),
}
_COLUMNS = {
    "document": ("id", "has_passages"),
    "passage": ("id", "vec_row", "embedding", "in_document"),
    "entity": ("id", "vec_row", "embedding", "used", "relates"),
    "fact": ("id", "vec_row", "embedding", "has_source", "has_entities", "unmentioned", "has_relates"),
    "unit": ("id", "vec_row", "embedding", "has_records"),
    "cluster": ("id", "vec_row", "embedding"),
}
"""The columns of each :data:`~hippo.stores.neo4j_cypher.CHECK_PAGES` statement, in order."""


def judge_page(kind: str, rows: Sequence[Sequence[Any]], tally: Tally, audit: VectorAudit | None) -> None:
    """Record the problems of one page of ``kind``'s nodes (rows as :data:`_COLUMNS` names them)."""
    named = [dict(zip(_COLUMNS[kind], row, strict=True)) for row in rows]
    for column, problem, detail in _FLAGS[kind]:
        for node in named:
            if not node[column]:
                tally.add(problem, detail, node["id"])
    if kind == "entity":
        for node in named:
            for other, weight, pairs in node["relates"]:
                if weight is None or int(weight) != int(pairs):
                    tally.add("relates weight wrong", "a RELATES edge whose weight is not the number of "
                              "(fact, passage) pairs behind it", f"{node['id']} -> {other} ({weight} != {pairs})")
    if kind == "fact":
        for node in named:
            for passage_id in node["unmentioned"]:
                tally.add("fact not mentioned by its source",
                          "a fact's source passage does not MENTION its subject and object",
                          f"{node['id']} @ {passage_id}")
            if node["has_source"] and node["has_entities"] and not node["has_relates"]:
                tally.add("relates edge missing", "a fact with sources whose subject-object pair has no RELATES edge",
                          node["id"])
    if audit is not None and named:
        audit.page([n["id"] for n in named], [n["vec_row"] for n in named], [n["embedding"] for n in named], tally)


def pages(conn: Neo4jConnection, query: str, size: int = CHECK_BATCH) -> Iterator[list[list[Any]]]:
    """The rows of a page statement, ``size`` nodes at a time, in id order (each page one read)."""
    after = ""
    while rows := conn.rows(query, after=after, limit=size):
        yield rows
        if len(rows) < size:
            return
        after = rows[-1][0]


def check_neo4j(store: Neo4jStore, size: int = CHECK_BATCH) -> StoreCheck:
    """Check the Neo4j store ``store`` (read only; safe while another process writes)."""
    started = time.perf_counter()
    conn = store.connection
    meta = meta_of(conn.rows(cypher.READ_META, key=cypher.META_KEY))
    tally = Tally()
    checked = dict(zip(cypher.CHECKED_NAMES, (int(n) for n in conn.rows(cypher.CHECK_COUNTS)[0])))
    dim = int(meta["embed_dim"]) if meta.get("embed_dim") is not None else None
    _check_schema(conn, dim, tally)
    committed = {kind: int(meta.get(key) or 0) for kind, key in cypher.ROW_KEYS.items()}
    if dim is None and any(committed.values()):
        for kind in (k for k, rows in committed.items() if rows):
            tally.add("vectors without dimension", "rows are committed but the store has no embedding dimension", kind)
    for kind in _COLUMNS:
        audit = VectorAudit(kind, committed[kind], dim) if dim is not None and kind in committed else None
        for rows in pages(conn, cypher.CHECK_PAGES[kind], size):
            judge_page(kind, rows, tally, audit)
        if audit is not None:
            audit.finish(tally)
    _check_edges(conn, tally)
    notes = _notes(meta, meta_of(conn.rows(cypher.READ_META, key=cypher.META_KEY)))
    return StoreCheck(store.location, tally.problems(), checked, notes, time.perf_counter() - started)


def _check_schema(conn: Neo4jConnection, dim: int | None, tally: Tally) -> None:
    """The constraints and range indexes exist, every index is online, and the vector index is as wanted."""
    constraints = {row[0] for row in conn.schema_rows(cypher.SHOW_CONSTRAINTS)}
    states = {name: state for name, state in conn.schema_rows(cypher.SHOW_INDEXES)}
    detail = "a constraint or index the store relies on is missing, not online, or has other settings"
    for name in cypher.CONSTRAINT_NAMES:
        if name not in constraints:
            tally.add("schema", detail, f"{name}: missing")
    for name in cypher.INDEX_NAMES:
        if name not in states:
            tally.add("schema", detail, f"{name}: missing")
    for name, state in states.items():
        if name.startswith("hippo_") and state != "ONLINE":
            tally.add("schema", detail, f"{name}: {state}")
    if dim is not None:
        shown = [dict(zip(("name", "labelsOrTypes", "properties", "options"), row))
                 for row in conn.schema_rows(cypher.SHOW_VECTOR_INDEXES)]
        plan = vector_index_plan(shown, dim)
        for kind in plan.create:
            if kind not in plan.drop:
                tally.add("schema", detail, f"{cypher.VECTOR_INDEX[kind]}: missing")
        for reason in plan.reasons:
            tally.add("schema", detail, reason)


def _check_edges(conn: Neo4jConnection, tally: Tally) -> None:
    """Edges that join the wrong kinds of node, counted in one statement, with examples for those found."""
    counts = conn.rows(cypher.EDGE_CHECK_COUNTS)[0]
    details = {
        "fact source with missing record": "a STATED_IN edge from something other than a fact or to a non-passage",
        "mention with missing record": "a MENTIONS edge that does not join a passage to an entity",
        "synonym with missing entity": "a SYNONYM edge that does not join two entities, or joins one to itself",
        "association with missing unit": "an ASSOCIATED edge that does not join two memory units",
        "cluster member with missing record": "an IN_CLUSTER edge that does not join a passage to a cluster",
        "relates with missing entity": "a RELATES edge that does not join two entities",
    }
    for kind, count in zip(cypher.EDGE_CHECK_KINDS, counts):
        if count:
            examples = conn.rows(cypher.EDGE_CHECK_EXAMPLES[kind], limit=EXAMPLES)
            for i, (a, b) in enumerate(examples):
                tally.add(kind, details[kind], f"{a} - {b}", count=int(count) if i == 0 else 0)
            if not examples:
                tally.add(kind, details[kind], "(gone before the examples were read)", count=int(count))


def _notes(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    """Said when the store changed while it was checked (Neo4j reads are not one snapshot)."""
    if not after:
        return ("the store was dropped while it was checked",)
    if before.get("version") != after.get("version"):
        return (
            f"the store changed while it was checked (version {before.get('version')} -> {after.get('version')}); "
            "a batch committed meanwhile can show as a problem: run the check again",
        )
    return ()
