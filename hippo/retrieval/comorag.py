"""``comorag``: ComoRAG's iterative probing loop over a base retrieval method.

Per question (Wang et al. 2025, "ComoRAG", section 3; hippo's reading of it in
``shared/reference/comorag.md``):

1. **tri-retrieve** the question from three layers: the base method (``comorag_base``, default
   ``hipporag``: the veridical layer), the semantic clusters and the episodic windows of
   :mod:`hippo.graph.layers` (a layer's passages are the members of its :data:`LAYER_CLUSTERS` best
   clusters, scored by ``0.5 x cluster cosine x membership + 0.5 x passage cosine``);
2. keep every retrieved list in the **memory pool**; the pool's ranking fuses the lists by
   weighted reciprocal rank, ``sum over lists of weight / (1 + rank)`` (rank from 0, top
   :data:`POOL_K` of each list), with weight :data:`W_QUERY` for the question's base list,
   :data:`W_PROBE` for a probe's, times :data:`W_LAYER` for a semantic or episodic list; a passage is
   one entry however many lists hold it (the pool is deduplicated by passage id, unlike ComoRAG's,
   reference trap 4);
3. decide whether the evidence **suffices**; if not, write up to ``comorag_probes`` **probing
   queries**, tri-retrieve each, add their lists to the pool, and repeat, at most
   ``comorag_cycles`` times;
4. return the top ``k`` of the fused ranking; each hit keeps the ``Why`` of the list that gave it
   its largest share, with ``Why.probe`` set to that list's probe (None: the question itself), and
   the summaries of the layers that ranked it in their top 3 in ``Why.units``.

Why the weights are small: the question's own base ranking is the most precise list (on 2Wiki,
``hipporag``'s rank 5 is gold 16 % of the time, a probe's best new passage 5-10 %), so probes and
layers mostly *re-order by agreement* and fill the ranks behind it. Measured on the first 200
2Wiki questions (``hipporag`` R@5 0.698): probe weight 0.1 with layer weight 0.05 gives R@5 0.709
(0.739 vs 0.720 on questions 200-500); a probe weight of 0.3 gives 0.656, a layer weight of 0.3
(a layer's best passage beside the question's fourth) 0.633.

**Offline rule** (no LLM, or ``comorag_llm=False``):

- *confidence* is the **coverage** of the question by its evidence: the share of the question's
  content words (stop words removed; crude stems, so "directed" covers "director") that occur in
  the top :data:`COVERAGE_TOP` fused passages. The evidence **suffices** when the coverage is
  :data:`SUFFICIENT_COVERAGE` (every content word is there);
- after a probing cycle, the loop stops when the cycle put **no new passage into the top k**
  (``no new evidence``), when no probe can be written (``no probes left``), or after
  ``comorag_cycles`` cycles (``cycle limit``);
- **probes** are names (NER-tagged or capitalised) from the facts stated by the top :data:`POOL_K`
  fused passages, and the entities mentioned by the top :data:`PROBE_SOURCES`, that neither the
  question nor an earlier probe names. They are ranked by the relevance to the question of the best
  fact naming them (cosine of question and fact vectors, what HippoRAG 2 seeds its walk with), then
  by their mass in the question's Personalized PageRank per passage mentioning them; a probe is the
  name followed by at most :data:`PROBE_TERMS` question words the top evidence lacks
  (``"Luis Mandoki place birth"``). Ranking by PageRank mass alone put a missing gold passage first
  in a probe's results for 14 of 119 such 2Wiki questions (hub names such as "American" win), by
  fact relevance for 28. In a store without entities the probes are key phrases of the top passages
  (:func:`hippo.memory.extractive.extract_keywords`).

**With an LLM** (:mod:`hippo.llm.probing`): after each round the model notes the findings of each
retrieval (one cue per question or probe, covering its three layers), judges from all findings so
far whether they answer the question (``sufficient``, with the short answer), and otherwise writes
up to three probes from the findings and what is missing. "No new evidence" and the cycle limit
still apply. A failed request falls back to the offline rule for that step and says so in the trace.

The semantic and episodic layers are built on first use when the store has never had them
(``hippo cluster`` rebuilds them); without them the loop runs on the base method alone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from hippo.errors import ConfigError, LLMError
from hippo.graph.ppr import personalized_pagerank
from hippo.memory.extractive import STOPWORDS, extract_keywords, words
from hippo.model import EPISODIC_LEVEL, Hit, ProbeCycle, ProbeResult, Why
from hippo.retrieval.base import RetrievalContext, get_method, make_hits
from hippo.retrieval.dense import passage_table
from hippo.retrieval.hipporag import GraphState, graph_state, query_seeds
from hippo.stores.vectors import VectorTable
from hippo.text import normalize_name, split_sentences

__all__ = ["LayerState", "coverage", "ensure_layers", "layer_state", "probe_many", "retrieve_comorag"]

logger = logging.getLogger(__name__)

POOL_K = 10
"""Passages kept per retrieved list (the base method's top, and each layer's)."""
LAYER_CLUSTERS = 3
"""Clusters (or windows) of a layer whose passages a retrieval reads."""
W_QUERY = 1.0
"""Fusion weight of the question's base list."""
W_PROBE = 0.1
"""Fusion weight of a probe's base list."""
W_FOCUS = 0.5
"""Fusion weight of a focused restatement of the question (see :func:`_focus`)."""
W_LAYER = 0.05
"""Multiplier of the fusion weight for a semantic or episodic list."""
COVERAGE_TOP = 3
"""Fused passages whose words count for the offline coverage."""
SUFFICIENT_COVERAGE = 1.0
"""Offline: the evidence suffices at this coverage of the question's content words."""
PROBE_SOURCES = 3
"""Top fused passages whose mentioned entities are probe candidates (besides the names in the top POOL_K facts)."""
PROBE_TERMS = 2
"""Uncovered question words appended to an offline probe, at most."""
FINDINGS_SHOWN = {"detail passages": 5, "topic summaries": 2, "timeline summaries": 2}
"""Texts per section shown to the LLM for a cue."""
_DIGITS = re.compile(r"^[\d\s.,:/-]+$")
_SKIP = STOPWORDS | {"whose", "whom", "whoever", "whichever", "whatever"}
_LINKS = {"of", "the", "and", "de", "del", "della", "der", "di", "du", "da", "van", "von", "la", "le", "des", "y",
          "in", "on", "for", "upon", "at", "&"}


