"""The chain of facts behind an answer, on the demo graph built by the bundled spaCy pipeline."""

from __future__ import annotations

import itertools

from hippo.model import ChainStep


def test_the_chain_joins_the_question_entity_to_the_answer(kg_demo_graph):
    chain = kg_demo_graph.chain("In which village was the founder of the Marren Observatory born?", "Kettleby")
    assert chain and all(isinstance(step, ChainStep) and step.passage_ids for step in chain)
    names = [chain[0].subject, chain[0].object, chain[-1].subject, chain[-1].object]
    assert "Marren Observatory" in names[:2] and "Kettleby" in names[2:]
    assert len(chain) <= 4
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
