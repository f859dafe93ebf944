"""Copy one store into another through the ``GraphStore`` interface: ``hippo export --to`` and ``--from``.

Any two stores work (embedded to Neo4j, Neo4j to embedded, embedded to embedded), because only
interface methods are used. Records are copied kind by kind in insertion order (so the target
allocates its vector rows in the same order, minus rows freed by deletions), in transactions of
``batch`` records, with their vectors: nothing is re-embedded or re-extracted.

A copy that stops half-way (a lost server, Ctrl-C) can be run again: documents, entities, facts,
units and clusters already in the target are skipped, and edges are written idempotently. A target
that holds documents the source does not have is refused, naming how many, so two stores are never
merged by accident; ``merge=True`` (``hippo export --merge``) merges them on purpose.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from hippo.errors import StoreError
from hippo.model import Cluster, Document, Matrix, Passage, content_hash
from hippo.stores.base import GraphStore, PassageContext
from hippo.stores.vectors import VectorTable

__all__ = ["CopyReport", "copy_store", "foreign_documents"]

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 256
"""Documents per transaction (the ingest default); other kinds go ``EDGE_FACTOR`` times as many per transaction."""
EDGE_FACTOR = 20


@dataclass
class CopyReport:
    """What a copy wrote, by kind; ``skipped`` counts records the target already had (a resumed copy)."""

    documents: int = 0
    passages: int = 0
    files: int = 0
    entities: int = 0
    facts: int = 0
    mentions: int = 0
    fact_sources: int = 0
    synonyms: int = 0
    units: int = 0
    associations: int = 0
    clusters: int = 0
    skipped: int = 0
    seconds: float = 0.0
    source: str = ""
    target: str = ""
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Records written, by kind (documents first)."""
        data = asdict(self)
        return {
            name: data[name]
            for name in (
                "documents",
                "passages",
                "files",
                "entities",
                "facts",
                "mentions",
                "fact_sources",
                "synonyms",
                "units",
                "associations",
                "clusters",
            )
        }


@dataclass
class _Copy:
    """One copy in progress: the two stores, the report so far, and the passage ids copied (for the edges)."""

    source: GraphStore
    target: GraphStore
    report: CopyReport
    batch: int
    passage_ids: list[str] = field(default_factory=list)


def copy_store(
    source: GraphStore, target: GraphStore, *, batch: int = DEFAULT_BATCH, merge: bool = False
) -> CopyReport:
    """Copy everything in ``source`` into ``target``; return what was written.

    ``target`` must use the same embedding model and, unless ``merge``, hold no document the source
    lacks (an empty store, or an earlier, interrupted copy of it); open it with ``source.settings`` so
    a new one is built alike. With ``merge`` the source's records are added to whatever it holds.
    """
    if batch < 1:
        raise ValueError(f"batch={batch} must be at least 1.")
    _check_target(source, target, merge)
    run = _Copy(source, target, CopyReport(source=source.location, target=target.location), batch)
    started = time.perf_counter()
    stages = (
        ("documents", _copy_documents),
        ("entities", _copy_entities),
        ("facts", _copy_facts),
        ("edges", _copy_edges),
        ("units", _copy_units),
        ("clusters", _copy_clusters),
    )
    for name, stage in stages:
        stage_started = time.perf_counter()
        stage(run)
        run.report.stage_seconds[name] = round(time.perf_counter() - stage_started, 3)
        logger.info("copy %s -> %s: %s done", source.location, target.location, name)
    run.report.seconds = time.perf_counter() - started
    return run.report


def _check_target(source: GraphStore, target: GraphStore, merge: bool) -> None:
    """Refuse another embedding model always, and a target with documents the source lacks unless ``merge``."""
    if source.settings.embed_model != target.settings.embed_model:
        raise StoreError(
            f"{target.location} holds vectors of {target.settings.embed_model} but {source.location} "
            f"holds {source.settings.embed_model}; copy into an empty store."
        )
    extra = foreign_documents(source, target)
    if extra and not merge:
        raise StoreError(
            f"{target.location} already holds {len(extra):,} document(s) that {source.location} does "
            f"not (e.g. {extra[0]}), so the copy would merge two stores; give --merge (merge=True) to do "
            "that, or copy into an empty store. Nothing was written."
        )
    if extra:
        logger.info("merging %s into %s, which holds %d other document(s)", source.location, target.location,
                    len(extra))