# --- the layers as matrices ---------------------------------------------------------------------
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

    report = build_layers(store, context.embedder, context.settings, llm=_llm(context))
    logger.info("comorag built the layers on first use in %.1f s: %s clusters per level",
                report.seconds, report.clusters_per_level)


def _llm(context: RetrievalContext) -> object | None:
    if not context.settings.comorag_llm or context.llm is None:
        return None
    return context.llm()


# --- one retrieved list and one question's loop ---------------------------------------------------
@dataclass(frozen=True)
class _List:
    """One ranked list in the pool: passages with their whys, the probe that found them and its layer."""

    passage_ids: tuple[str, ...]
    whys: tuple[Why, ...]
    weight: float
    probe: str | None
    layer: str  # "veridical", "semantic" or "episodic"
    clusters: tuple[str, ...] = ()  # the clusters a layer list read, best first
    texts: tuple[str, ...] = ()  # passage texts (veridical lists), for cues and coverage


@dataclass(eq=False)
class _Loop:
    """The state of one question's loop."""

    query: str
    k: int
    lists: list[_List] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # the question, then every probe
    cycles: list[ProbeCycle] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    stopped: str | None = None
    stale: bool = False  # the last probing cycle put no new passage into the top k
    focused: set[str] = field(default_factory=set)  # probes that restate the question (weighted W_FOCUS)
    answer: str | None = None
    missing: str = ""
    note: str | None = None

    def ranking(self) -> list[tuple[str, float, int]]:
        """(passage id, fused score, index of the list giving its largest share), best first."""
        scores: dict[str, float] = {}
        best: dict[str, tuple[float, int]] = {}
        for index, ranked in enumerate(self.lists):
            for rank, pid in enumerate(ranked.passage_ids):
                share = ranked.weight / (1.0 + rank)
                scores[pid] = scores.get(pid, 0.0) + share
                if pid not in best or share > best[pid][0]:
                    best[pid] = (share, index)
        order = sorted(scores, key=lambda p: -scores[p])  # stable: first retrieved wins ties
        return [(pid, scores[pid], best[pid][1]) for pid in order]

    def top(self, n: int) -> list[str]:
        return [pid for pid, _, _ in self.ranking()[:n]]


# --- the words of a question ----------------------------------------------------------------------
def _stem(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:5] if len(word) >= 6 else word


def _content_stems(text: str) -> list[str]:
    return list(dict.fromkeys(_stem(w) for w in words(text) if w not in _SKIP and len(w) > 1))


