"""hippo with an LLM, end to end against the scripted endpoint: indexing, the fact filter, ask, and the key."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hippo
from hippo.cli.app import app
from hippo.errors import LLMError
from hippo.llm.prompts import ANSWER_ALONE_SYSTEM, ANSWER_SYSTEM
from hippo.llm.qa import THOUGHT_MAX_TOKENS
from tests.conftest import DEMO
from tests.llm.conftest import API_KEY, MODEL, llm_extra, provenance
from tests.llm.server import ScriptedModel, error, reply, task_of

FILES = ["people/ada_lindqvist.md", "institutions/marren_observatory.md", "places/lake_imber.md",
         "people/tomas_vey.md"]
SCRIPT = {
    "Ada Lindqvist": (["Ada Lindqvist", "1838", "Kettleby", "Lake Imber", "University of Coldbrook"],
                      [["Ada Lindqvist", "was born in", "Kettleby"], ["Kettleby", "is on the shore of", "Lake Imber"],
                       ["Ada Lindqvist", "studied at", "University of Coldbrook"]]),
    "Marren Observatory": (["Marren Observatory", "Ada Lindqvist", "Henrik Aldous", "1871"],
                           [["Ada Lindqvist", "founded", "Marren Observatory"],
                            ["Henrik Aldous", "paid for", "Marren Observatory"]]),
    "Lake Imber": (["Lake Imber", "River Ondrel", "Lanmere"],
                   [["River Ondrel", "flows out of", "Lake Imber"], ["Lanmere", "stands on", "Lake Imber"]]),
    "Tomas Vey": (["Tomas Vey", "Brackenmouth", "Marren Observatory"],
                  [["Tomas Vey", "was born in", "Brackenmouth"], ["Tomas Vey", "directed", "Marren Observatory"]]),
}
SCRIPTED_FACTS = {tuple(t) for _, triples in SCRIPT.values() for t in triples}
QUESTION = "In which village was the founder of the Marren Observatory born?"


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    for name in FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO / name, folder / name)
    return folder


@pytest.fixture()
def model(server):
    server.handler = ScriptedModel(SCRIPT)
    return server.handler


@pytest.fixture()
def llm_env(server, monkeypatch):
    monkeypatch.setenv("HIPPO_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("HIPPO_LLM_MODEL", MODEL)
    monkeypatch.setenv("HIPPO_LLM_API_KEY", API_KEY)


def test_indexing_with_the_llm_stores_the_scripted_facts_and_reuses_the_cache(
        server, model, corpus, tmp_path, offline_env):
    store = tmp_path / "store"
    with hippo.open(store, extractor="llm", extra=llm_extra(server)) as kg:
        report = kg.index(corpus)
        assert report.facts == len(SCRIPTED_FACTS) and not report.extraction_failures
        assert report.llm_usage["requests"] == 2 * len(FILES) and report.llm_usage["cache_hits"] == 0
        assert {(f.subject, f.predicate, f.object) for f in kg.facts()} == SCRIPTED_FACTS
        assert kg.index(corpus).llm_usage.get("requests", 0) == 0  # unchanged files: nothing to extract
    assert provenance(store) == {"llm"} and (store / "llm_cache.sqlite").exists()
    asked = len(server.requests)
    with hippo.open(store) as kg:  # a later run: the store remembers extractor and endpoint
        kg.delete(str(corpus / FILES[0]))
        again = kg.index(corpus)
        assert again.documents_added == 1 and again.facts == 3
        assert again.llm_usage == {"requests": 0, "cache_hits": 2, "retries": 0, "failures": 0,
                                   "prompt_tokens": 0, "completion_tokens": 0}
    assert len(server.requests) == asked


def test_extraction_failures_are_reported_not_invented(server, corpus, tmp_path, offline_env):
    model = ScriptedModel(SCRIPT)
    server.handler = lambda body: (error(400, '{"error": "nope"}') if "Lake Imber\n" in
                                   body["messages"][-1]["content"][:12] else model(body))
    with hippo.open(tmp_path / "store", extractor="llm", extra=llm_extra(server)) as kg:
        report = kg.index(corpus)
        [failure] = report.extraction_failures
        assert "extraction failed: named entities: the LLM endpoint" in failure.reason and "400" in failure.reason
        assert ("River Ondrel", "flows out of", "Lake Imber") not in {(f.subject, f.predicate, f.object)
                                                                      for f in kg.facts()}
        assert report.passages == len(FILES)  # the passage itself is kept


def kg_with_filter(server, tmp_path: Path, corpus: Path, **settings) -> hippo.KnowledgeGraph:
    kg = hippo.open(tmp_path / "store", extractor="llm", fact_filter=True, extra=llm_extra(server), **settings)
    kg.index(corpus)
    return kg


def test_fact_filter_keeps_what_the_llm_keeps(server, model, corpus, tmp_path, offline_env):
    kept = ["Ada Lindqvist", "founded", "Marren Observatory"]
    model.keep = lambda question, candidates: [["ada lindqvist", "founded", "Marren observatory"]]  # case differs
    with kg_with_filter(server, tmp_path, corpus, filter_candidates=5) as kg:
        hits = kg.retrieve(QUESTION, k=3, method="hipporag")
    [request] = [r for r in server.requests if r.task == "filter"]
    candidates = json.loads(request.body["messages"][-1]["content"].split("Candidate facts: ")[1])["fact"]
    assert len(candidates) == 5 and kept in candidates
    assert hits and all(h.why.fallback is None for h in hits)
    assert {f for h in hits for f in h.why.facts} == {" ".join(kept)}


def test_fact_filter_is_shown_filter_candidates_facts(server, model, corpus, tmp_path, offline_env):
    model.keep = lambda question, candidates: candidates[-1:]  # the weakest candidate by cosine
    with kg_with_filter(server, tmp_path, corpus, filter_candidates=8, bridge_articles=0) as kg:
        hits = kg.retrieve(QUESTION, k=3, method="hipporag")
    [request] = [r for r in server.requests if r.task == "filter"]
    candidates = json.loads(request.body["messages"][-1]["content"].split("Candidate facts: ")[1])["fact"]
    assert len(candidates) == 8
    assert {f for h in hits for f in h.why.facts} == {" ".join(candidates[-1])}


@pytest.mark.parametrize("keep", [lambda q, c: [], lambda q, c: [["Tomas Vey", "invented", "the telescope"]]],
                         ids=["kept-none", "made-up-fact"])
def test_fact_filter_keeping_nothing_falls_back_to_dense(server, model, corpus, tmp_path, offline_env, keep):
    model.keep = keep
    with kg_with_filter(server, tmp_path, corpus) as kg:
        hits = kg.retrieve(QUESTION, k=3, method="hipporag")
    assert hits and {h.why.fallback for h in hits} == {"dense: the fact filter kept no fact"}


def test_fact_filter_failure_leaves_facts_unfiltered_and_says_so(server, model, corpus, tmp_path, offline_env):
    with kg_with_filter(server, tmp_path, corpus) as kg:
        server.handler = lambda body: error(400, '{"error": "filter refused"}')
        hits = kg.retrieve(QUESTION, k=3, method="hipporag")
    assert hits and all(h.why.fallback.startswith("facts unfiltered: the fact filter failed") for h in hits)
    assert any(h.why.facts for h in hits)


def test_the_article_of_a_kept_facts_bridge_entity_comes_second(server, model, corpus, tmp_path, offline_env):
    def titles(keep, **settings):  # a store each: the filter's replies are cached per store
        model.keep = lambda question, candidates: [c for c in candidates if c[0] == keep[0] and c[2] == keep[1]]
        store = tmp_path / f"store-{keep[0]}-{settings}"
        with hippo.open(store, extractor="llm", extra=llm_extra(server), **settings) as kg:
            kg.index(corpus)
            return [h.title for h in kg.retrieve(QUESTION, k=4, method="hipporag")]

    # Ada Lindqvist: named by the kept fact, not by the question, and the title of a document
    with_bridge = titles(("Ada Lindqvist", "Marren Observatory"))
    assert with_bridge[1] == "Ada Lindqvist" and with_bridge[0] != "Ada Lindqvist", with_bridge
    # Henrik Aldous has no article of his own: the ranking is PageRank's
    assert titles(("Henrik Aldous", "Marren Observatory")) == titles(("Henrik Aldous", "Marren Observatory"),
                                                                      bridge_articles=0)


def test_fact_filter_runs_by_default_when_an_llm_is_configured(server, model, corpus, tmp_path, offline_env):
    with hippo.open(tmp_path / "store", extractor="llm", extra=llm_extra(server)) as kg:
        kg.index(corpus)
        hits = kg.retrieve(QUESTION, k=3, method="hipporag")
    assert server.tasks().count("filter") == 1 and hits and all(h.why.fallback is None for h in hits)
    with hippo.open(tmp_path / "store", extractor="llm", extra=llm_extra(server), fact_filter=False) as kg:
        hits = kg.retrieve("Who paid for the dome of the observatory?", k=3, method="hipporag")
    assert server.tasks().count("filter") == 1  # off: no request
    assert hits and all(h.why.fallback is None for h in hits) and any(h.why.facts for h in hits)


def test_cli_ask_answers_with_citations_in_llm_mode(server, model, corpus, tmp_path, llm_env):
    model.answer = "Kettleby [3]. The observatory's founder, Ada Lindqvist [2], was born there [3]."
    question = "In which village was the Marren Observatory's founder born?"  # no "the X of Y": no hops
    runner, store = CliRunner(), str(tmp_path / "store")
    assert runner.invoke(app, ["index", str(corpus), "--store", store]).exit_code == 0
    result = runner.invoke(app, ["ask", question, "-k", "3", "--store", store])
    assert result.exit_code == 0, result.output
    assert ("A: Kettleby [1]. The observatory's founder, Ada Lindqvist [2], was born there [1]. "
            f"(LLM endpoint {MODEL})") in result.output
    [request] = [r for r in server.requests if r.task == "answer"]
    prompt = request.body["messages"][-1]["content"]
    assert prompt.startswith("[1] ") and "\n\n[3] " in prompt and prompt.endswith(f"Question: {question}")
    answer = json.loads(runner.invoke(app, ["ask", question, "-k", "3", "--store", store, "--json"]).output)
    assert answer["mode"] == "llm" and len(answer["sources"]) == 2
    assert [s["passage_id"] for s in answer["sources"]] == [answer["hits"][2]["passage_id"],
                                                           answer["hits"][1]["passage_id"]]
    assert len([r for r in server.requests if r.task == "answer"]) == 1  # the second ask came from the cache


def test_ask_without_an_llm_stays_extractive(corpus, tmp_path, offline_env):
    with hippo.open(tmp_path / "store") as kg:
        kg.index(corpus)
        assert kg.llm() is None and kg.ask(QUESTION).mode == "extractive"


def test_the_api_key_never_leaves_the_request_header(server, model, corpus, tmp_path, llm_env, caplog):
    caplog.set_level(logging.DEBUG)
    store = tmp_path / "store"
    runner = CliRunner()
    with hippo.open(store, extractor="llm", fact_filter=True) as kg:
        kg.index(corpus)
        kg.retrieve(QUESTION, method="hipporag")
        kg.ask(QUESTION)
        texts = [repr(kg.llm()), repr(kg.llm().config), str(kg.stats())]
        server.handler = lambda body: error(401, f'{{"error": "invalid key {API_KEY}"}}')
        with pytest.raises(LLMError) as caught:
            kg.ask("Who paid for the dome of the observatory?")
        texts.append(str(caught.value))
    failed = runner.invoke(app, ["ask", "Which river flows out of Lake Imber?", "--store", str(store)])
    assert failed.exit_code == 1 and "API key was refused" in failed.output
    texts += [failed.output, caplog.text]
    assert all(r.headers.get("Authorization") == f"Bearer {API_KEY}" for r in server.requests)
    assert not [t for t in texts if API_KEY in t]
    stored = [p for p in store.rglob("*") if p.is_file() and API_KEY.encode() in p.read_bytes()]
    assert stored == []


def ask_indexed(server, corpus, tmp_path, question: str, k: int, **settings) -> hippo.Answer:
    """``kg.ask(question, k=k)`` on a new store of ``corpus`` read by ``server`` (no extractor: no facts)."""
    with hippo.open(tmp_path / "store", extractor="none", extra=llm_extra(server), **settings) as kg:
        kg.index(corpus)
        return kg.ask(question, k=k)


def answer_requests(server) -> list[tuple[str, str]]:
    """(question, passages shown) of each answer request, in order."""
    contents = [r.body["messages"][-1]["content"] for r in server.requests if r.task == "answer"]
    return [(c.rsplit("Question: ", 1)[1], c.rsplit("Question: ", 1)[0]) for c in contents]


@pytest.mark.parametrize(("content", "finish"), [("", "stop"), ("   \n ", "stop"),
                                                 ("The founder of the observatory was a woman who " * 6, "length")])
def test_an_unreadable_answer_falls_back_to_quoted_sentences_with_a_note(server, corpus, tmp_path, offline_env,
                                                                          content, finish):
    server.handler = lambda body: reply(content, finish_reason=finish)
    answer = ask_indexed(server, corpus, tmp_path, QUESTION, k=3)
    assert answer.mode == "extractive" and answer.text and answer.sources
    assert answer.notes and "holds no readable answer" in answer.notes[0]


def test_a_not_found_reply_says_so_and_keeps_the_passages(server, corpus, tmp_path, offline_env):
    server.handler = lambda body: reply("Not found.")
    answer = ask_indexed(server, corpus, tmp_path, "Who paid for the dome of the observatory?", k=3)
    assert not answer.found and answer.text == "Not found in the indexed documents." and len(answer.hits) == 3
    assert answer.sources == () and answer.chain == ()


THOUGHT = ("Thought: The Marren Observatory was founded by Ada Lindqvist [{obs}]. "
           "Ada Lindqvist was born in Kettleby [{ada}].\nAnswer: Kettleby")


def test_the_reader_thinks_first_and_cites_the_passages_of_its_thought(server, corpus, tmp_path, offline_env):
    with hippo.open(tmp_path / "store", extractor="none", extra=llm_extra(server), reader_hops=False) as kg:
        kg.index(corpus)
        titles = [h.title for h in kg.retrieve(QUESTION, k=3)]
        server.handler = lambda body: reply(THOUGHT.format(obs=titles.index("Marren Observatory") + 1,
                                                           ada=titles.index("Ada Lindqvist") + 1))
        answer = kg.ask(QUESTION, k=3)
    assert answer.mode == "llm" and answer.found and answer.text == "Kettleby [1][2]"
    assert [s.title for s in answer.sources] == ["Marren Observatory", "Ada Lindqvist"]  # in the thought's order
    (request,) = [r for r in server.requests if r.task == "answer"]
    assert request.body["messages"][0]["content"] == ANSWER_SYSTEM and request.body["max_tokens"] == THOUGHT_MAX_TOKENS


def test_a_thought_cut_at_the_token_limit_is_followed_by_a_request_for_the_answer_alone(
        server, corpus, tmp_path, offline_env):
    rambling = "Thought: The Marren Observatory is an astronomical observatory on Marren Head, north of " * 4

    def handler(body):
        thinking = body["messages"][0]["content"] == ANSWER_SYSTEM
        return reply(rambling, finish_reason="length") if thinking else reply("Kettleby")

    server.handler = handler
    answer = ask_indexed(server, corpus, tmp_path, QUESTION, k=3, reader_hops=False)
    assert answer.mode == "llm" and answer.text.startswith("Kettleby [1]")
    assert answer.notes and "asked again for the answer alone" in answer.notes[0]
    systems = [r.body["messages"][0]["content"] for r in server.requests if r.task == "answer"]
    assert systems == [ANSWER_SYSTEM, ANSWER_ALONE_SYSTEM]


def test_reader_thought_off_asks_for_the_answer_alone(server, corpus, tmp_path, offline_env):
    server.handler = lambda body: reply("Kettleby")
    answer = ask_indexed(server, corpus, tmp_path, QUESTION, k=3, reader_thought=False, reader_hops=False)
    assert answer.text.startswith("Kettleby [1]")
    assert [r.body["messages"][0]["content"] for r in server.requests if r.task == "answer"] == [ANSWER_ALONE_SYSTEM]


COMPARISON = "Who was born first, Tomas Vey or Ada Lindqvist?"
BORN = {"Tomas Vey": "1852", "Ada Lindqvist": "1838"}


def comparing_model(body, dates=BORN):
    """Rewrites a comparison for one person and answers each date question from ``dates``."""
    last = body["messages"][-1]["content"]
    if task_of(body) == "date_question":
        return reply(f"When was {last.rsplit('Ask about: ', 1)[1]} born?")
    asked = last.rsplit("Question: ", 1)[1]
    person = next((p for p in dates if f"When was {p} born?" == asked), None)
    return reply(dates[person] if person else "Tomas Vey")


def test_a_comparison_by_date_is_decided_from_each_candidates_date(server, corpus, tmp_path, offline_env):
    server.handler = comparing_model
    answer = ask_indexed(server, corpus, tmp_path, COMPARISON, k=3)
    assert answer.mode == "llm" and answer.found and answer.text.startswith("Ada Lindqvist [1]")
    assert {s.title for s in answer.sources} == {"Tomas Vey", "Ada Lindqvist"}  # the passages holding each date
    assert [n for n in answer.notes if "compared by date" in n] == [
        "compared by date: When was Tomas Vey born? 1852", "compared by date: When was Ada Lindqvist born? 1838"]
    asked = [question for question, _ in answer_requests(server)]
    assert asked == ["When was Tomas Vey born?", "When was Ada Lindqvist born?"]  # never the comparison itself
    assert server.tasks().count("date_question") == 1  # the second question is the first with the name put in


def test_each_candidates_date_is_read_from_passages_retrieved_for_its_own_question(server, corpus, tmp_path,
                                                                                    offline_env):
    """With k=1 the question's hits hold one of the two articles; each date question retrieves its own."""
    server.handler = comparing_model
    with hippo.open(tmp_path / "store", extractor="none", extra=llm_extra(server)) as kg:
        kg.index(corpus)
        assert len(kg.retrieve("Was Tomas Vey or Ada Lindqvist born first?", k=1)) == 1
        answer = kg.ask("Was Tomas Vey or Ada Lindqvist born first?", k=1)
    assert answer.text.startswith("Ada Lindqvist [1]")
    assert {s.title for s in answer.sources} == {"Tomas Vey", "Ada Lindqvist"}
    shown = [passages for _, passages in answer_requests(server)]
    assert "born in Brackenmouth in 1852" in shown[0] and "born in 1838 in Kettleby" in shown[1]
    assert {h.title for h in answer.hits} >= {"Tomas Vey", "Ada Lindqvist"}  # the passages cited are among the hits