def foreign_documents(source: GraphStore, target: GraphStore) -> list[str]:
    """Ids of the documents in ``target`` that ``source`` does not hold, in the target's order.

    None for an empty target or an interrupted copy of ``source``, which may be resumed.
    """
    ours = {s.document.id for s in source.list_documents()}
    return [s.document.id for s in target.list_documents() if s.document.id not in ours]


def _copy_documents(run: _Copy) -> None:
    """Documents with their passages and passage vectors, ``batch`` documents per transaction; then the files."""
    documents = {s.document.id: s.document for s in run.source.list_documents()}
    present = {s.document.id for s in run.target.list_documents()}
    table = run.source.vector_table("passage")
    row_of = _row_map(table)
    pending: list[tuple[Document, list[Passage]]] = []
    for doc_id, contexts in _passages_by_document(run.source.iter_passages(), documents):
        run.passage_ids.extend(c.passage_id for c in contexts)
        if doc_id in present:
            run.report.skipped += 1
            continue
        passages = [
            Passage(c.passage_id, c.doc_id, c.position, c.text, content_hash(c.text), c.key, c.time) for c in contexts
        ]
        pending.append((documents[doc_id], passages))
        if len(pending) >= run.batch:
            _write_documents(run, pending, table, row_of)
            pending = []
    _write_documents(run, pending, table, row_of)
    files = run.source.list_files()
    if files:
        with run.target.transaction():
            for path, file_hash, size in files:
                run.target.set_file(path, file_hash, size)
        run.report.files = len(files)


def _passages_by_document(
    contexts: Iterator[PassageContext], documents: dict[str, Document]
) -> Iterator[tuple[str, list[PassageContext]]]:
    """Each document's passages (a store writes a document's passages together), then passage-less documents."""
    seen: set[str] = set()
    current: list[PassageContext] = []
    for context in contexts:
        if current and context.doc_id != current[0].doc_id:
            seen.add(current[0].doc_id)
            yield current[0].doc_id, current
            current = []
        if context.doc_id in seen:
            raise StoreError(
                f"the passages of document {context.doc_id} are not stored together; "
                "this store cannot be copied in one pass."
            )
        current.append(context)
    if current:
        seen.add(current[0].doc_id)
        yield current[0].doc_id, current
    for doc_id in documents:
        if doc_id not in seen:
            yield doc_id, []


def _write_documents(
    run: _Copy, pending: list[tuple[Document, list[Passage]]], table: VectorTable, row_of: dict[str, int]
) -> None:
    if not pending:
        return
    with run.target.transaction():
        if table.matrix.shape[0]:
            run.target.set_embedding_dim(table.matrix.shape[1])
        for document, passages in pending:
            run.target.put_document(document, passages, _vectors(table, row_of, [p.id for p in passages]))
            run.report.documents += 1
            run.report.passages += len(passages)


def _copy_entities(run: _Copy) -> None:
    table = run.source.vector_table("entity")
    row_of = _row_map(table)
    for ids in _new_ids(run, table, lambda chunk: run.target.known_ids("entity", chunk), run.batch * EDGE_FACTOR):
        found = run.source.entities(ids)
        with run.target.transaction():
            run.target.set_embedding_dim(table.matrix.shape[1])
            run.target.put_graph([found[i] for i in ids], _vectors(table, row_of, ids), [], _empty(table), [], [])
        run.report.entities += len(ids)


def _copy_facts(run: _Copy) -> None:
    table = run.source.vector_table("fact")
    row_of = _row_map(table)
    for ids in _new_ids(run, table, lambda chunk: run.target.known_ids("fact", chunk), run.batch * EDGE_FACTOR):
        found = run.source.facts(ids)
        with run.target.transaction():
            run.target.set_embedding_dim(table.matrix.shape[1])
            run.target.put_graph([], _empty(table), [found[i] for i in ids], _vectors(table, row_of, ids), [], [])
        run.report.facts += len(ids)