def coverage(query: str, evidence: Sequence[str]) -> tuple[float, list[str]]:
    """Share of the content words of ``query`` found in ``evidence`` (by crude stem), and the words not found.

    >>> coverage("Who is the mother of the director of Blue Harbour?", ["Blue Harbour was directed by Ann Roe."])
    (0.75, ['mother'])
    """
    terms = [w for w in words(query) if w not in _SKIP and len(w) > 1]
    stems = list(dict.fromkeys(_stem(w) for w in terms))
    if not stems:
        return 1.0, []
    found = {_stem(w) for text in evidence for w in words(text)}
    missing = [s for s in stems if s not in found]
    shown = {_stem(w): w for w in reversed(terms)}
    return 1.0 - len(missing) / len(stems), [shown[s] for s in missing]


# --- tri-retrieve ---------------------------------------------------------------------------------
def _tri_retrieve(context: RetrievalContext, layers: LayerState, texts: Sequence[str],
                  probes: Sequence[str | None], weights: Sequence[float]) -> list[list[_List]]:
    """The three lists (veridical, semantic, episodic) of each text, in one batch."""
    if not texts:
        return []
    base = get_method(context.settings.comorag_base)(context, list(texts), POOL_K)
    out = [[_List(tuple(h.passage_id for h in hits), tuple(h.why for h in hits), w, probe, "veridical",
                  texts=tuple(h.text for h in hits))]
           for hits, probe, w in zip(base, probes, weights)]
    if layers.empty:
        return out
    passages = passage_table(context)
    vectors = context.embedder().encode(list(texts))
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
            out[i].append(_List(tuple(passages.ids[chosen].tolist()), tuple(Why() for _ in chosen), w * W_LAYER,
                                probe, layer, clusters=tuple(ids)))
    return out


# --- the loop -------------------------------------------------------------------------------------
def probe_many(context: RetrievalContext, queries: Sequence[str], k: int) -> list[ProbeResult]:
    """Run the loop for each query (batched per cycle) and return the fused hits with the trace."""
    settings = context.settings
    if settings.comorag_base == "comorag":
        raise ConfigError("comorag_base='comorag' would probe itself; choose a base method such as 'hipporag'.")
    get_method(settings.comorag_base)  # fail early on an unknown base
    ensure_layers(context)
    layers = layer_state(context)
    client = _llm(context)
    loops = [_Loop(q, k, asked=[q]) for q in queries]
    found = _tri_retrieve(context, layers, queries, [None] * len(queries), [W_QUERY] * len(queries))
    for loop, lists in zip(loops, found):
        loop.lists += lists
        _remember_texts(loop, lists)
        top = loop.top(k)
        loop.cycles.append(ProbeCycle(0, (loop.query,), tuple(dict.fromkeys(p for li in lists for p in li.passage_ids)),
                                      tuple(top), _coverage(context, loop)))
    if client is not None:
        _note_findings(context, client, loops, found, [None] * len(loops))
    walk: dict[int, np.ndarray] = {}
    for cycle in range(1, settings.comorag_cycles + 2):
        active = [loop for loop in loops if loop.stopped is None]
        if not active:
            break
        _judge(client, active)
        active = [loop for loop in active if loop.stopped is None]
        if cycle > settings.comorag_cycles:
            for loop in active:
                loop.stopped = "cycle limit"
            break
        proposals = (_llm_probes(client, active, settings.comorag_probes) if client is not None
                     else [None] * len(active))
        offline = [i for i, p in enumerate(proposals) if p is None]
        if offline:
            made = _offline_probes(context, [active[i] for i in offline], settings.comorag_probes, walk)
            for i, probes in zip(offline, made):
                proposals[i] = probes
        asking = []
        for loop, probes in zip(active, proposals):
            if not probes:
                loop.stopped = "no probes left"
                continue
            loop.asked += probes
            asking.append((loop, probes))
        texts = [p for _, probes in asking for p in probes]
        weights = [W_FOCUS if p in loop.focused else W_PROBE for loop, probes in asking for p in probes]
        found = _tri_retrieve(context, layers, texts, texts, weights)
        position = 0
        owners: list[_Loop] = []
        for loop, probes in asking:
            chunks = found[position:position + len(probes)]
            position += len(probes)
            owners += [loop] * len(probes)
            lists = [li for chunk in chunks for li in chunk]
            before_top, before_pool = set(loop.top(k)), {p for li in loop.lists for p in li.passage_ids}
            loop.lists += lists
            _remember_texts(loop, lists)
            new = tuple(dict.fromkeys(p for li in lists for p in li.passage_ids if p not in before_pool))
            new_top = tuple(p for p in loop.top(k) if p not in before_top)
            loop.cycles.append(ProbeCycle(cycle, tuple(probes), new, new_top, _coverage(context, loop), note=loop.note))
            loop.note = None
            loop.stale = not new_top
        if client is not None and owners:
            _note_findings(context, client, owners, found, texts)
    return [_result(context, loop, "llm" if client is not None else "offline") for loop in loops]