LIVES = {"When was Tomas Vey born?": "1852", "When did Tomas Vey die?": "1930",
         "When was Ada Lindqvist born?": "1838", "When did Ada Lindqvist die?": "1909"}


def test_who_lived_longer_is_decided_from_four_dates(server, corpus, tmp_path, offline_env):
    def model(body):
        asked = body["messages"][-1]["content"].rsplit("Question: ", 1)[1]
        return reply(LIVES.get(asked, "Ada Lindqvist"))

    server.handler = model
    answer = ask_indexed(server, corpus, tmp_path, "Who lived longer, Ada Lindqvist or Tomas Vey?", k=3)
    assert answer.text.startswith("Tomas Vey [1]")  # 78 years against 71
    assert [n.removeprefix("compared by date: ") for n in answer.notes if "compared by date" in n] == [
        "When was Ada Lindqvist born? 1838", "When did Ada Lindqvist die? 1909",
        "When was Tomas Vey born? 1852", "When did Tomas Vey die? 1930"]
    assert server.tasks().count("answer") == 4 and "date_question" not in server.tasks()


def test_a_comparison_whose_date_is_not_found_is_read_as_any_question(server, corpus, tmp_path, offline_env):
    server.handler = lambda body: comparing_model(body, dates={"Tomas Vey": "1852", "Ada Lindqvist": "not found"})
    answer = ask_indexed(server, corpus, tmp_path, COMPARISON, k=3)
    assert answer.text.startswith("Tomas Vey [1]") and not any("compared" in n for n in answer.notes)
    assert server.tasks()[-1] == "answer" and server.requests[-1].body["messages"][-1]["content"].endswith(COMPARISON)


