"""The chain of facts behind an answer: from the entities a question names to the entity the answer names.

A multi-hop answer is only as good as the links it rests on ("the Marren Observatory was founded by
Ada Lindqvist", "Ada Lindqvist was born in Kettleby"). The reader writes the answer from passages;
this module finds the same links among the facts *those passages* state, so a user sees the hops and
can check each against the passage that states it. Paths through the whole graph were tried first:
on the demo they join a question to an answer through hub places ("... was built in Harrowgate",
"Grey Heron was built at Harrowgate"), which explains nothing. Where no path of facts in the shown
passages joins the question to the answer, the chain is empty: it is evidence shown beside the
answer, never a condition of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import networkx as nx

from hippo.graph.linking import NameIndex, link_names
from hippo.model import ChainStep, Fact
from hippo.stores.base import GraphStore
from hippo.text import normalize_name

__all__ = ["MAX_CHAIN_STEPS", "answer_chain"]

MAX_CHAIN_STEPS = 4
"""Longer paths join almost any two entities, so they explain nothing."""


def answer_chain(store: GraphStore, names: NameIndex, entity_ids: Sequence[str], question: str, answer: str,
                 passage_ids: Sequence[str], *, max_steps: int = MAX_CHAIN_STEPS) -> tuple[ChainStep, ...]:
    """The shortest chain of facts, stated in ``passage_ids``, from an entity of ``question`` to one of ``answer``.

    Parameters
    ----------
    store : where the facts of the passages are read.
    names : the index of named entities' normalised names to entity rows (``GraphState.names``).
    entity_ids : entity id of each row of ``names`` (``GraphState.entities.ids``).
    question : the question; its named entities are found by exact normalised-name match.
    answer : the short answer (no citations); the whole answer, or the names inside it, must name an entity.
    passage_ids : the passages shown to the reader; only their facts make the chain.
    max_steps : longest chain returned.

    Returns
    -------
    tuple of ChainStep, question side first, each with the shown passages that state it; empty when
    either end names no entity or no path of at most ``max_steps`` facts joins them.
    """
    starts = [str(entity_ids[r]) for r in link_names(question, names).tolist()]
    ends = [str(entity_ids[r]) for r in _answer_rows(answer, names)]
    ends = [e for e in ends if e not in starts]
    if not starts or not ends:
        return ()
    graph = nx.Graph()
    for passage_id, facts in store.facts_of_passages(list(passage_ids)).items():
        for fact in facts:
            if fact.subject_id == fact.object_id:
                continue
            if not graph.has_edge(fact.subject_id, fact.object_id):
                graph.add_edge(fact.subject_id, fact.object_id, fact=fact, passages=[])
            graph.edges[fact.subject_id, fact.object_id]["passages"].append(passage_id)
    best: list[str] | None = None
    for start in starts:
        for end in ends:
            if start in graph and end in graph and nx.has_path(graph, start, end):
                path = nx.shortest_path(graph, start, end)
                if len(path) - 1 <= max_steps and (best is None or len(path) < len(best)):
                    best = path
    if best is None:
        return ()
    return tuple(_step(graph.edges[a, b]) for a, b in pairwise(best))


def _step(edge: dict) -> ChainStep:
    fact: Fact = edge["fact"]
    return ChainStep(fact.subject, fact.predicate, fact.object, tuple(dict.fromkeys(edge["passages"])))


def _answer_rows(answer: str, names: NameIndex) -> list[int]:
    """Entity rows the answer names: the whole answer first, else the names inside it."""
    whole = names.rows.get(normalize_name(answer))
    if whole is not None:
        return [whole]
    return link_names(answer, names).tolist()
