"""Query-to-fact scores lifted by the relation the question asks about, read word by word.

A small sentence encoder scores a fact mostly by the names it shares with the question: for "In which
village was the founder of the Marren Observatory born?" it ranks "The Marren Observatory was founded in
1871" and "The Marren Observatory has been part of the University" above "The Marren Observatory was
founded by Ada Lindqvist", the one fact that leads on. The relation the question asks about is a single
word ("founder"), and the predicate that states it shares that word's stem ("founded by"). Two ways to use
it, both added to the cosines before HippoRAG 2's top facts are chosen (``hippo.retrieval.hipporag``):

- :func:`with_predicate_words` (``fact_lexical``): every top fact, by the share of its predicate's words
  the whole question writes;
- :func:`asked_relation_facts` (``relation_links``): only facts about the name of the question's innermost
  "the <relation> of <name>" phrase, when their predicate writes the relation (the first hop of the
  question, answerable from the question's own words, as :func:`hippo.llm.hops.of_plan` reads it), and
  on along the chain the question writes ("the father of the founder of X"); the other entity of such a
  fact is a bridge, whose article ``hipporag`` ranks high.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from hippo.graph.linking import link_names
from hippo.memory.extractive import STOPWORDS, words
from hippo.retrieval.base import RetrievalContext
from hippo.text import normalize_name, relation_chain

if TYPE_CHECKING:
    from hippo.retrieval.hipporag import GraphState

__all__ = ["RELATION_WORDS", "asked_relation_facts", "relation_stems", "stems", "with_predicate_words"]

LEXICAL_CANDIDATES = 50
"""Facts per query, best by cosine, whose predicates are compared word by word with the question."""
RELATION_WORDS = {
    "father": "son daughter child", "mother": "son daughter child", "parent": "son daughter child",
    "son": "father mother child", "daughter": "father mother child", "child": "father mother son daughter",
    "husband": "married wife spouse", "wife": "married husband spouse", "spouse": "married husband wife",
    "performer": "performed sung recorded singer", "singer": "sung recorded", "composer": "composed music score",
    "author": "written wrote", "writer": "written wrote", "birth": "born", "death": "died", "burial": "buried",
    "founder": "established created", "creator": "created", "producer": "produced",
}
"""Predicate words that state a relation without sharing its stem: "the father of X" is stated as "X is the
son of Y", "the husband of X" as "X married Y". Stems of these words count as the relation's own."""
GENERIC_RELATIONS = {"place", "date", "year", "time", "name", "count", "city"}
"""Stems of a relation's generic head, dropped when the relation asks more ("place" of birth)."""


def stems(text: str) -> set[str]:
    """Crude stems of a text's content words, hyphenated ones split: "founder" and "founded" share "found",
    "director" and "co-directed" share "direc".

    >>> sorted(stems("was co-directed by"))
    ['direc']
    """
    parts = (part for word in words(text) for part in word.split("-"))
    return {w[:5] if len(w) >= 6 else w for w in parts if w not in STOPWORDS and len(w) > 2}


def relation_stems(relation: str) -> set[str]:
    """The stems a predicate may share with an asked relation: its own, and those of :data:`RELATION_WORDS`.

    A generic head ("place" of birth, "date" of death) is left out when more is asked: "took place" does
    not state a birthplace.

    >>> sorted(relation_stems("father")), sorted(relation_stems("place of birth"))
    (['child', 'daugh', 'fathe', 'son'], ['birth', 'born'])
    """
    asked = stems(relation) | stems(" ".join(RELATION_WORDS.get(word, "") for word in words(relation)))
    return asked - GENERIC_RELATIONS or asked