def test_reader_compare_off_reads_a_comparison_as_any_question(server, corpus, tmp_path, offline_env):
    server.handler = comparing_model
    answer = ask_indexed(server, corpus, tmp_path, COMPARISON, k=3, reader_compare=False)
    assert answer.text.startswith("Tomas Vey [1]") and "date_question" not in server.tasks()


HOPS = {"Who founded the Marren Observatory?": "Ada Lindqvist", "In which village was Ada Lindqvist born?": "Kettleby"}


def hopping_model(body, answers=HOPS):
    """Splits QUESTION into two hops and answers each hop from ``answers``; the whole question gets "Tomas Vey"."""
    last = body["messages"][-1]["content"]
    if task_of(body) == "hops":
        return reply("1. Who founded the Marren Observatory?\n2. In which village was #1 born?")
    return reply(answers.get(last.rsplit("Question: ", 1)[1], "Tomas Vey"))


def test_a_multi_hop_question_is_answered_one_hop_at_a_time(server, corpus, tmp_path, offline_env):
    """The second hop names the first's answer and reads the passages retrieved for it (k=1 shows one)."""
    server.handler = hopping_model
    answer = ask_indexed(server, corpus, tmp_path, QUESTION, k=1)
    assert answer.found and answer.text.startswith("Kettleby [1]")
    assert [n for n in answer.notes if n.startswith("hop")] == [
        "hop 1: Who founded the Marren Observatory? Ada Lindqvist",
        "hop 2: In which village was Ada Lindqvist born? Kettleby"]
    (first, _), (second, shown) = answer_requests(server)
    assert (first, second) == ("Who founded the Marren Observatory?", "In which village was Ada Lindqvist born?")
    assert "born in 1838 in Kettleby" in shown
    assert server.tasks().count("hops") == 1
    assert "Ada Lindqvist" in {s.title for s in answer.sources}


