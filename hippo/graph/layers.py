"""ComoRAG's coarser layers over the passages: semantic clusters and episodic (timeline) windows.

Both are stored as :class:`~hippo.model.Cluster` records with a summary and a vector (the
embedding of the summary), linked to their passages by weighted IN_CLUSTER edges:

- **semantic** (levels 1, 2, ...): soft Gaussian-mixture clusters of the passage vectors
  (:func:`hippo.graph.clusters.soft_clusters`: PCA, BIC-chosen k, global then local mixtures,
  membership above ``cluster_threshold``); level ``l + 1`` clusters the summary vectors of level
  ``l``, up to ``cluster_levels`` levels or until one cluster is left. A cluster is linked to every
  passage under it, weight = sum over paths of the product of memberships, capped at 1.
- **episodic** (level 0): consecutive, non-overlapping windows of each document's passages in
  order; the window size follows ComoRAG's rule on the document's *real* passage count
  (ComoRAG computes it before the passages exist, so its window is always 2). A document of one
  passage gets no window: the window would be the passage itself.

Summaries are extractive offline (the MemGAS unit helpers of :mod:`hippo.memory.extractive`: the
sentences nearest the centroid, key phrases by TF-IDF), or written by the LLM when one is given.

Cost and incrementality: the episodic layer is updated per document (windows of new or changed
documents are added, those of deleted ones removed). The semantic layer is rebuilt whole, but
only when the set of passages (or a clustering setting) changed since the last build, and its
mixtures are fitted on at most ``cluster_sample`` passages (the rest are assigned), so its
cost stops growing with the store past that size; what a build cost is in its :class:`LayerReport`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from hippo.config import Settings
from hippo.embed import Embedder
from hippo.errors import LLMError
from hippo.graph.clusters import soft_clusters
from hippo.memory.extractive import extract_keywords, extractive_summary
from hippo.model import EPISODIC_LEVEL, Cluster, LayerReport, make_id
from hippo.stores.base import GraphStore, PassageContext
from hippo.text import count_tokens, split_sentences

if TYPE_CHECKING:
    from hippo.llm.client import LLMClient

__all__ = ["SUMMARY_TOKENS", "body_text", "build_layers", "layer_fingerprint", "window_size", "windows"]

logger = logging.getLogger(__name__)

SUMMARY_TOKENS = 160
"""An extractive summary is cut after this many tokens (ComoRAG caps cluster summaries at 100 LLM tokens)."""
SUMMARY_MEMBERS = 10
"""An extractive cluster summary reads the sentences of its this many most central members."""
KEYWORDS = 6
"""Key phrases at the head of an extractive cluster summary."""
MIN_NODES = 3
"""A level with fewer nodes than this is not clustered further."""
LLM_INPUT_CHARS = 8000
"""Member texts shown to the LLM for one summary are cut here."""


def window_size(passages: int) -> int:
    """Passages per episodic window for a document of ``passages`` passages (ComoRAG's rule).

    >>> [window_size(n) for n in (2, 5, 20, 50, 100, 200, 1000, 10**6)]
    [2, 2, 3, 5, 8, 10, 19, 20]
    """
    if passages <= 5:
        return 2
    if passages <= 20:
        return 3
    if passages <= 50:
        return 5
    if passages <= 100:
        return 8
    if passages <= 200:
        return 10
    return min(20, max(10, int(2 * math.log2(passages))))


def windows(passage_ids: Sequence[str]) -> list[list[str]]:
    """The episodic windows of one document's passages (in order): consecutive, non-overlapping.

    >>> windows(["a", "b", "c", "d", "e"])
    [['a', 'b'], ['c', 'd'], ['e']]
    >>> windows(["a"])
    []
    """
    if len(passage_ids) < 2:
        return []
    size = window_size(len(passage_ids))
    return [list(passage_ids[i:i + size]) for i in range(0, len(passage_ids), size)]


def body_text(passage: PassageContext) -> str:
    """A passage's text without the title line that chunking puts first."""
    if passage.title and passage.text.startswith(passage.title + "\n"):
        return passage.text[len(passage.title) + 1:]
    return passage.text


def layer_fingerprint(passage_ids: Sequence[str], settings: Settings) -> str:
    """What the semantic layer depends on: the passages and the clustering settings."""
    digest = hashlib.sha1()
    for value in (settings.cluster_dim, settings.cluster_threshold, settings.cluster_max_components,
                  settings.cluster_levels, settings.cluster_max_size, settings.cluster_sample, settings.cluster_seed):
        digest.update(f"{value}\x1f".encode())
    for pid in sorted(passage_ids):
        digest.update(pid.encode())
    return digest.hexdigest()[:16]


def _cut(text: str, tokens: int = SUMMARY_TOKENS) -> str:
    words = text.split()
    kept: list[str] = []
    used = 0
    for word in words:
        used += count_tokens(word)
        if used > tokens:
            return " ".join(kept) + " …"
        kept.append(word)
    return " ".join(kept)


def _extractive_cluster_summary(texts: Sequence[str], titles: Sequence[str]) -> str:
    """Key phrases, the distinct titles, then the sentences nearest the centroid of the central members' sentences."""
    sentences = [s for text in texts for s in split_sentences(text)]
    keywords = extract_keywords(sentences, top=KEYWORDS)
    named = list(dict.fromkeys(t for t in titles if t))[:5]
    head = "; ".join(named + [k for k in keywords if k not in {t.casefold() for t in named}])
    body = extractive_summary(sentences, size=3)
    return _cut(f"{head}.\n{body}" if head else body)


def _extractive_window_summary(texts: Sequence[str]) -> str:
    """The sentences of the window nearest its centroid, in story order (about two per passage)."""
    sentences = [s for text in texts for s in split_sentences(text)]
    return _cut(extractive_summary(sentences, size=min(6, 2 * len(texts))), 2 * SUMMARY_TOKENS)


def _llm_summaries(client: LLMClient, groups: Sequence[Sequence[str]], kind: str, failures: list[str]
                   ) -> list[str | None]:
    """One LLM summary per group of texts (None where the request failed)."""
    from hippo.llm.client import ChatRequest
    from hippo.llm.prompts import layer_summary_messages
    from hippo.llm.replies import strip_reasoning

    requests = [ChatRequest(layer_summary_messages(_joined(texts), kind=kind), max_tokens=300) for texts in groups]
    out: list[str | None] = []
    for reply in client.chat_many(requests):
        if isinstance(reply, LLMError):
            failures.append(f"{kind} summary: {reply}")
            out.append(None)
            continue
        text = " ".join(strip_reasoning(reply.text).split())
        if not text:
            failures.append(f"{kind} summary: an empty reply")
        out.append(text or None)
    return out


def _joined(texts: Sequence[str]) -> str:
    joined = "\n\n".join(" ".join(t.split()) for t in texts)
    return joined[:LLM_INPUT_CHARS]


def build_layers(store: GraphStore, embedder: Callable[[], Embedder], settings: Settings, *,
                 llm: LLMClient | None = None, rebuild: bool = False) -> LayerReport:
    """Bring the semantic and episodic layers of ``store`` up to date (see the module docstring).

    Parameters
    ----------
    store : the store to read passages from and write clusters to (one transaction).
    embedder : gives the store's embedding model (summaries are embedded with it).
    settings : the ``cluster_*`` settings.
    llm : writes the summaries when given; a failed request falls back to the extractive summary.
    rebuild : rebuild both layers even when nothing changed.

    Returns
    -------
    LayerReport : clusters per level, windows added and removed, seconds by stage.
    """
    started = time.perf_counter()
    report = LayerReport(summaries="llm" if llm is not None else "extractive")
    stages = report.stage_seconds
    passages = list(store.iter_passages())
    report.passages = len(passages)
    table = store.vector_table("passage")
    live = np.flatnonzero(table.live)
    row_of = dict(zip(table.ids[live].tolist(), live.tolist()))
    passages = [p for p in passages if p.passage_id in row_of]
    edges = store.cluster_edges()
    levels = dict(zip(*edges.clusters))
    info = store.layer_info()

    # episodic: windows of each document, compared by id (a window's id hashes its passage ids)
    tick = time.perf_counter()
    by_doc: dict[str, list[PassageContext]] = {}
    for passage in passages:
        by_doc.setdefault(passage.doc_id, []).append(passage)
    wanted: dict[str, list[PassageContext]] = {}
    for doc_passages in by_doc.values():
        doc_passages.sort(key=lambda p: p.position)
        start = 0
        for window in windows([p.passage_id for p in doc_passages]):
            wanted[make_id("c", "episodic", *window)] = doc_passages[start:start + len(window)]
            start += len(window)
    stored_windows = {c for c, level in levels.items() if level == EPISODIC_LEVEL}
    stored_windows_kept = set() if rebuild else stored_windows & set(wanted)
    new_windows = [c for c in wanted if c not in stored_windows_kept]
    drop = sorted(stored_windows - stored_windows_kept)
    report.windows_added, report.windows_removed = len(new_windows), len(stored_windows - set(wanted))
    window_texts = [[body_text(p) for p in wanted[c]] for c in new_windows]
    window_summaries: list[str | None] = [None] * len(new_windows)
    if llm is not None and new_windows:
        window_summaries = _llm_summaries(llm, window_texts, "episodic", report.failures)
    window_summaries = [s or _extractive_window_summary(t) for s, t in zip(window_summaries, window_texts)]
    stages["episodic"] = time.perf_counter() - tick

    # semantic: rebuilt when the passages or the settings changed
    fingerprint = layer_fingerprint([p.passage_id for p in passages], settings)
    semantic_ids = [c for c, level in levels.items() if level != EPISODIC_LEVEL]
    semantic: _Semantic | None = None
    if not passages:
        report.semantic = "empty"
        drop += semantic_ids
    elif not rebuild and info.get("fingerprint") == fingerprint and semantic_ids:
        report.semantic = "up to date"
        report.fitted = int(info.get("fitted", 0))
    else:
        report.semantic = "rebuilt"
        drop += semantic_ids
        vectors = np.asarray(table.matrix)[[row_of[p.passage_id] for p in passages]]
        semantic = _semantic_layer(passages, vectors, embedder, settings, fingerprint, llm, report)

    tick = time.perf_counter()
    window_vectors = embedder().encode(window_summaries) if new_windows else None
    stages["embed"] = stages.get("embed", 0.0) + time.perf_counter() - tick

    tick = time.perf_counter()
    with store.transaction():
        if drop:
            store.delete_clusters(drop)
        if new_windows:
            store.put_clusters([Cluster(c, EPISODIC_LEVEL, s) for c, s in zip(new_windows, window_summaries)],
                               window_vectors, [(c, p.passage_id, 1.0) for c in new_windows for p in wanted[c]])
        if semantic is not None:
            store.put_clusters(semantic.clusters, semantic.vectors, semantic.members)
        report.clusters_per_level = _count_levels(store)
        store.set_layer_info({
            "fingerprint": fingerprint if passages else "", "built_at": time.time(), "fitted": report.fitted,
            "summaries": report.summaries,
            "clusters_per_level": {str(k): v for k, v in report.clusters_per_level.items()},
        })
    stages["write"] = time.perf_counter() - tick
    report.seconds = time.perf_counter() - started
    return report


def _count_levels(store: GraphStore) -> dict[int, int]:
    counts: dict[int, int] = {}
    for level in store.cluster_edges().clusters[1]:
        counts[int(level)] = counts.get(int(level), 0) + 1
    return dict(sorted(counts.items()))


@dataclass(frozen=True)
class _Semantic:
    clusters: list[Cluster]
    vectors: np.ndarray
    members: list[tuple[str, str, float]]


def _semantic_layer(passages: Sequence[PassageContext], vectors: np.ndarray, embedder: Callable[[], Embedder],
                    settings: Settings, fingerprint: str, llm: LLMClient | None, report: LayerReport) -> _Semantic:
    """Every level of soft clusters over ``passages`` (their vectors row by row), with summaries and vectors."""
    stages = report.stage_seconds
    node_texts = [body_text(p) for p in passages]
    node_titles = [p.title for p in passages]
    node_vectors = np.asarray(vectors, dtype=np.float32)
    under = sp.identity(len(passages), format="csr")  # (nodes, passages): passage weights under each node
    clusters: list[Cluster] = []
    all_vectors: list[np.ndarray] = []
    members: list[tuple[str, str, float]] = []
    for level in range(1, settings.cluster_levels + 1):
        if level > 1 and len(node_texts) < MIN_NODES:
            break
        tick = time.perf_counter()
        found = soft_clusters(node_vectors, dim=settings.cluster_dim, threshold=settings.cluster_threshold,
                              max_components=settings.cluster_max_components, sample=settings.cluster_sample,
                              max_size=settings.cluster_max_size, seed=settings.cluster_seed)
        stages["cluster"] = stages.get("cluster", 0.0) + time.perf_counter() - tick
        if level == 1:
            report.fitted = found.fitted
        elif found.n_clusters >= len(node_texts):
            break  # no coarser grouping
        weights = found.membership
        level_under = sp.csr_array(weights @ under)
        level_under.data = np.minimum(level_under.data, 1.0)
        tick = time.perf_counter()
        groups, titles = [], []
        for i in range(found.n_clusters):
            row = weights[[i]]
            nodes, w = row.indices, row.data
            centroid = w @ node_vectors[nodes]
            closeness = (node_vectors[nodes] @ centroid) * w
            central = nodes[np.argsort(-closeness, kind="stable")[:SUMMARY_MEMBERS]]
            groups.append([node_texts[j] for j in central])
            titles.append([node_titles[j] for j in central])
        summaries: list[str | None] = [None] * len(groups)
        if llm is not None:
            summaries = _llm_summaries(llm, groups, "semantic", report.failures)
        summaries = [s or _extractive_cluster_summary(g, t) for s, g, t in zip(summaries, groups, titles)]
        stages["summaries"] = stages.get("summaries", 0.0) + time.perf_counter() - tick
        tick = time.perf_counter()
        level_vectors = embedder().encode(summaries)
        stages["embed"] = stages.get("embed", 0.0) + time.perf_counter() - tick
        ids = [make_id("c", "semantic", fingerprint, str(level), str(i)) for i in range(found.n_clusters)]
        clusters += [Cluster(c, level, s) for c, s in zip(ids, summaries)]
        all_vectors.append(level_vectors)
        coo = level_under.tocoo()
        members += [(ids[r], passages[c].passage_id, round(float(v), 6)) for r, c, v in
                    zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist())]
        if found.n_clusters == 1:
            break
        node_texts, node_titles, node_vectors, under = summaries, [""] * len(summaries), level_vectors, level_under
    vectors_out = np.concatenate(all_vectors) if all_vectors else np.zeros((0, vectors.shape[1]), np.float32)
    return _Semantic(clusters, vectors_out, members)