def retrieve_comorag(context: RetrievalContext, queries: Sequence[str], k: int) -> list[list[Hit]]:
    """Top ``k`` passages per query by ComoRAG's probing loop (see the module docstring); the trace is dropped."""
    return [list(result.hits) for result in probe_many(context, queries, k)]


def _remember_texts(loop: _Loop, lists: Sequence[_List]) -> None:
    for li in lists:
        loop.texts.update(zip(li.passage_ids, li.texts))


def _coverage(context: RetrievalContext, loop: _Loop) -> float:
    top = loop.top(COVERAGE_TOP)
    _fill_texts(context, loop, top)
    return round(coverage(loop.query, [loop.texts.get(p, "") for p in top])[0], 4)


def _fill_texts(context: RetrievalContext, loop: _Loop, passage_ids: Sequence[str]) -> None:
    missing = [p for p in passage_ids if p not in loop.texts]
    if missing:
        loop.texts.update({p: c.text for p, c in context.store.passage_context(missing).items()})


# --- sufficiency ----------------------------------------------------------------------------------
def _judge(client: object | None, loops: Sequence[_Loop]) -> None:
    """Stop the loops whose evidence suffices (by the LLM's decision, else by the offline coverage rule), then
    those whose last cycle brought no new evidence into the top k."""
    pending = list(loops)
    if client is not None:
        from hippo.llm.probing import judge

        decisions = judge(client, [(loop.query, loop.findings) for loop in loops])  # type: ignore[arg-type]
        pending = []
        for loop, decision in zip(loops, decisions):
            if isinstance(decision, LLMError):
                last = loop.cycles[-1]
                note = f"sufficiency by the offline rule: {decision}"
                loop.cycles[-1] = replace(last, note=f"{last.note}; {note}" if last.note else note)
                pending.append(loop)
            elif decision.sufficient:
                loop.stopped, loop.answer = "sufficient", decision.answer or None
            else:
                loop.missing = decision.missing
    for loop in pending:
        if loop.cycles[-1].coverage >= SUFFICIENT_COVERAGE:
            loop.stopped = "sufficient"
    for loop in loops:
        if loop.stopped is None and loop.stale:
            loop.stopped = "no new evidence"


# --- probes ---------------------------------------------------------------------------------------
def _llm_probes(client: object, loops: Sequence[_Loop], limit: int) -> list[list[str] | None]:
    """The LLM's probes per loop; None where the request failed (the offline rule then writes them)."""
    from hippo.llm.probing import ProbeRequest, ask_probes

    replies = ask_probes(client, [ProbeRequest(loop.query, loop.findings, loop.missing, loop.asked)  # type: ignore[arg-type]
                                  for loop in loops], limit)
    out: list[list[str] | None] = []
    for loop, reply in zip(loops, replies):
        if isinstance(reply, LLMError):
            loop.note = f"offline probes: {reply}"
            out.append(None)
        else:
            out.append(reply)
    return out