def test_a_hop_not_found_leaves_the_question_to_be_read_whole(server, corpus, tmp_path, offline_env):
    server.handler = lambda body: hopping_model(body, answers={"Who founded the Marren Observatory?": "not found"})
    answer = ask_indexed(server, corpus, tmp_path, QUESTION, k=3)
    assert answer.text.startswith("Tomas Vey") and not any(n.startswith("hop") for n in answer.notes)
    assert [q for q, _ in answer_requests(server)] == ["Who founded the Marren Observatory?", QUESTION]


def test_reader_hops_off_reads_the_question_whole(server, corpus, tmp_path, offline_env):
    server.handler = hopping_model
    answer = ask_indexed(server, corpus, tmp_path, QUESTION, k=3, reader_hops=False)
    assert answer.text.startswith("Tomas Vey") and "hops" not in server.tasks()


def test_a_plan_that_copies_the_question_is_not_followed(server, corpus, tmp_path, offline_env):
    """A small model sometimes 'splits' a question into itself plus a question about its answer."""
    question = "In which village was the Marren Observatory's founder born?"
    copied = question.replace("the Marren", "Marren")  # one word dropped: still the whole question
    server.handler = lambda body: (reply(f"1. {copied}\n2. Who founded #1?") if task_of(body) == "hops"
                                   else hopping_model(body))
    answer = ask_indexed(server, corpus, tmp_path, question, k=3)
    assert answer.text.startswith("Tomas Vey") and not any(n.startswith("hop") for n in answer.notes)
    assert [q for q, _ in answer_requests(server)] == [question]


