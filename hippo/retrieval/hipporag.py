"""``hipporag``: HippoRAG 2 retrieval, Personalized PageRank seeded by query-to-fact links.

Per query (Gutiérrez et al. 2025, section 3, and the official code's defaults):
1. score every fact against the query and min-max normalise the scores; with ``relation_links`` (a hippo
   addition, :mod:`hippo.retrieval.relations`) the facts that state the relation the query's "the
   <relation> of <name>" chain asks are lifted first, hop by hop;
2. keep the top ``linking_top_k`` facts; with ``Settings.fact_filter`` and an LLM, a recognition-memory
   filter (:mod:`hippo.llm.filter`) is shown the top ``filter_candidates`` and keeps at most 4 of
   them, and when it keeps none the ranking is dense retrieval, marked ``dense: the fact filter kept no fact``;
3. seed each entity of those facts with the mean, over the kept facts naming it, of
   ``normalised fact score / number of passages mentioning the entity``; keep the top
   ``linking_top_k`` entities;
   with ``seed_named_only`` (a hippo addition), only named entities (names, dates, numbers) are
   seeded, since generic noun phrases of an offline extractor ("part", "members") are rare, so the
   1 / passage-count weight would otherwise let them crowd out the real entities;
   plus, with ``link_query_names`` (a hippo addition, see :mod:`hippo.graph.linking`), the
   named entities written in the query, each weighted 1 / number of passages mentioning it;
4. seed every passage with ``passage_node_weight`` x its min-max normalised dense score;
5. run PageRank (damping 0.5) over the undirected weighted graph and rank passages by mass;
6. put the articles of bridge entities (``bridge_articles``, a hippo addition) second: with the filter, of
   the first entity a kept fact names, the query does not, and a document has as its title; without it,
   of each hop's bridge in the relation chain.
When the store has no facts, the ranking is plain dense retrieval and every hit says so.

All queries of a call are embedded and scored in one batch, and PageRank runs for up to
``PPR_BATCH`` queries at once; the only Python loop is over queries, never over nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from hippo.graph.linking import NameIndex, build_name_index, link_names
from hippo.graph.matrix import GraphMatrix, build_graph
from hippo.graph.ppr import personalized_pagerank
from hippo.ingest.extract.labels import NUMERIC_LABELS, title_label
from hippo.model import Hit, Why, make_id
from hippo.retrieval.base import RetrievalContext, make_hits
from hippo.retrieval.dense import passage_table
from hippo.retrieval.relations import asked_relation_facts, with_predicate_words
from hippo.stores.base import GraphStore
from hippo.stores.vectors import VectorTable
from hippo.text import normalize_name

__all__ = ["retrieve_hipporag", "GraphState", "graph_state", "query_seeds", "minmax", "floored", "rarity"]

PPR_BATCH = 64
PPR_TOL = 1e-6
"""L1 change at which a query's PageRank stops: its scores are then within 1e-6 in total of the fixed point,
far below the gaps between ranked passages, for about a third fewer sparse products than 1e-8 (the
engine's default, kept for the cross-checks)."""
FILTER_KEPT_NONE = "the fact filter kept no fact"


@dataclass(frozen=True)
class GraphState:
    """The graph and the vector tables whose rows are its nodes, for one store version."""

    graph: GraphMatrix
    entities: VectorTable
    passages: VectorTable
    facts: VectorTable
    names: NameIndex
    title_passages: dict[int, np.ndarray]
    """Entity row -> passage rows of the documents that entity is the title of (in store order)."""


def graph_state(context: RetrievalContext) -> GraphState:
    """The graph of the current store version (built once, then cached until the store changes)."""
    def build() -> GraphState:
        store = context.store
        entities, facts = store.vector_table("entity"), store.vector_table("fact")
        passages = passage_table(context)
        live = np.flatnonzero(entities.live)
        ids, names_, displays = store.entity_names()
        labels = {i: e.label for i, e in store.entities(ids).items()}
        names = build_name_index(ids, names_, displays, dict(zip(entities.ids[live].tolist(), live.tolist())), labels)
        titles = _title_entities(store, passages)
        numeric = (None if context.settings.numeric_synonyms else
                   np.fromiter((labels.get(i) in NUMERIC_LABELS for i in entities.ids.tolist()), dtype=bool,
                               count=len(entities.ids)))  # np.isin on strings: 8 s at 100k passages
        graph = build_graph(store.graph_edges(), entities, passages, facts, context.settings.synonym_threshold,
                            titles, context.settings.title_edge_weight, numeric, context.settings.synonym_max)
        return GraphState(graph, entities, passages, facts, names, _title_rows(titles, entities, passages))

    return context.cache.get("graph", build)


def _title_entities(store: GraphStore, passages: VectorTable) -> dict[str, str]:
    """Passage id -> entity id of its document's title (the entity the title rule of ingest made)."""
    ids = passages.ids[np.flatnonzero(passages.live)].tolist()
    return {pid: make_id("e", normalize_name(c.title)) for pid, c in store.passage_context(ids).items()
            if c.title and title_label(c.title)}


def _title_rows(titles: dict[str, str], entities: VectorTable, passages: VectorTable) -> dict[int, np.ndarray]:
    """Entity row -> passage rows of its documents, from :func:`_title_entities` (passage id -> entity id)."""
    entity_row = {e: r for r, e in enumerate(entities.ids.tolist())}
    grouped: dict[int, list[int]] = {}
    for row, pid in enumerate(passages.ids.tolist()):
        entity = titles.get(pid)
        if entity is not None and entity in entity_row:
            grouped.setdefault(entity_row[entity], []).append(row)
    return {e: np.array(rows, dtype=np.int64) for e, rows in grouped.items()}


def minmax(scores: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Min-max normalise ``scores`` over ``live`` entries (others become 0); all-equal gives all ones.

    >>> minmax(np.array([1.0, 3.0, 2.0, -np.inf]), np.array([True, True, True, False]))
    array([0. , 1. , 0.5, 0. ])
    """
    out = np.zeros_like(scores, dtype=np.float64)
    values = scores[live]
    if values.size == 0:
        return out
    low, high = values.min(), values.max()
    out[live] = 1.0 if high - low <= 1e-12 else (values - low) / (high - low)
    return out


@dataclass(frozen=True)
class _Seeds:
    entity_rows: np.ndarray
    entity_weights: np.ndarray
    fact_rows: np.ndarray
    note: str | None = None  # why the facts were not filtered, or why none is left
    named_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # the entities the query names
    bridge_facts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Facts whose other entity leads on (:func:`bridge_articles`): those the LLM filter kept, else the one
    fact per hop of the query's relation chain that names the hop's bridge (``relation_links``)."""


def floored(scores: np.ndarray, live: np.ndarray, floor: float) -> np.ndarray:
    """Scores rescaled so that ``floor`` maps to 0 and the best live score to 1 (below the floor: 0).

    Unlike :func:`minmax`, a fact with cosine 0.45 to the question does not weigh ~1 just because it
    is the best of a poor lot: its weight says how far it stands above an absolute floor.

    >>> floored(np.array([0.4, 0.7, 0.55]), np.array([True, True, True]), 0.5).round(2).tolist()
    [0.0, 1.0, 0.25]
    """
    out = np.zeros_like(scores, dtype=np.float64)
    values = scores[live]
    if values.size == 0:
        return out
    top = max(float(values.max()), floor + 1e-6)
    out[live] = np.clip((values - floor) / (top - floor), 0.0, 1.0)
    return out


def rarity(passages: np.ndarray, total: int, kind: str) -> np.ndarray:
    """How much a seed weighs for being mentioned by ``passages`` passages (out of ``total``).

    ``inverse`` is HippoRAG 2's 1/n; ``sqrt`` (1/sqrt(n)) and ``idf`` (log(N/n) / log N) damp less,
    so a question's subject mentioned by seven passages is not outweighed by a phrase mentioned once.
    """
    n = np.maximum(passages, 1).astype(np.float64)
    if kind == "inverse":
        return 1.0 / n
    if kind == "sqrt":
        return 1.0 / np.sqrt(n)
    if kind == "idf":
        size = max(total, 2) + 1
        return np.log(size / n) / np.log(size)
    if kind == "none":
        return np.ones_like(n)
    raise ValueError(f"seed_rarity={kind!r}; choose inverse, sqrt, idf or none")


def _top_facts(state: GraphState, fact_scores: np.ndarray, top_k: int,
               floor: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Steps 1-2 for one query: the top ``top_k`` fact rows (best first) and every fact's weight
    (min-max normalised as HippoRAG 2 with ``floor`` 0, else :func:`floored`)."""
    live = state.facts.live & (state.graph.fact_subject >= 0)
    normalised = floored(fact_scores, live, floor) if floor > 0 else minmax(fact_scores, live)
    candidates = np.flatnonzero(live)
    if candidates.size > top_k:
        candidates = candidates[np.argpartition(-normalised[candidates], top_k - 1)[:top_k]]
    return candidates[np.argsort(-normalised[candidates], kind="stable")], normalised


def _entity_seeds(state: GraphState, facts: np.ndarray, normalised: np.ndarray, top_k: int,
                  note: str | None = None, named_only: bool = False, damping: str = "inverse") -> _Seeds:
    """Step 3 for one query: the entity seeds that the kept ``facts`` give."""
    if facts.size == 0:
        return _Seeds(np.zeros(0, np.int64), np.zeros(0), facts, note)
    rows = np.concatenate([state.graph.fact_subject[facts], state.graph.fact_object[facts]])
    weights = np.tile(normalised[facts], 2) * rarity(state.graph.entity_passages[rows], state.passages.size, damping)
    if named_only:
        keep_named = np.fromiter((r in state.names.named for r in rows.tolist()), dtype=bool, count=rows.size)
        rows, weights = rows[keep_named], weights[keep_named]
    unique, inverse = np.unique(rows, return_inverse=True)
    mean = np.bincount(inverse, weights=weights) / np.maximum(np.bincount(inverse), 1)
    keep = np.argsort(-mean, kind="stable")[:top_k]
    keep = keep[mean[keep] > 0]
    return _Seeds(unique[keep], mean[keep], facts, note)


def _with_named(state: GraphState, seed: _Seeds, query: str, top_k: int, damping: str = "inverse",
                scale: float = 1.0) -> _Seeds:
    """Add the entities the query names (see :mod:`hippo.graph.linking`), weighted ``scale`` x :func:`rarity`."""
    named = link_names(query, state.names)[:top_k]
    if named.size == 0:
        return seed
    weights = scale * rarity(state.graph.entity_passages[named], state.passages.size, damping)
    merged: dict[int, float] = dict(zip(seed.entity_rows.tolist(), seed.entity_weights.tolist()))
    for row, weight in zip(named.tolist(), weights.tolist()):
        merged[row] = max(merged.get(row, 0.0), weight)
    rows = np.fromiter(merged, dtype=np.int64, count=len(merged))
    return replace(seed, entity_rows=rows, entity_weights=np.fromiter(merged.values(), dtype=np.float64,
                                                                      count=len(merged)), named_rows=named)


def _filter_facts(context: RetrievalContext, state: GraphState, queries: Sequence[str],
                  picked: list[np.ndarray]) -> tuple[list[np.ndarray], list[str | None]]:
    """The optional recognition-memory step: one filter call for the batch, kept facts per query.

    A filter that keeps nothing leaves no facts (the caller falls back to dense, as HippoRAG 2
    does); a filter that could not run leaves the candidates unfiltered and says why.
    """
    if context.fact_filter is None:
        return picked, [None] * len(picked)
    ids = state.facts.ids[np.concatenate(picked)].tolist() if picked else []
    found = context.store.facts(ids)
    candidates = [[(f.subject, f.predicate, f.object) for f in (found[i] for i in state.facts.ids[rows].tolist())]
                  for rows in picked]
    results = context.fact_filter(list(queries), candidates)
    kept: list[np.ndarray] = []
    notes: list[str | None] = []
    for rows, result in zip(picked, results):
        if result.error is not None:
            kept.append(rows)
            notes.append(f"facts unfiltered: {result.error}")
        else:
            kept.append(rows[list(result.kept)] if result.kept else rows[:0])
            notes.append(None if result.kept or rows.size == 0 else FILTER_KEPT_NONE)
    return kept, notes


def query_seeds(context: RetrievalContext, state: GraphState, queries: Sequence[str]
                ) -> tuple[np.ndarray, np.ndarray, list[_Seeds]]:
    """Steps 1-4 for a batch of queries: dense passage scores (q, P), the reset matrix (n, q), entity seeds."""
    settings = context.settings
    dense = state.passages.scores(context.embedder().query(list(queries)))
    reset = np.zeros((state.graph.size, len(queries)))
    if state.facts.size == 0:
        return dense, reset, [_Seeds(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))] * len(queries)
    fact_scores = state.facts.scores(context.embedder().query(list(queries), against="fact"))
    if settings.fact_lexical > 0:
        fact_scores = with_predicate_words(context, state, queries, fact_scores, settings.fact_lexical)
    asked = asked_relation_facts(context, state, queries, fact_scores) if settings.relation_links > 0 else []
    for column, hops in enumerate(asked):
        for rows in hops:
            fact_scores[column, rows] += settings.relation_links
    shown = max(settings.linking_top_k, settings.filter_candidates) if context.fact_filter else settings.linking_top_k
    top = [_top_facts(state, fact_scores[i], shown, settings.fact_floor) for i in range(len(queries))]
    kept, notes = _filter_facts(context, state, queries, [facts for facts, _ in top])
    seeds = [_entity_seeds(state, facts, normalised, settings.linking_top_k, note, settings.seed_named_only,
                           settings.seed_rarity)
             for facts, (_, normalised), note in zip(kept, top, notes)]
    if context.fact_filter is not None:
        seeds = [replace(seed, bridge_facts=seed.fact_rows) for seed in seeds]
    elif asked:  # one bridge per hop: the fact that names it leads each hop
        seeds = [replace(seed, bridge_facts=np.array([rows[0] for rows in hops], dtype=np.int64))
                 for seed, hops in zip(seeds, asked)]
    if settings.link_query_names:
        seeds = [seed if seed.note == FILTER_KEPT_NONE else
                 _with_named(state, seed, query, settings.linking_top_k, settings.seed_rarity,
                             settings.name_seed_weight)
                 for seed, query in zip(seeds, queries)]
    for column, seed in enumerate(seeds):
        reset[seed.entity_rows, column] = seed.entity_weights
        passage_seeds = minmax(dense[column], state.passages.live)
        reset[state.graph.n_entities:, column] = settings.passage_node_weight * passage_seeds
    return dense, reset, seeds


def retrieve_hipporag(context: RetrievalContext, queries: Sequence[str], k: int) -> list[list[Hit]]:
    """Top ``k`` passages per query by HippoRAG 2's Personalized PageRank (see the module docstring)."""
    state = graph_state(context)
    if state.passages.size == 0:
        return [[] for _ in queries]
    out: list[list[Hit]] = []
    for start in range(0, len(queries), PPR_BATCH):
        dense, reset, seeds = query_seeds(context, state, queries[start:start + PPR_BATCH])
        linked = [column for column, seed in enumerate(seeds) if seed.entity_rows.size]
        mass = (personalized_pagerank(state.graph.transition, reset[:, linked], dangling=state.graph.dangling,
                                      damping=context.settings.damping, tol=PPR_TOL) if linked else None)
        for column, seed in enumerate(seeds):
            if seed.entity_rows.size == 0:
                out.append(_dense_fallback(context, state, dense[column], k, _no_seed_reason(state, seed)))
                continue
            passage_mass = mass[state.graph.n_entities:, linked.index(column)]
            out.append(_ranked(context, state, passage_mass, seed, k))
    return out


def _no_seed_reason(state: GraphState, seed: _Seeds) -> str:
    if state.facts.size == 0:
        return "no facts in the store"
    return FILTER_KEPT_NONE if seed.note == FILTER_KEPT_NONE else "no fact linked to the query"


def _top(scores: np.ndarray, live: np.ndarray, k: int) -> np.ndarray:
    scores = np.where(live, scores, -np.inf)
    k = min(k, int(live.sum()))
    rows = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
    rows = rows[np.argsort(-scores[rows], kind="stable")]
    return rows[np.isfinite(scores[rows])]


def bridge_articles(state: GraphState, seed: _Seeds, mass: np.ndarray, count: int) -> list[int]:
    """Passage rows of the articles of the first ``count`` bridge entities, one passage each (its most massive).

    A bridge is an entity of one of the seed's ``bridge_facts`` (a fact the LLM filter kept, in the filter's
    order, or one that states the relation the query asks of a name, best first; subject before object)
    that the query does not name and whose name is a document's title: for "where was the founder of X
    born?" the fact "X was founded by Y" makes Y's own article evidence. PageRank alone ranks it
    low, below the many passages that mention X (and Y) without saying where Y was born.
    """
    named = set(seed.named_rows.tolist())
    facts = seed.bridge_facts
    ends = np.stack([state.graph.fact_subject[facts], state.graph.fact_object[facts]], axis=1)
    out: list[int] = []
    for row in dict.fromkeys(ends.ravel().tolist()):
        articles = state.title_passages.get(row)
        if row in named or articles is None or row not in state.names.named:
            continue
        out.append(int(articles[np.argmax(mass[articles])]))
        if len(out) == count:
            break
    return out


def _ranked(context: RetrievalContext, state: GraphState, mass: np.ndarray, seed: _Seeds, k: int) -> list[Hit]:
    """The top ``k`` passages by PageRank mass, each explained by what touches it: the seeds it mentions and
    the linked facts it states (not every linked fact under every hit).

    The articles of the bridge entities (:func:`bridge_articles`) come second, after the best passage,
    wherever PageRank ranked them.
    """
    rows = _top(mass, state.passages.live, k)
    count = context.settings.bridge_articles
    if context.fact_filter is None:
        count = min(count, 1) * seed.bridge_facts.size  # a relation chain's bridges: one per hop
    if count and seed.bridge_facts.size and seed.note is None:
        top = rows.tolist()
        bridges = bridge_articles(state, seed, mass, count)
        rows = np.array(list(dict.fromkeys(top[:1] + bridges + top[1:]))[:k], dtype=np.int64)
    entity_ids = state.entities.ids[seed.entity_rows].tolist()
    fact_ids = state.facts.ids[seed.fact_rows].tolist()
    entities = context.store.entities(entity_ids)
    facts = context.store.facts(fact_ids)
    whys = []
    for row in rows:
        passage_id = state.passages.ids[row]
        mentioned = set(state.graph.passage_entities[[row]].indices.tolist())
        names = [entities[i].display for r, i in zip(seed.entity_rows, entity_ids) if r in mentioned and i in entities]
        texts = [facts[f].text for f in fact_ids if f in facts and passage_id in facts[f].passage_ids]
        whys.append(Why(seed_entities=tuple(names), facts=tuple(texts), fallback=seed.note))
    return make_hits(context, state.passages.ids[rows].tolist(), mass[rows], "hipporag", whys)


def _dense_fallback(context: RetrievalContext, state: GraphState, scores: np.ndarray, k: int,
                    reason: str) -> list[Hit]:
    rows = _top(scores, state.passages.live, k)
    whys = [Why(fallback=f"dense: {reason}")] * len(rows)
    return make_hits(context, state.passages.ids[rows].tolist(), scores[rows], "hipporag", whys)
