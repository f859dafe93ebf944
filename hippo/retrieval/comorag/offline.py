"""ComoRAG's offline rule: coverage of the question as confidence, and probes from the evidence's names.

See :mod:`hippo.retrieval.comorag` for the rule in words; the constants below are its knobs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from hippo.graph.ppr import personalized_pagerank
from hippo.ingest.extract.labels import COMMON, NUMERIC_LABELS
from hippo.memory.extractive import STOPWORDS, extract_keywords, words
from hippo.retrieval.base import RetrievalContext
from hippo.retrieval.comorag.pool import POOL_K, Loop, fill_texts
from hippo.retrieval.hipporag import PPR_TOL, GraphState, graph_state, query_seeds
from hippo.text import normalize_name, split_sentences

__all__ = ["COVERAGE_TOP", "PROBE_SOURCES", "PROBE_TERMS", "SUFFICIENT_COVERAGE", "coverage", "loop_coverage",
           "offline_probes"]

COVERAGE_TOP = 3
"""Fused passages whose words count for the offline coverage."""
SUFFICIENT_COVERAGE = 1.0
"""Offline: the evidence suffices at this coverage of the question's content words."""
PROBE_SOURCES = 3
"""Top fused passages whose mentioned entities are probe candidates (besides the names in the top POOL_K facts)."""
PROBE_TERMS = 2
"""Uncovered question words appended to an offline probe, at most."""
_DIGITS = re.compile(r"^[\d\s.,:/-]+$")
_SKIP = STOPWORDS | {"whose", "whom", "whoever", "whichever", "whatever"}
_LINKS = {"of", "the", "and", "de", "del", "della", "der", "di", "du", "da", "van", "von", "la", "le", "des", "y",
          "in", "on", "for", "upon", "at", "&"}


def _stem(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:5] if len(word) >= 6 else word


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


def loop_coverage(context: RetrievalContext, loop: Loop) -> float:
    """The coverage of a loop's question by its top fused passages: the offline confidence of its trace."""
    top = loop.top(COVERAGE_TOP)
    fill_texts(context, loop, top)
    return round(coverage(loop.query, [loop.texts.get(p, "") for p in top])[0], 4)


def offline_probes(context: RetrievalContext, loops: Sequence[Loop], limit: int, walk: dict[int, np.ndarray]
                    ) -> list[list[str]]:
    """Entity (or key-phrase) probes per loop from the top evidence (see the module docstring)."""
    sources = [loop.top(POOL_K) for loop in loops]
    for loop, top in zip(loops, sources):
        fill_texts(context, loop, top)
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
    questions = context.embedder().query([loop.query for loop in loops], against="fact")
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
    >>> _proper("Therein", None), _proper("Kettleby", "LOC"), _proper("stepmother", "NOUN")
    (False, True, False)
    """
    if label:
        return label != COMMON and label not in NUMERIC_LABELS  # NOUN marks a common-noun phrase, DATE/NUM numbers
    tokens = display.split()
    if tokens and tokens[0].casefold() in ("the", "a", "an"):
        tokens = tokens[1:]
    capitalised = sum(t[:1].isupper() for t in tokens)
    return capitalised >= 2 and tokens[0][:1].isupper() and all(t[:1].isupper() or t.casefold() in _LINKS or
                                                                not t[:1].isalpha() for t in tokens)


def _walks(context: RetrievalContext, state: GraphState, loops: Sequence[Loop], walk: dict[int, np.ndarray]
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
                                               damping=context.settings.damping, tol=PPR_TOL)
    for column, loop in enumerate(todo):
        walk[id(loop)] = mass[:state.graph.n_entities, column]


def _keyword_probes(loop: Loop, fresh: Sequence[str], limit: int) -> list[str]:
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