def test_without_a_plan_from_the_model_the_question_of_phrases_make_one(server, corpus, tmp_path, offline_env):
    """QUESTION left whole by the model: "the founder of the Marren Observatory" is asked first."""
    answers = {**HOPS, "Who or what is the founder of the Marren Observatory?": "Ada Lindqvist"}
    server.handler = lambda body: (reply(f"1. {QUESTION}") if task_of(body) == "hops"
                                   else hopping_model(body, answers))
    answer = ask_indexed(server, corpus, tmp_path, QUESTION, k=1)
    assert answer.text.startswith("Kettleby [1]")
    assert [q for q, _ in answer_requests(server)] == ["Who or what is the founder of the Marren Observatory?",
                                                       "In which village was Ada Lindqvist born?"]


def test_a_hop_answered_in_words_no_passage_holds_is_read_again_with_a_thought(server, corpus, tmp_path,
                                                                                offline_env):
    """'the Lindqvist woman' is in no passage: the hop is asked again, the sentence quoted before the name."""
    def model(body):
        hop = body["messages"][-1]["content"].rsplit("Question: ", 1)[-1]
        if hop == "Who founded the Marren Observatory?" and body["messages"][0]["content"] == ANSWER_ALONE_SYSTEM:
            return reply("the Lindqvist woman")
        if body["messages"][0]["content"] == ANSWER_SYSTEM:
            return reply("Thought: The observatory was founded by Ada Lindqvist [1]. Answer: Ada Lindqvist [1]")
        return hopping_model(body)

    server.handler = model
    answer = ask_indexed(server, corpus, tmp_path, QUESTION, k=1)
    assert answer.text.startswith("Kettleby [1]")
    assert "hop 1: no passage cited, read again with a thought" in answer.notes
    assert "hop 1: Who founded the Marren Observatory? Ada Lindqvist" in answer.notes
    assert [r.body["messages"][0]["content"] == ANSWER_SYSTEM for r in server.requests
            if r.task == "answer"] == [False, True, False]
