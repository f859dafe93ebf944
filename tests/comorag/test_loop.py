"""The offline probing loop: trace, deduplication, stop reasons, probes that never repeat."""

from __future__ import annotations

import pytest

import hippo
from hippo.errors import ConfigError, UnknownMethodError
from hippo.text import normalize_name

QUESTIONS = [
    "In which village was the founder of the Marren Observatory born?",
    "Which river flows out of the lake on whose shore the founder of the Marren Observatory was born?",
    "Which company built the telescope with which Comet Vey was discovered?",
    "At which school did the founder of the Starfall Festival teach?",
]
STOPS = {"sufficient", "no new evidence", "no probes left", "cycle limit"}


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_trace_records_each_cycle(kg_layers, question):
    result = kg_layers.probe(question, k=5)
    assert result.mode == "offline" and result.base == "hipporag" and result.stopped in STOPS
    assert result.cycles[0].cycle == 0 and result.cycles[0].probes == (question,)
    assert [c.cycle for c in result.cycles] == list(range(len(result.cycles)))
    assert len(result.cycles) <= kg_layers.settings.comorag_cycles + 1
    assert all(1 <= len(c.probes) <= kg_layers.settings.comorag_probes for c in result.cycles[1:])
    assert all(0.0 <= c.coverage <= 1.0 for c in result.cycles)
    if result.stopped == "no new evidence":
        assert not result.cycles[-1].new_in_top
    if result.stopped == "sufficient":
        assert result.cycles[-1].coverage == 1.0


@pytest.mark.parametrize("question", QUESTIONS)
def test_probes_never_repeat_and_the_pool_is_deduplicated(kg_layers, question):
    result = kg_layers.probe(question, k=8)
    asked = [normalize_name(question)] + [normalize_name(p) for p in result.probes]
    assert len(asked) == len(set(asked))
    seen: set[str] = set()
    for cycle in result.cycles:
        assert not seen & set(cycle.new_passages)  # a passage is new once
        seen |= set(cycle.new_passages)
    ids = [h.passage_id for h in result.hits]
    assert len(ids) == len(set(ids)) and set(ids) <= seen
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    assert all(h.method == "comorag" for h in result.hits)
    assert {h.why.probe for h in result.hits} - {None} <= set(result.probes)


def test_retrieve_gives_the_hits_of_probe(kg_layers):
    question = QUESTIONS[0]
    assert [h.passage_id for h in kg_layers.retrieve(question, k=5, method="comorag")] == [
        h.passage_id for h in kg_layers.probe(question, k=5).hits]
    batch = kg_layers.retrieve_many(QUESTIONS[:2], k=5, method="comorag")
    assert [[h.passage_id for h in hits] for hits in batch] == [
        [h.passage_id for h in kg_layers.probe(q, k=5).hits] for q in QUESTIONS[:2]]


def test_probes_are_names_found_in_the_evidence(kg_layers):
    result = kg_layers.probe(QUESTIONS[2], k=5)
    assert result.probes, result
    assert not any(p.split()[0].casefold() in ("a", "an") for p in result.probes)
    assert any("Tomas Vey" in p or "Pellworth" in p or "Lindqvist Refractor" in p for p in result.probes)


def test_a_covered_question_stops_at_once(kg_layers):
    result = kg_layers.probe("Who founded the Marren Observatory?", k=5)
    assert result.stopped == "sufficient" and len(result.cycles) == 1 and result.probes == ()


def test_no_probing_cycles_stops_at_the_limit(tmp_path, kg_layers):
    with hippo.open(kg_layers.store.location, comorag_cycles=0, comorag_llm=False) as kg:
        result = kg.probe(QUESTIONS[1], k=5)
    assert result.stopped == "cycle limit" and len(result.cycles) == 1


def test_no_new_evidence_and_no_probes_left(tmp_path):
    with hippo.open(tmp_path / "one", comorag_llm=False) as kg:
        kg.add_texts(["Kettleby is a village."], [{"title": "Kettleby", "source": "k"}])
        result = kg.probe("Where is the Kettleby tower?", k=3)
        assert result.stopped == "no new evidence" and result.probes == ("village",)
    with hippo.open(tmp_path / "two", comorag_llm=False) as kg:
        kg.add_texts(["Kettleby."], [{"title": "Kettleby", "source": "k"}])
        result = kg.probe("Where is the Kettleby tower?", k=3)
        assert result.stopped == "no probes left" and result.probes == ()
        assert kg.stats()["counts"]["clusters"] >= 1  # the layers were built on first use


def test_the_base_method_is_a_setting(tmp_path, kg_layers):
    with hippo.open(kg_layers.store.location, comorag_base="dense", comorag_llm=False) as kg:
        result = kg.probe(QUESTIONS[0], k=5)
        assert result.base == "dense" and result.hits
    with pytest.raises(ConfigError, match="probe itself"):
        hippo.open(kg_layers.store.location, comorag_base="comorag")
    with hippo.open(kg_layers.store.location, comorag_base="nope") as kg, pytest.raises(UnknownMethodError):
        kg.probe(QUESTIONS[0])
