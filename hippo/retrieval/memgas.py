"""``memgas``: MemGAS retrieval, Personalized PageRank over memory units joined to the passage graph.

Per query (Xu et al. 2025, section 3.3; ``run_retrieval.py`` of the MemGAS code):
1. score every memory unit (document/session, passage/turn, summary, keywords) by cosine;
2. the entropy router (:mod:`hippo.memory.router`) weighs each granularity by how sharply its
   scores single out units; a unit's routed score is its granularity's weight x its softmax
   probability within the granularity relative to a uniform pick (``w_g * N_g * p_g(u)``);
3. the ``memgas_seeds`` best routed units are the seeds, weighted by their routed scores;
4. Personalized PageRank with damping ``memgas_damping`` (MemGAS: 0.1, so the walk mostly stays
   near its seeds) over the graph of :mod:`hippo.graph.memory`: ASSOCIATED unit edges, units
   linked to their passages, and the entity/passage graph;
5. a passage's score is its PageRank mass plus that of its ``passage`` unit; a document's
   (session's) score is the mass of all its units and passages (MemGAS sums a session's nodes).

Hits are passages (turns) with their document (session); ``Hit.why.units`` names the seed units of
the hit's document and the seeds ASSOCIATED with the hit's own unit. :func:`rank_documents` gives the
session ranking, and :func:`search_units` plain dense search over units of one granularity.
A store without memory units falls back to dense retrieval and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from hippo.errors import ConfigError
from hippo.graph.memory import MemoryGraph, build_memory_graph
from hippo.graph.ppr import personalized_pagerank
from hippo.memory.router import route
from hippo.model import GRANULARITIES, Hit, Why
from hippo.retrieval.base import RetrievalContext, make_hits
from hippo.retrieval.dense import passage_table, retrieve_dense
from hippo.stores.vectors import VectorTable

__all__ = ["MemoryState", "memory_state", "rank_documents", "retrieve_memgas", "search_units"]

PPR_BATCH = 64
NO_UNITS = "dense: no memory units in the store"
_EXCERPT = 160


@dataclass(frozen=True)
class MemoryState:
    """The memory graph and the unit and passage vectors whose rows are its nodes, for one store version."""

    graph: MemoryGraph
    units: VectorTable
    passages: VectorTable


def memory_state(context: RetrievalContext) -> MemoryState:
    """The memory graph of the current store version (built once, then cached until the store changes)."""
    def build() -> MemoryState:
        from hippo.retrieval.hipporag import graph_state

        base = graph_state(context)
        units = unit_table(context)
        return MemoryState(build_memory_graph(base.graph, base.passages, units, context.store.memory_edges()),
                           units, base.passages)

    return context.cache.get("memory", build)


def unit_table(context: RetrievalContext) -> VectorTable:
    """The unit vectors, read once per store version."""
    return context.cache.get("vectors.unit", lambda: context.store.vector_table("unit"))


@dataclass(frozen=True)
class _Walk:
    """PageRank mass per node (n, q) and the seed unit rows of each query, best first."""

    mass: np.ndarray
    seeds: list[np.ndarray]


def _walk(context: RetrievalContext, state: MemoryState, queries: Sequence[str]) -> _Walk:
    settings = context.settings
    graph = state.graph
    cosine = state.units.scores(context.embedder().query(list(queries)))
    live = graph.unit_granularity >= 0
    routed, _ = route(np.where(live, cosine, 0.0), graph.unit_granularity, len(GRANULARITIES),
                            temperature=settings.memgas_temperature)
    k = min(settings.memgas_seeds, int(live.sum()))
    top = np.argpartition(-routed, k - 1, axis=1)[:, :k]
    reset = np.zeros((graph.size, len(queries)))
    seeds = []
    for column, rows in enumerate(top):
        rows = rows[routed[column, rows] > 0]
        rows = rows[np.argsort(-routed[column, rows], kind="stable")]
        seeds.append(rows)
        reset[graph.unit_base + rows, column] = routed[column, rows]
    usable = reset.sum(axis=0) > 0
    mass = np.zeros_like(reset)
    if usable.any():
        mass[:, usable] = personalized_pagerank(graph.transition, reset[:, usable], dangling=graph.dangling,
                                                damping=settings.memgas_damping)
    return _Walk(mass, seeds)


def _passage_scores(graph: MemoryGraph, mass: np.ndarray) -> np.ndarray:
    """(n_passages, q): a passage's own mass plus that of its ``passage`` units."""
    scores = mass[graph.n_entities:graph.unit_base].copy()
    own = np.flatnonzero(graph.unit_passage >= 0)
    np.add.at(scores, graph.unit_passage[own], mass[graph.unit_base + own])
    return scores