def _best(scores: np.ndarray, rows: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` of ``rows`` with the highest ``scores`` (all of them when fewer)."""
    if rows.size <= count:
        return rows
    return rows[np.argpartition(-scores[rows], count - 1)[:count]]


def _predicates(context: RetrievalContext, state: GraphState, rows: np.ndarray) -> list[str]:
    """The predicate of each fact row ("" for a fact the store no longer holds)."""
    ids = state.facts.ids[rows].tolist()
    found = context.store.facts(ids)
    return [found[i].predicate if i in found else "" for i in ids]


def with_predicate_words(context: RetrievalContext, state: GraphState, queries: Sequence[str], scores: np.ndarray,
                         weight: float) -> np.ndarray:
    """Cosines plus ``weight`` x the share of a top fact's predicate words that the question writes.

    Only the top :data:`LEXICAL_CANDIDATES` facts by cosine are compared; ``scores`` is (queries, facts).
    """
    out = scores.copy()
    for column, query in enumerate(queries):
        asked = stems(query)
        top = _best(scores[column], np.flatnonzero(state.facts.live), LEXICAL_CANDIDATES)
        share = [len(stems(p) & asked) / max(len(stems(p)), 1) for p in _predicates(context, state, top)]
        out[column, top] += weight * np.asarray(share)
    return out


def asked_relation_facts(context: RetrievalContext, state: GraphState, queries: Sequence[str],
                         scores: np.ndarray) -> list[list[np.ndarray]]:
    """Per question, per hop of its relation chain, the fact rows that state the hop's relation: the fact
    that names the hop's bridge first, then the others (agent facts first, then by cosine).

    The question's "the <relation> of <name>" phrases and relative clauses on a name ("the company that
    built X") are read as a chain, innermost first (:func:`hippo.text.relation_chain`: "the father of the
    founder of X" asks who founded X, then that person's father). A hop's name is linked to the graph as
    query names are (:func:`hippo.graph.linking.link_names`: a whole name), or is the previous hop's
    bridge; of the :data:`LEXICAL_CANDIDATES` facts about it best by cosine (:func:`_facts_about`), those
    whose predicate shares a stem with the relation are kept ("founder" / "was founded by", "father" /
    "is the son of": :func:`relation_stems`). The hop's bridge is the other entity of its first such fact
    that is a name (not a date or a number). The chain stops at a hop with no bridge; a question without
    such a phrase, or whose name is not in the graph, has none. ``scores`` is (queries, facts).
    """
    return [_chain_facts(context, state, query, scores[column]) for column, query in enumerate(queries)]


def _chain_facts(context: RetrievalContext, state: GraphState, query: str, scores: np.ndarray) -> list[np.ndarray]:
    hops: list[np.ndarray] = []
    bridges: list[int] = []
    for relation, name, _ in relation_chain(query, clauses=True):
        if name.startswith("#"):
            named = np.array(bridges[int(name[1:]) - 1:int(name[1:])], dtype=np.int64)
        else:
            named = link_names(name, state.names)
        rows = _stating(context, state, _best(scores, _facts_about(context, state, named), LEXICAL_CANDIDATES),
                        relation, scores)
        found = _bridge(context, state, rows, named)
        if found is None:
            break
        at, bridge = found
        hops.append(np.concatenate([rows[at:at + 1], rows[:at], rows[at + 1:]]))
        bridges.append(bridge)
    return hops


def _stating(context: RetrievalContext, state: GraphState, rows: np.ndarray, relation: str,
             scores: np.ndarray) -> np.ndarray:
    """The ``rows`` whose predicate shares a stem with ``relation``: those naming an agent ("built by",
    "founded by": the doer the relation asks for, not "built in" a place) first, then by cosine."""
    asked = relation_stems(relation)
    kept = [(not predicate.endswith(" by"), -scores[row], row)
            for row, predicate in zip(rows.tolist(), _predicates(context, state, rows)) if stems(predicate) & asked]
    return np.array([row for *_, row in sorted(kept)], dtype=np.int64)


def _facts_about(context: RetrievalContext, state: GraphState, named: np.ndarray) -> np.ndarray:
    """Live fact rows with one of the ``named`` entities as subject or object, or stated by the article of
    one of them: the title entity "Palo Alto (2013 film)" has no fact of its own, its article's subject
    ("Palo Alto is a 2013 film directed by Gia Coppola") does."""
    graph = state.graph
    about = np.isin(graph.fact_subject, named) | np.isin(graph.fact_object, named)
    articles = [state.title_passages[row] for row in named.tolist() if row in state.title_passages]
    if articles:
        ids = state.passages.ids[np.concatenate(articles)].tolist()
        row_of = context.cache.get("relations.fact_rows",
                                   lambda: {f: r for r, f in enumerate(state.facts.ids.tolist())})
        stated = [row_of[f.id] for facts in context.store.facts_of_passages(ids).values() for f in facts
                  if f.id in row_of]
        about[stated] = True
    return np.flatnonzero(about & state.facts.live & (graph.fact_subject >= 0))


def _bridge(context: RetrievalContext, state: GraphState, rows: np.ndarray,
            named: np.ndarray) -> tuple[int, int] | None:
    """(position in ``rows``, entity row) of the first fact end that is a name other than the hop's own: not
    one of the ``named`` entities, nor a name written inside theirs ("Palo Alto" in "Palo Alto (2013
    film)")."""
    graph = state.graph
    ends = np.stack([graph.fact_subject[rows], graph.fact_object[rows]], axis=1).ravel().tolist()
    own_rows = set(named.tolist())
    candidates = [e for e in dict.fromkeys(ends) if e in state.names.named and e not in own_rows]
    if not candidates:
        return None
    ids = state.entities.ids[np.array(candidates + named.tolist(), dtype=np.int64)].tolist()
    found = context.store.entities(ids)
    own = [normalize_name(found[i].display) for i in ids[len(candidates):] if i in found]
    for entity, entity_id in zip(candidates, ids):
        text = normalize_name(found[entity_id].display) if entity_id in found else ""
        if text and not any(text in name or name in text for name in own):
            return ends.index(entity) // 2, entity
    return None
