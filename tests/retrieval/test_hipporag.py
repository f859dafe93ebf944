import numpy as np
import pytest

from hippo.retrieval.hipporag import minmax


def test_minmax_all_equal_gives_ones_and_dead_rows_zero():
    live = np.array([True, True, False])
    assert minmax(np.array([2.0, 2.0, -np.inf]), live).tolist() == [1.0, 1.0, 0.0]


def test_without_facts_hipporag_is_dense_and_says_so(kg_demo):
    hits = kg_demo.retrieve("Where was Ada Lindqvist born?", k=3, method="hipporag")
    dense = kg_demo.retrieve("Where was Ada Lindqvist born?", k=3, method="dense")
    assert [h.passage_id for h in hits] == [h.passage_id for h in dense]
    assert all(h.why.fallback == "dense: no facts in the store" for h in hits)


def test_graph_is_filled_by_the_offline_extractor(kg_demo_graph):
    counts = kg_demo_graph.stats()["counts"]
    assert counts["entities"] > 100 and counts["facts"] > 100 and counts["mentions"] > 200


def test_hipporag_hits_explain_themselves(kg_demo_graph):
    hits = kg_demo_graph.retrieve("In which village was the founder of the Marren Observatory born?", k=5,
                                  method="hipporag")
    assert hits and all(h.method == "hipporag" and h.why.fallback is None for h in hits)
    assert any(h.why.seed_entities for h in hits) and any(h.why.facts for h in hits)


def test_hipporag_recall_on_demo_questions_beats_dense(kg_demo_graph, demo_questions):
    def recall(method: str) -> float:
        total = 0.0
        for q in demo_questions:
            titles = [h.title for h in kg_demo_graph.retrieve(q["question"], k=5, method=method)]
            total += len(set(q["gold_titles"]) & set(titles)) / len(q["gold_titles"])
        return total / len(demo_questions)

    assert recall("hipporag") >= recall("dense")


@pytest.mark.parametrize("method", ["dense", "bm25", "hipporag"])
def test_batched_and_single_agree(kg_demo_graph, method):
    queries = ["Who built the Lindqvist Refractor?", "Which ship did Piet Karsen captain?"]
    batched = kg_demo_graph.retrieve_many(queries, k=4, method=method)
    single = [kg_demo_graph.retrieve(q, k=4, method=method) for q in queries]
    assert [[h.passage_id for h in hits] for hits in batched] == [[h.passage_id for h in hits] for hits in single]
