"""ComoRAG's tri-retrieve: the base method (veridical layer) plus the semantic and episodic layers.

A layer's passages are the members of its :data:`LAYER_CLUSTERS` best clusters (or windows),
scored by ``0.5 x cluster cosine x membership + 0.5 x passage cosine``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from hippo.model import EPISODIC_LEVEL, Why
from hippo.retrieval.base import RetrievalContext, get_method
from hippo.retrieval.comorag.llm import llm_client
from hippo.retrieval.comorag.pool import POOL_K, W_LAYER, RankedList
from hippo.retrieval.dense import passage_table
from hippo.stores.vectors import VectorTable

__all__ = ["LAYER_CLUSTERS", "LayerState", "ensure_layers", "layer_state", "tri_retrieve"]

logger = logging.getLogger(__name__)

LAYER_CLUSTERS = 3
"""Clusters (or windows) of a layer whose passages a retrieval reads."""


@dataclass(frozen=True)
class LayerState:
    """Cluster vectors and their IN_CLUSTER weights, for one store version.

    ``levels[row]`` is the level of cluster vector row ``row`` (-1 for a dead row);
    ``membership`` has shape (cluster rows, passage rows).
    """

    clusters: VectorTable
    levels: np.ndarray
    membership: sp.csr_array

    @property
    def empty(self) -> bool:
        return self.clusters.size == 0


def layer_state(context: RetrievalContext) -> LayerState:
    """The layers of the current store version (built once, then cached until the store changes)."""
    def build() -> LayerState:
        store = context.store
        table = store.vector_table("cluster")
        passages = passage_table(context)
        edges = store.cluster_edges()
        rows = {c: r for r, c in enumerate(table.ids.tolist()) if c}
        levels = np.full(len(table.ids), -1, dtype=np.int64)
        for cid, level in zip(*edges.clusters):
            if cid in rows:
                levels[rows[cid]] = level
        p_live = np.flatnonzero(passages.live)
        p_rows = dict(zip(passages.ids[p_live].tolist(), p_live.tolist()))
        cids, pids, weights = edges.members
        keep = [(rows[c], p_rows[p], w) for c, p, w in zip(cids, pids, weights) if c in rows and p in p_rows]
        r, c, w = (np.array(x) for x in zip(*keep)) if keep else (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
        membership = sp.csr_array((w.astype(np.float64), (r.astype(np.int64), c.astype(np.int64))),
                                  shape=(len(table.ids), len(passages.ids)))
        return LayerState(table, levels, membership)

    return context.cache.get("layers", build)


def ensure_layers(context: RetrievalContext) -> None:
    """Build the layers when the store has passages but has never had them (a one-off cost, logged)."""
    store = context.store
    if store.layer_info() or passage_table(context).size == 0:
        return
    from hippo.graph.layers import build_layers

    report = build_layers(store, context.embedder, context.settings, llm=llm_client(context))
    logger.info("comorag built the layers on first use in %.1f s: %s clusters per level",
                report.seconds, report.clusters_per_level)


def _base_context(context: RetrievalContext) -> RetrievalContext:
    """The base method's context: without the fact filter unless ``fact_filter`` is set to true.

    The filter is on by default whenever an LLM runs (``fact_filter`` null), but the loop asks the base
    method again for every probe, and has LLM steps of its own (``comorag_llm``), so by default it does
    not add one filter request per probe; ``comorag_llm=False`` then keeps the loop free of requests.
    """
    if context.settings.fact_filter is True or context.fact_filter is None:
        return context
    return replace(context, fact_filter=None)


def tri_retrieve(context: RetrievalContext, layers: LayerState, texts: Sequence[str],
                  probes: Sequence[str | None], weights: Sequence[float]) -> list[list[RankedList]]:
    """The three lists (veridical, semantic, episodic) of each text, in one batch."""
    if not texts:
        return []
    base = get_method(context.settings.comorag_base)(_base_context(context), list(texts), POOL_K)
    out = [[RankedList(tuple(h.passage_id for h in hits), tuple(h.why for h in hits), w, probe, "veridical",
                  texts=tuple(h.text for h in hits))]
           for hits, probe, w in zip(base, probes, weights)]
    if layers.empty:
        return out
    passages = passage_table(context)
    vectors = context.embedder().query(list(texts))
    cluster_scores = layers.clusters.scores(vectors)
    passage_scores = passages.scores(vectors)
    for layer, mask in (("semantic", layers.levels > EPISODIC_LEVEL), ("episodic", layers.levels == EPISODIC_LEVEL)):
        if not mask.any():
            continue
        for i, (probe, w) in enumerate(zip(probes, weights)):
            scores = np.where(mask, cluster_scores[i], -np.inf)
            n = min(LAYER_CLUSTERS, int(mask.sum()))
            rows = np.argsort(-scores, kind="stable")[:n]
            member = layers.membership[rows]
            weighted = sp.csr_array(member.multiply(np.maximum(scores[rows], 0.0)[:, None]))
            best = np.asarray(weighted.max(axis=0).todense()).ravel()
            candidates = np.flatnonzero(np.asarray(member.sum(axis=0)).ravel() > 0)
            if candidates.size == 0:
                continue
            combined = 0.5 * best[candidates] + 0.5 * passage_scores[i, candidates]
            chosen = candidates[np.argsort(-combined, kind="stable")[:POOL_K]]
            ids = layers.clusters.ids[rows].tolist()
            out[i].append(RankedList(tuple(passages.ids[chosen].tolist()), tuple(Why() for _ in chosen), w * W_LAYER,
                                probe, layer, clusters=tuple(ids)))
    return out
