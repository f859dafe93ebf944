import numpy as np
import pytest

import hippo
from hippo.retrieval.hipporag import floored, minmax, rarity


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


def test_floored_weights_say_how_far_a_fact_stands_above_the_floor():
    live = np.array([True, True, True, False])
    weights = floored(np.array([0.30, 0.45, 0.60, 0.99]), live, 0.4)
    assert weights.tolist() == pytest.approx([0.0, 0.25, 1.0, 0.0])
    assert floored(np.array([0.2, 0.3]), np.array([True, True]), 0.5).tolist() == [0.0, 0.0]


def test_rarity_damps_less_than_hipporag_but_still_prefers_rare_entities():
    counts = np.array([1, 7, 100])
    inverse, sqrt, idf = (rarity(counts, 1000, kind) for kind in ("inverse", "sqrt", "idf"))
    assert inverse.tolist() == pytest.approx([1.0, 1 / 7, 0.01])
    for damped in (sqrt, idf):
        assert damped[0] > damped[1] > damped[2] > 0 and damped[1] > inverse[1]


def test_a_hit_shows_only_the_linked_facts_its_passage_states(kg_demo_graph):
    hits = kg_demo_graph.retrieve("In which village was the founder of the Marren Observatory born?", k=5,
                                  method="hipporag")
    stated = kg_demo_graph.store.facts_of_passages([h.passage_id for h in hits])
    for hit in hits:
        texts = {f.text for f in stated.get(hit.passage_id, [])}
        assert set(hit.why.facts) <= texts
    assert len({h.why.facts for h in hits}) > 1


@pytest.mark.parametrize("overrides", [
    {"seed_named_only": False, "link_query_names": False, "fact_floor": 0.0, "seed_rarity": "inverse",
     "title_edge_weight": 1.0, "numeric_synonyms": True, "relation_links": 0.0},
    {"fact_floor": 0.5, "seed_rarity": "sqrt", "title_edge_weight": 3.0},
])
def test_hipporag_as_published_and_hippo_settings_both_run(kg_demo_graph, overrides):
    with hippo.open(kg_demo_graph.store.location, **overrides) as kg:
        hits = kg.retrieve("Which company built the telescope with which Comet Vey was discovered?", k=5,
                           method="hipporag")
    assert len(hits) == 5 and all(h.why.fallback is None for h in hits)


def test_a_relation_chain_is_read_innermost_first():
    from hippo.text import relation_chain

    chain = relation_chain("Which steamship was captained by the father of the founder of the Starfall Festival?")
    assert [(relation, name) for relation, name, _ in chain] == [("founder", "the Starfall Festival"),
                                                                 ("father", "#1")]
    assert relation_chain("Who founded the Marren Observatory?") == []


def test_the_facts_that_state_the_asked_relation_lead_to_the_bridges_article(kg_demo_graph):
    """"the founder of X": of X's facts, "X was founded by Ada Lindqvist" states the relation asked (stem
    "found"), so Ada Lindqvist is seeded and her article comes second; with relation_links 0 PageRank ranks
    it below the passages that merely mention X, as HippoRAG 2 does."""
    question = "In which village was the founder of the Marren Observatory born?"
    location = kg_demo_graph.store.location
    with hippo.open(location, relation_links=0.1) as kg:
        linked = kg.retrieve(question, k=5, method="hipporag")
    with hippo.open(location, relation_links=0.0) as kg:
        plain = kg.retrieve(question, k=5, method="hipporag")
    assert [h.title for h in linked][:2] == ["Marren Observatory", "Ada Lindqvist"]
    assert "Marren Observatory was founded by Ada Lindqvist" in linked[0].why.facts
    assert "Ada Lindqvist" in linked[1].why.seed_entities
    assert "Ada Lindqvist" not in [h.title for h in plain][:2]


