"""The chain of facts behind an answer, on the demo graph built by the bundled spaCy pipeline."""

from __future__ import annotations

import itertools

from hippo.model import ChainStep


def _passages_of(kg, *titles: str) -> list[str]:
    return [p.passage_id for p in kg.store.iter_passages() if p.title in titles]


def test_the_chain_joins_the_question_entity_to_the_answer(kg_demo_graph):
    shown = _passages_of(kg_demo_graph, "Marren Observatory", "Ada Lindqvist", "Tomas Vey")
    chain = kg_demo_graph.chain("In which village was the founder of the Marren Observatory born?", "Kettleby", shown)
    assert chain and all(isinstance(step, ChainStep) and step.passage_ids for step in chain)
    names = [chain[0].subject, chain[0].object, chain[-1].subject, chain[-1].object]
    assert "Marren Observatory" in names[:2] and "Kettleby" in names[2:]
    assert len(chain) <= 4 and {p for step in chain for p in step.passage_ids} <= set(shown)
    # without the passage that says where she was born, there is no chain
    assert kg_demo_graph.chain("In which village was the founder of the Marren Observatory born?", "Kettleby",
                               _passages_of(kg_demo_graph, "Marren Observatory")) == ()
    # consecutive steps share an entity: it is one path, not a bag of facts
    for left, right in itertools.pairwise(chain):
        assert {left.subject, left.object} & {right.subject, right.object}


def test_no_chain_when_the_answer_names_no_entity_or_is_the_question_entity(kg_demo_graph):
    question = "In which village was the founder of the Marren Observatory born?"
    assert kg_demo_graph.chain(question, "a village nobody named") == ()
    assert kg_demo_graph.chain(question, "Marren Observatory") == ()
    assert kg_demo_graph.chain("What is this about?", "Kettleby") == ()


def test_a_graph_less_store_has_no_chain(kg_demo):
    assert kg_demo.chain("Who founded the Marren Observatory?", "Ada Lindqvist") == ()