def _offline_probes(context: RetrievalContext, loops: Sequence[_Loop], limit: int, walk: dict[int, np.ndarray]
                    ) -> list[list[str]]:
    """Entity (or key-phrase) probes per loop from the top evidence (see the module docstring)."""
    sources = [loop.top(POOL_K) for loop in loops]
    for loop, top in zip(loops, sources):
        _fill_texts(context, loop, top)
    state = graph_state(context)
    if state.entities.size == 0:
        return [_keyword_probes(loop, top[:PROBE_SOURCES], limit) for loop, top in zip(loops, sources)]
    _walks(context, state, loops, walk)
    rows = context.cache.get("comorag.rows", lambda: (
        {f: r for r, f in enumerate(state.facts.ids.tolist()) if f},
        {e: r for r, e in enumerate(state.entities.ids.tolist()) if e}))
    fact_rows, entity_rows = rows
    every = list(dict.fromkeys(p for top in sources for p in top))
    facts = context.store.facts_of_passages(every)
    heads = list(dict.fromkeys(p for top in sources for p in top[:PROBE_SOURCES]))
    mentions = context.store.mentions_of_passages(heads)
    questions = context.embedder().encode([loop.query for loop in loops])
    out = []
    for loop, top, question in zip(loops, sources, questions):
        candidates: list[tuple[str, str, str | None, float]] = []  # (entity id, display, label, fact relevance)
        for pid in top:
            for fact in facts.get(pid, []):
                row = fact_rows.get(fact.id)
                relevance = float(state.facts.matrix[row] @ question) if row is not None else -1.0
                candidates += [(fact.subject_id, fact.subject, None, relevance),
                               (fact.object_id, fact.object, None, relevance)]
        candidates += [(e.id, e.display, e.label, -1.0) for pid in top[:PROBE_SOURCES] for e in mentions.get(pid, [])]
        asked = {normalize_name(a) for a in loop.asked}
        _, missing = coverage(loop.query, [loop.texts.get(p, "") for p in top[:COVERAGE_TOP]])
        probes = []
        focus = _focus(loop.query, [loop.texts.get(p, "") for p in top])
        if focus and normalize_name(focus) not in asked:
            asked.add(normalize_name(focus))
            probes.append(focus)
            loop.focused.add(focus)
        for display in _rank_entities(candidates, asked, walk[id(loop)], state, entity_rows):
            extra = [w for w in missing if w not in set(words(display))][:PROBE_TERMS]
            probe = " ".join([display, *extra])
            if normalize_name(probe) not in asked:
                asked.add(normalize_name(probe))
                probes.append(probe)
            if len(probes) == limit:
                break
        out.append(probes or _keyword_probes(loop, top[:PROBE_SOURCES], limit))
    return out


def _focus(query: str, evidence: Sequence[str]) -> str | None:
    """The question's content words without those every evidence passage holds (they tell nothing apart), when
    that drops some but not all of them (in one story, its heroine's name is in every passage).

    >>> _focus("Where did Cinderella's mother die?", ["Cinderella: her mother", "Cinderella wept"])
    'mother die'
    """
    terms = [w for w in dict.fromkeys(words(query)) if w not in _SKIP and len(w) > 1]
    texts = [t for t in evidence if t]
    if len(texts) < 2 or not terms:
        return None
    present = [{_stem(w) for w in words(text)} for text in texts]
    kept = [w for w in terms if not all(_stem(w) in stems for stems in present)]
    return " ".join(kept) if 0 < len(kept) < len(terms) else None


def _rank_entities(candidates: Sequence[tuple[str, str, str | None, float]], asked: set[str], mass: np.ndarray,
                   state: GraphState, entity_rows: dict[str, int]) -> list[str]:
    """Displays of the candidate names not yet asked about, best first: by the relevance of their best fact to
    the question, then by PageRank mass per passage mentioning them, then in order of appearance."""
    asked_words = {w for a in asked for w in a.split()}
    found: dict[str, list] = {}  # entity id -> [fact relevance, mass per passage, first seen, display]
    for entity_id, display, label, relevance in candidates:
        if entity_id in found:
            found[entity_id][0] = max(found[entity_id][0], relevance)
            continue
        name = normalize_name(display)
        if (not name or _DIGITS.match(name) or not _proper(display, label) or set(name.split()) <= asked_words
                or any(name in a for a in asked)):
            continue
        row = entity_rows.get(entity_id)
        share = float(mass[row]) / max(int(state.graph.entity_passages[row]), 1) if row is not None else 0.0
        found[entity_id] = [relevance, share, len(found), display]
    return [item[3] for item in sorted(found.values(), key=lambda item: (-item[0], -item[1], item[2]))]


def _proper(display: str, label: str | None) -> bool:
    """Whether an entity is a name (tagged by NER, or two or more capitalised words), not a described thing.

    A single capitalised word without a NER label is often just the first word of a sentence ("Therein").

    >>> _proper("The Starfall Festival", None), _proper("an astronomical observatory on Marren Head", None)
    (True, False)
    >>> _proper("Therein", None), _proper("Kettleby", "LOC")
    (False, True)
    """
    if label:
        return True
    tokens = display.split()
    if tokens and tokens[0].casefold() in ("the", "a", "an"):
        tokens = tokens[1:]
    capitalised = sum(t[:1].isupper() for t in tokens)
    return capitalised >= 2 and tokens[0][:1].isupper() and all(t[:1].isupper() or t.casefold() in _LINKS or
                                                                not t[:1].isalpha() for t in tokens)