def test_a_chain_follows_the_bridge_to_the_next_hop(kg_demo_graph):
    """The founder of the Starfall Festival is Mira Castellane; her father's relation is asked of her."""
    from hippo.retrieval.relations import asked_relation_facts

    with hippo.open(kg_demo_graph.store.location, relation_links=0.1) as kg:
        state = kg.graph_state()
        question = "Which steamship was captained by the father of the founder of the Starfall Festival?"
        scores = state.facts.scores(kg.embedder().query([question], against="fact"))
        (hops,) = asked_relation_facts(kg._context, state, [question], scores)
        texts = [[f.text for f in kg.store.facts(state.facts.ids[rows].tolist()).values()] for rows in hops]
    assert any("founded by Mira Castellane" in t for t in texts[0]), texts
    assert len(hops) == 2 and any("Mira Castellane" in t for t in texts[1]), texts


def test_a_relative_clause_on_a_name_is_a_hop_of_the_chain(kg_demo_graph):
    """"the company that built the Lindqvist Refractor" is asked of the refractor, then "the founder of #1"."""
    from hippo.retrieval.relations import asked_relation_facts

    with hippo.open(kg_demo_graph.store.location) as kg:
        state = kg.graph_state()
        question = "On which island was the founder of the company that built the Lindqvist Refractor born?"
        scores = state.facts.scores(kg.embedder().query([question], against="fact"))
        (hops,) = asked_relation_facts(kg._context, state, [question], scores)
        leading = [kg.store.facts(state.facts.ids[rows[:1]].tolist()) for rows in hops]
    texts = [next(iter(found.values())).text for found in leading]
    assert len(texts) == 2 and "built by" in texts[0] and "found" in texts[1], texts


def edge_weight(kg: hippo.KnowledgeGraph, a: str, b: str) -> float:
    """The weight of the graph edge between entities ``a`` and ``b`` (0 without one)."""
    state = kg.graph_state()
    row = {e: r for r, e in enumerate(state.entities.ids.tolist())}
    return state.graph.adjacency[row[a], row[b]]


def test_dates_and_numbers_lose_their_synonymy_edges_unless_asked(kg_demo_graph):
    """"1871" and "1872" embed within the synonym threshold; by default no walk crosses between them."""
    from hippo.ingest.extract.labels import NUMERIC_LABELS

    first, second, _ = kg_demo_graph.store.graph_edges().synonyms
    labels = {i: e.label for i, e in kg_demo_graph.store.entities(list({*first, *second})).items()}
    numeric = [(x, y) for x, y in zip(first, second) if {labels[x], labels[y]} & NUMERIC_LABELS]
    named = [(x, y) for x, y in zip(first, second) if not {labels[x], labels[y]} & NUMERIC_LABELS]
    assert numeric and named, "the demo store has synonymy edges of both kinds"

    with hippo.open(kg_demo_graph.store.location) as default, \
            hippo.open(kg_demo_graph.store.location, numeric_synonyms=True) as published:
        assert all(edge_weight(published, *pair) > 0 for pair in numeric)
        assert all(edge_weight(default, *pair) < edge_weight(published, *pair) for pair in numeric)
        assert all(edge_weight(default, *pair) == edge_weight(published, *pair) for pair in named)


def test_synonym_max_keeps_each_entitys_strongest_synonyms_in_the_graph(kg_demo_graph):
    """Ingest caps a new entity's synonyms; the graph caps every entity's, also one stored before the
    entities that named it as theirs: an edge stays when it is among the strongest of one of its ends."""
    first, second, scores = kg_demo_graph.store.graph_edges().synonyms
    best: dict[str, tuple[float, str]] = {}
    for x, y, score in zip(first, second, scores):
        for a, b in ((x, y), (y, x)):
            best[a] = max(best.get(a, (0.0, "")), (score, b))
    weak = [(x, y) for x, y in zip(first, second) if best[x][1] != y and best[y][1] != x]
    assert weak, "the demo store has synonymy edges that are neither end's strongest"

    location = kg_demo_graph.store.location
    with hippo.open(location, numeric_synonyms=True) as every, \
            hippo.open(location, numeric_synonyms=True, synonym_max=1) as one:
        assert all(edge_weight(one, a, b) == edge_weight(every, a, b) for a, (_, b) in best.items())
        assert all(edge_weight(one, a, b) < edge_weight(every, a, b) for a, b in weak)
