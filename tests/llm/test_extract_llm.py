"""The LLM extractor against the scripted endpoint: each kind of reply ends in the documented result."""

from __future__ import annotations

import json

import pytest

from hippo.config import Settings
from hippo.errors import ConfigError, LLMError
from hippo.ingest.extract.base import EXTRACTORS, Extraction, Mention, Triple, get_extractor
from hippo.ingest.extract.llm import LLMExtractor
from tests.conftest import spacy_model_or_skip
from tests.llm.conftest import llm_extra
from tests.llm.server import error, reply

PASSAGE = ("Ada Lindqvist\nAda Lindqvist was born in 1838 in Kettleby, a small village on the shore of Lake Imber. "
           "She founded the Marren Observatory in 1871.")
ENTITIES = ["Ada Lindqvist", "1838", "Kettleby", "Lake Imber", "Marren Observatory", "1871"]
TRIPLES = [["Ada Lindqvist", "was born in", "Kettleby"], ["Kettleby", "is on the shore of", "Lake Imber"],
           ["Ada Lindqvist", "founded", "Marren Observatory"]]
EXPECTED = Extraction(tuple(Mention(e) for e in ENTITIES), tuple(Triple(*t) for t in TRIPLES))


def run(make_client, *texts: str) -> list[Extraction]:
    return LLMExtractor(make_client()).extract(list(texts) or [PASSAGE])


def test_ner_then_facts_conditioned_on_the_entities(server, make_client):
    server.enqueue(reply({"named_entities": ENTITIES}), reply({"triples": TRIPLES}))
    assert run(make_client) == [EXPECTED]
    ner, facts = server.requests
    assert (ner.task, facts.task) == ("ner", "triples")
    assert ner.body["messages"][-1]["content"] == PASSAGE
    assert '"Ada Lindqvist", "1838", "Kettleby"' in facts.body["messages"][-1]["content"]
    assert ner.body["response_format"] == {"type": "json_object"}


def test_second_run_is_served_from_the_cache(server, make_client):
    server.enqueue(reply({"named_entities": ENTITIES}), reply({"triples": TRIPLES}))
    run(make_client)
    before = len(server.requests)
    extractor = LLMExtractor(make_client())
    assert extractor.extract([PASSAGE]) == [EXPECTED]
    assert len(server.requests) == before and extractor.client.usage.cache_hits == 2


def test_code_fences_and_think_blocks_are_read_through(server, make_client):
    server.enqueue(reply("```json\n" + json.dumps({"named_entities": ENTITIES}) + "\n```"),
                   reply("<think>Ada is the subject; resolve 'She'.</think>\n" + json.dumps({"triples": TRIPLES})))
    assert run(make_client) == [EXPECTED]


def test_truncated_reply_keeps_the_complete_triples(server, make_client):
    cut = '{"triples": [["Ada Lindqvist", "was born in", "Kettleby"], ["Kettleby", "is on the sho'
    server.enqueue(reply({"named_entities": ENTITIES}), reply(cut, finish_reason="length"))
    [result] = run(make_client)
    assert result.failed is None and result.triples == (Triple("Ada Lindqvist", "was born in", "Kettleby"),)


def test_non_json_reply_is_a_recorded_failure(server, make_client):
    server.enqueue(reply("I am sorry, I cannot help with that."))
    [result] = run(make_client)
    assert result == Extraction(
        failed="named entities: the reply holds no JSON: 'I am sorry, I cannot help with that.'")
    assert len(server.requests) == 1  # no fact request without entities


def test_failed_fact_request_keeps_the_entities(server, make_client):
    server.enqueue(reply({"named_entities": ENTITIES}), reply({"facts": "none"}))
    [result] = run(make_client)
    assert result.entities == EXPECTED.entities and result.triples == ()
    assert result.failed.startswith('facts: the reply has no "triples" list')


def test_empty_entity_list_means_no_facts_and_one_request(server, make_client):
    server.enqueue(reply({"named_entities": []}))
    assert run(make_client) == [Extraction()]
    assert server.tasks() == ["ner"]


def test_empty_triple_list_is_not_a_failure(server, make_client):
    server.enqueue(reply({"named_entities": ENTITIES}), reply({"triples": []}))
    assert run(make_client) == [Extraction(EXPECTED.entities)]


def test_server_error_after_retries_fails_only_that_passage(server, make_client):
    def handler(body):
        last = body["messages"][-1]["content"]
        if "Broken" in last:
            return error(500)
        return reply({"named_entities": ["Fine"]} if "Passage:" not in last else {"triples": []})

    server.handler = handler
    ok, broken = run(make_client, "Fine\nFine is fine.", "Broken\nBroken is broken.")
    assert ok == Extraction((Mention("Fine"),))
    assert broken.failed.startswith("named entities: the LLM endpoint 127.0.0.1") and "500" in broken.failed


def test_refused_key_stops_the_batch(server, make_client):
    server.handler = lambda body: error(401)
    with pytest.raises(LLMError, match="API key was refused"):
        run(make_client, "A\nOne.", "B\nTwo.")


def test_failed_passages_fall_back_to_the_named_extractor(server, make_client, monkeypatch):
    class Offline:
        name = "offline-test"

        def extract(self, texts):
            return [Extraction((Mention("Offline"),)) for _ in texts]

    monkeypatch.setitem(EXTRACTORS, "offline-test", lambda settings: Offline())
    server.enqueue(reply("no json here"))
    settings = Settings(extractor="llm", extra={"llm_fallback": "offline-test"})
    client = make_client()
    [result] = LLMExtractor.from_settings(settings, lambda: client).extract([PASSAGE])
    assert result == Extraction((Mention("Offline"),), extractor="offline-test")


def test_failed_passages_fall_back_to_spacy(server, make_client):
    spacy_model_or_skip()
    server.enqueue(reply("no json here"))
    client = make_client()
    settings = Settings(extractor="llm", extra={"llm_fallback": "spacy"})
    [result] = LLMExtractor.from_settings(settings, lambda: client).extract([PASSAGE])
    assert result.failed is None and result.extractor == "spacy" and result.triples


def test_registered_by_name_and_refuses_without_an_llm(server, offline_env):
    extractor = get_extractor(Settings(extractor="llm", extra=llm_extra(server)))
    assert isinstance(extractor, LLMExtractor) and extractor.client.cache is None
    extractor.client.close()
    with pytest.raises(ConfigError, match="needs an LLM endpoint.*HIPPO_LLM_MODEL"):
        get_extractor(Settings(extractor="llm"), lambda: None)
    with pytest.raises(ConfigError, match="llm_fallback"):
        get_extractor(Settings(extractor="llm", extra={**llm_extra(server), "llm_fallback": "llm"}))
