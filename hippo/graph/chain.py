"""The chain of facts behind an answer: from the entities a question names to the entity the answer names.

A multi-hop answer is only as good as the links it rests on ("the Marren Observatory was founded by
Ada Lindqvist", "Ada Lindqvist was born in Kettleby"). The reader writes the answer from passages;
this module looks for the same links in the graph, so a user sees the hops and can check each one
against the passage that states it. Where no path of facts joins the question to the answer the
chain is empty: it is evidence shown beside the answer, never a condition of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import igraph as ig
import numpy as np

from hippo.graph.explore import EvidencePath, evidence_path
from hippo.graph.linking import link_names
from hippo.model import ChainStep
from hippo.retrieval.hipporag import GraphState
from hippo.stores.base import GraphStore
from hippo.text import normalize_name

__all__ = ["MAX_CHAIN_STEPS", "answer_chain", "path_steps"]

MAX_CHAIN_STEPS = 4
"""Longer paths join almost any two entities of a large graph, so they explain nothing."""


def answer_chain(store: GraphStore, state: GraphState, graph: ig.Graph, question: str, answer: str, *,
                 max_steps: int = MAX_CHAIN_STEPS, prefer_passages: Sequence[str] = ()) -> tuple[ChainStep, ...]:
    """The shortest chain of facts from an entity named in ``question`` to the entity ``answer`` names.

    Parameters
    ----------
    store, state, graph : the store, its graph state and search graph (``KnowledgeGraph._graph()``).
    question : the question; its named entities are found by exact normalised-name match.
    answer : the short answer; it must name an entity (the whole answer, or names inside it).
    max_steps : longest chain returned.
    prefer_passages : passage ids the answer cites; among chains of equal length, the one with most
        steps stated in these passages wins.

    Returns
    -------
    tuple of ChainStep, question side first; empty when either end names no entity or no short path exists.
    """
    starts = link_names(question, state.names)
    ends = _answer_rows(answer, state)
    ends = ends[~np.isin(ends, starts)]
    if not len(starts) or not len(ends):
        return ()
    ids = state.entities.ids
    best: tuple[tuple[int, int], tuple[ChainStep, ...]] | None = None
    preferred = set(prefer_passages)
    for start in starts.tolist():
        for end in ends.tolist():
            path = evidence_path(store, state, graph, str(ids[start]), str(ids[end]))
            if path is None or not path.steps or len(path.steps) > max_steps:
                continue
            steps = path_steps(path)
            rank = (len(steps), -sum(bool(preferred & set(s.passage_ids)) for s in steps))
            if best is None or rank < best[0]:
                best = (rank, steps)
    return best[1] if best else ()


def path_steps(path: EvidencePath) -> tuple[ChainStep, ...]:
    """An evidence path as chain steps: a fact (the first of those joining the pair), a synonym, or a shared passage."""
    steps = []
    for step in path.steps:
        if step.facts:
            fact = step.facts[0]
            steps.append(ChainStep(fact.subject, fact.predicate, fact.object, tuple(fact.passage_ids)))
        elif step.passage is not None:
            steps.append(ChainStep(step.source.display, "is mentioned with", step.target.display,
                                   (step.passage.passage_id,)))
        else:
            steps.append(ChainStep(step.source.display, "is another name for", step.target.display))
    return tuple(steps)


def _answer_rows(answer: str, state: GraphState) -> np.ndarray:
    """Entity rows the answer names: the whole answer first, else the names inside it."""
    whole = state.names.rows.get(normalize_name(answer))
    if whole is not None:
        return np.array([whole], dtype=np.int64)
    return link_names(answer, state.names)