def _document_scores(graph: MemoryGraph, mass: np.ndarray) -> np.ndarray:
    """(n_docs, q): the mass of every unit and passage of each document."""
    out = np.zeros((len(graph.doc_ids), mass.shape[1]))
    passages = np.flatnonzero(graph.passage_doc >= 0)
    units = np.flatnonzero(graph.unit_doc >= 0)
    np.add.at(out, graph.passage_doc[passages], mass[graph.n_entities + passages])
    np.add.at(out, graph.unit_doc[units], mass[graph.unit_base + units])
    return out


def _has_units(state: MemoryState) -> bool:
    return bool((state.graph.unit_granularity >= 0).any())


def retrieve_memgas(context: RetrievalContext, queries: Sequence[str], k: int) -> list[list[Hit]]:
    """Top ``k`` passages per query by MemGAS's routed Personalized PageRank (see the module docstring)."""
    if passage_table(context).size == 0:
        return [[] for _ in queries]
    state = memory_state(context)
    if not _has_units(state):
        return [[_fallback(h) for h in hits] for hits in retrieve_dense(context, queries, k)]
    out: list[list[Hit]] = []
    for start in range(0, len(queries), PPR_BATCH):
        walk = _walk(context, state, queries[start:start + PPR_BATCH])
        scores = _passage_scores(state.graph, walk.mass)
        for column, seeds in enumerate(walk.seeds):
            out.append(_hits(context, state, scores[:, column], seeds, k))
    return out


def _fallback(hit: Hit) -> Hit:
    return replace(hit, method="memgas", why=Why(fallback=NO_UNITS))


def _hits(context: RetrievalContext, state: MemoryState, scores: np.ndarray, seeds: np.ndarray, k: int) -> list[Hit]:
    graph = state.graph
    live = graph.passage_doc >= 0
    ranked = np.where(live, scores, -np.inf)
    k = min(k, int(live.sum()))
    rows = np.argpartition(-ranked, k - 1)[:k] if k < ranked.size else np.arange(ranked.size)
    rows = rows[np.argsort(-ranked[rows], kind="stable")]
    rows = rows[np.isfinite(ranked[rows]) & (ranked[rows] > 0)]
    seed_units = context.store.units(state.units.ids[seeds].tolist())
    labels = {r: _label(seed_units.get(i)) for r, i in zip(seeds.tolist(), state.units.ids[seeds].tolist())}
    whys = []
    for row in rows.tolist():
        doc = graph.passage_doc[row]
        unit = int(graph.passage_unit[row])
        linked = set(graph.associations[[unit]].indices.tolist()) if unit >= 0 else set()
        led = [labels[s] for s in seeds.tolist() if labels[s] and (graph.unit_doc[s] == doc or s in linked)]
        whys.append(Why(units=tuple(led)))
    return make_hits(context, state.passages.ids[rows].tolist(), ranked[rows], "memgas", whys)


def _label(unit: object) -> str:
    if unit is None:
        return ""
    text = " ".join(unit.text.split())  # type: ignore[attr-defined]
    text = text if len(text) <= _EXCERPT else text[:_EXCERPT - 1] + "…"
    return f"{unit.granularity}: {text}"  # type: ignore[attr-defined]


def rank_documents(context: RetrievalContext, queries: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
    """The ``k`` best documents (sessions) per query as (document id, score), by MemGAS's walk.

    Without memory units, documents are ranked by their best dense passage.
    """
    state = memory_state(context)
    if not _has_units(state):
        out = []
        for hits in retrieve_dense(context, queries, max(k * 20, 100)):
            best: dict[str, float] = {}
            for hit in hits:
                best.setdefault(hit.doc_id, hit.score)
            out.append(list(best.items())[:k])
        return out
    out = []
    for start in range(0, len(queries), PPR_BATCH):
        walk = _walk(context, state, queries[start:start + PPR_BATCH])
        scores = _document_scores(state.graph, walk.mass)
        for column in range(scores.shape[1]):
            order = np.argsort(-scores[:, column], kind="stable")[:k]
            order = order[scores[order, column] > 0]
            out.append([(str(state.graph.doc_ids[i]), float(scores[i, column])) for i in order])
    return out


def search_units(context: RetrievalContext, queries: Sequence[str], k: int, granularity: str | None = None
                 ) -> list[list[tuple[str, float]]]:
    """The ``k`` units nearest each query by cosine, as (unit id, score); only ``granularity`` when given."""
    if granularity is not None and granularity not in GRANULARITIES:
        raise ConfigError(f"unknown granularity {granularity!r}; choose one of: {', '.join(GRANULARITIES)}.")
    state = memory_state(context)
    scores = state.units.scores(context.embedder().query(list(queries)))
    if granularity is not None:
        scores[:, state.graph.unit_granularity != GRANULARITIES.index(granularity)] = -np.inf
    out = []
    for row in scores:
        finite = int(np.isfinite(row).sum())
        n = min(k, finite)
        if n == 0:
            out.append([])
            continue
        top = np.argpartition(-row, n - 1)[:n]
        top = top[np.argsort(-row[top], kind="stable")]
        out.append([(str(state.units.ids[r]), float(row[r])) for r in top])
    return out