def _walks(context: RetrievalContext, state: GraphState, loops: Sequence[_Loop], walk: dict[int, np.ndarray]
           ) -> None:
    """Each question's Personalized PageRank mass over entity rows (computed once per question)."""
    todo = [loop for loop in loops if id(loop) not in walk]
    if not todo:
        return
    _, reset, _ = query_seeds(context, state, [loop.query for loop in todo])
    alive = reset.sum(axis=0) > 0
    mass = np.zeros((reset.shape[0], len(todo)))
    if alive.any():  # a column without any seed (no passage scored) keeps zero mass: evidence order decides
        mass[:, alive] = personalized_pagerank(state.graph.transition, reset[:, alive], dangling=state.graph.dangling,
                                               damping=context.settings.damping)
    for column, loop in enumerate(todo):
        walk[id(loop)] = mass[:state.graph.n_entities, column]


def _keyword_probes(loop: _Loop, fresh: Sequence[str], limit: int) -> list[str]:
    """Key phrases of the source passages that the question and earlier probes do not contain."""
    sentences = [s for p in fresh for s in split_sentences(loop.texts.get(p, ""))]
    asked = " ".join(normalize_name(a) for a in loop.asked)
    probes = []
    for phrase in extract_keywords(sentences, top=4 * limit):
        if normalize_name(phrase) in asked:
            continue
        probes.append(phrase)
        if len(probes) == limit:
            break
    return probes


# --- the LLM's notes ------------------------------------------------------------------------------
def _note_findings(context: RetrievalContext, client: object, loops: Sequence[_Loop],
                   found: Sequence[Sequence[_List]], probes: Sequence[str | None]) -> None:
    """Ask the LLM for one cue per retrieval and add the findings to its loop."""
    from hippo.llm.probing import CueRequest, ask_cues

    cluster_ids = [c for lists in found for li in lists for c in li.clusters[:2]]
    summaries = {c.id: c.summary for c in context.store.clusters(cluster_ids).values()} if cluster_ids else {}
    requests = []
    for loop, lists, probe in zip(loops, found, probes):
        sections: dict[str, list[str]] = {"detail passages": [], "topic summaries": [], "timeline summaries": []}
        for li in lists:
            if li.layer == "veridical":
                sections["detail passages"] = list(li.texts[:FINDINGS_SHOWN["detail passages"]])
            else:
                heading = "topic summaries" if li.layer == "semantic" else "timeline summaries"
                sections[heading] = [summaries[c] for c in li.clusters[:FINDINGS_SHOWN[heading]] if c in summaries]
        requests.append(CueRequest(loop.query, probe, sections))
    cues = ask_cues(client, requests)  # type: ignore[arg-type]
    for loop in dict.fromkeys(loops):
        mine = [cue for owner, cue in zip(loops, cues) if owner is loop]
        texts = tuple(c for c in mine if isinstance(c, str) and c)
        errors = [c for c in mine if isinstance(c, LLMError)]
        loop.findings += texts
        last = loop.cycles[-1]
        note = last.note
        if errors:
            failed = f"no findings noted for {len(errors)} search(es): {errors[0]}"
            note = f"{note}; {failed}" if note else failed
        loop.cycles[-1] = replace(last, findings=last.findings + texts, note=note)


# --- the result -----------------------------------------------------------------------------------
def _result(context: RetrievalContext, loop: _Loop, mode: str) -> ProbeResult:
    ranked = loop.ranking()[:loop.k]
    cluster_ids = {c for li in loop.lists for c in li.clusters}
    summaries = {c.id: c.summary for c in context.store.clusters(sorted(cluster_ids)).values()} if cluster_ids else {}
    whys = []
    for pid, _, index in ranked:
        chosen = loop.lists[index]
        base = chosen.whys[chosen.passage_ids.index(pid)]
        units = []
        for li in loop.lists:
            if li.layer != "veridical" and pid in li.passage_ids[:3] and li.clusters:
                summary = summaries.get(li.clusters[0], "")
                label = f"{li.layer} summary: {' '.join(summary.split())[:160]}"
                if label not in units:
                    units.append(label)
        whys.append(replace(base, probe=chosen.probe, units=tuple(base.units) + tuple(units[:2])))
    hits = make_hits(context, [pid for pid, _, _ in ranked], [score for _, score, _ in ranked], "comorag", whys)
    return ProbeResult(loop.query, tuple(hits), tuple(loop.cycles), loop.stopped or "cycle limit", mode,
                       context.settings.comorag_base, loop.answer)