def _copy_edges(run: _Copy) -> None:
    """MENTIONS and fact provenance by passage (in recorded order), then SYNONYM edges."""
    step = run.batch * EDGE_FACTOR
    none = np.zeros((0, 0), dtype=np.float32)
    for start in range(0, len(run.passage_ids), step):
        chunk = run.passage_ids[start : start + step]
        mentions = [(p, e.id) for p, entities in run.source.mentions_of_passages(chunk).items() for e in entities]
        sources = run.source.fact_sources(chunk)
        if mentions or sources:
            with run.target.transaction():
                run.target.put_graph([], none, [], none, mentions, sources)
            run.report.mentions += len(mentions)
            run.report.fact_sources += len(sources)
    for rows in _row_chunks(run.source.graph_edges().synonyms, step):
        with run.target.transaction():
            run.target.put_synonyms(rows)
        run.report.synonyms += len(rows)


def _copy_units(run: _Copy) -> None:
    """MemGAS units with their vectors, then their ASSOCIATED edges."""
    table = run.source.vector_table("unit")
    row_of = _row_map(table)
    step = run.batch * EDGE_FACTOR
    for ids in _new_ids(run, table, lambda chunk: set(run.target.units(chunk)), step):
        found = run.source.units(ids)
        with run.target.transaction():
            run.target.set_embedding_dim(table.matrix.shape[1])
            run.target.put_units([found[i] for i in ids], _vectors(table, row_of, ids))
        run.report.units += len(ids)
    for rows in _row_chunks(run.source.memory_edges().associations, step):
        with run.target.transaction():
            run.target.put_associations(rows)
        run.report.associations += len(rows)


def _copy_clusters(run: _Copy) -> None:
    """ComoRAG's clusters with their vectors and IN_CLUSTER edges, then the layer build's record."""
    table = run.source.vector_table("cluster")
    row_of = _row_map(table)
    members: dict[str, list[tuple[str, str, float]]] = {}
    for c, p, w in zip(*run.source.cluster_edges().members):
        members.setdefault(c, []).append((c, p, w))
    for ids in _new_ids(run, table, lambda chunk: set(run.target.clusters(chunk)), run.batch):
        found = run.source.clusters(ids)
        clusters: list[Cluster] = [found[i] for i in ids]
        with run.target.transaction():
            run.target.set_embedding_dim(table.matrix.shape[1])
            edges = [m for i in ids for m in members.get(i, [])]
            run.target.put_clusters(clusters, _vectors(table, row_of, ids), edges)
        run.report.clusters += len(ids)
    info = run.source.layer_info()
    if info and info != run.target.layer_info():
        with run.target.transaction():
            run.target.set_layer_info(info)


def _new_ids(run: _Copy, table: VectorTable, known: Callable[[list[str]], set[str]], size: int) -> Iterator[list[str]]:
    """Live ids of ``table`` in row order, ``size`` at a time, leaving out (and counting) those ``known`` returns."""
    live = table.ids[np.flatnonzero(table.live)].tolist()
    for start in range(0, len(live), size):
        chunk = live[start : start + size]
        have = known(chunk)
        run.report.skipped += len(have)
        fresh = [i for i in chunk if i not in have]
        if fresh:
            yield fresh


def _row_chunks(columns: tuple[list[str], list[str], list[float]], size: int) -> Iterator[list[tuple[str, str, float]]]:
    """Parallel edge columns as lists of (a, b, weight) rows, ``size`` at a time."""
    rows = list(zip(*columns))
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _row_map(table: VectorTable) -> dict[str, int]:
    live = np.flatnonzero(table.live)
    return dict(zip(table.ids[live].tolist(), live.tolist()))


def _vectors(table: VectorTable, row_of: dict[str, int], ids: Sequence[str]) -> Matrix:
    if not ids:
        return _empty(table)
    return np.ascontiguousarray(np.asarray(table.matrix)[[row_of[i] for i in ids]], dtype=np.float32)


def _empty(table: VectorTable) -> Matrix:
    return np.zeros((0, table.matrix.shape[1] if table.matrix.ndim == 2 else 0), dtype=np.float32)
