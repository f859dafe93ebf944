"""The Streamlit pages, run headless in-process with Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

import hippo
from hippo.cli.app import app as cli
from hippo.config import DEFAULT_EMBED_MODEL
from hippo.embed import embedding_identity
from hippo.model import ChainStep
from hippo.retrieval import METHODS
from hippo.ui import common, jobs, methods
from hippo.ui.answer_view import chain_graph
from hippo.ui.graph import layout, vis_data
from hippo.ui.launch import streamlit_command
from hippo.ui.views.ask import PLACEHOLDER, Query
from hippo.ui.views.documents import JOB_KEY
from tests.ui.conftest import APP, skip_without_graph

QUESTION = "In which village was the founder of the Marren Observatory born?"
TIMEOUT = 120  # the first question loads the embedding model


@pytest.fixture()
def open_app(monkeypatch: pytest.MonkeyPatch):
    """``open_app(store, page=None)``: the app on ``store`` (optionally switched to a page), after one run."""
    monkeypatch.delenv(common.EMBED_MODEL_ENV, raising=False)

    def start(store: Path, page: str | None = None, **env: str) -> AppTest:
        monkeypatch.setenv("HIPPO_STORE", str(store))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
        if page:
            at.switch_page(common.PAGES[page]).run()
        assert not at.exception, at.exception
        return at

    return start


def texts(at: AppTest) -> str:
    """Every markdown, caption, alert and heading of the last run, as one string."""
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "header",
                                  "subheader") for e in getattr(at, kind)]
    return "\n".join(str(p).replace("\\", "") for p in parts)


def ask(at: AppTest, question: str, method: str | None = None) -> AppTest:
    at.text_input(key="ask_question").input(question)
    if method:
        at.selectbox(key="ask_method").select(method)
    return at.button(key="FormSubmitter:ask-Ask").click().run()


def test_ask_shows_the_answer_its_evidence_and_keeps_them(open_app, demo_store):
    at = open_app(demo_store.path)
    assert at.selectbox(key="ask_method").options == [methods.label(m) for m in sorted(METHODS)]
    box = at.text_input(key="ask_question")
    assert box.value == "" and box.placeholder == PLACEHOLDER
    ask(at, QUESTION)
    assert not at.exception, at.exception
    page = texts(at)
    assert "quoted sentences" in page and "Ada Lindqvist" in page
    assert "Cited passages" in page and ":orange-background[" in page  # the sentence used, marked in its passage
    bars = [h.value for h in at.html]
    assert bars and "#1" in bars[0] and "100% of top hit" in bars[0] and "raw score" in bars[0]
    assert at.query_params["q"] == QUESTION and at.query_params["method"] == "hipporag"
    shown = [e.label for e in at.expander]
    at.text_input(key="ask_question").input("Who paid for the dome?").run()  # typed, not yet asked
    assert "Ada Lindqvist" in texts(at) and [e.label for e in at.expander] == shown


def test_the_form_survives_a_page_switch_and_a_link_reproduces_the_answer(open_app, demo_store):
    at = ask(open_app(demo_store.path), QUESTION, method="bm25")
    at.switch_page(common.PAGES["stats"]).run()
    at.switch_page(common.PAGES["ask"]).run()
    assert not at.exception, at.exception
    assert at.text_input(key="ask_question").value == QUESTION and at.selectbox(key="ask_method").value == "bm25"
    assert "Ada Lindqvist" in texts(at) and at.query_params["method"] == "bm25"
    linked = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    linked.query_params.update(q="Who paid for the dome of the Marren Observatory?", method="bm25", k="3")
    linked.run()
    assert not linked.exception, linked.exception
    assert linked.text_input(key="ask_question").value.startswith("Who paid")
    assert linked.session_state["ask_result"]["query"].k == 3 and "Henrik Aldous" in texts(linked)


def test_history_shows_an_earlier_answer_again(open_app, demo_store):
    at = ask(open_app(demo_store.path), QUESTION)
    first = at.session_state["ask_result"]["answer"]
    ask(at, "Who paid for the dome of the Marren Observatory?")
    assert "Recent questions · 2" in [e.label for e in at.expander]
    [button] = [b for b in at.button if b.key == "history-1"]
    button.click().run()
    assert at.session_state["ask_result"]["answer"] is first  # shown again, not asked again
    assert at.text_input(key="ask_question").value == QUESTION and at.query_params["q"] == QUESTION


def test_not_found_says_so_and_still_shows_the_best_passages(open_app, demo_store):
    at = open_app(demo_store.path)
    with hippo.open(demo_store.path) as kg:
        hits = tuple(kg.retrieve("Who founded the Marren Observatory?", k=3))
    at.session_state["ask_result"] = {"query": Query("Who is the king of Saltry?", "dense", 3), "answer": hippo.Answer(
        "Who is the king of Saltry?", "Not found in the indexed documents.", "local", (), hits, found=False,
        model="qwen2.5-0.5b-instruct")}
    at.run()
    page = texts(at)
    assert "Not found in the indexed documents" in page and "local model" in page and "qwen2.5" in page
    assert "Evidence · 3 passage(s)" in page and len(at.html) == 3


def test_ask_hipporag_shows_seed_entities_and_facts(open_app, demo_store):
    skip_without_graph(demo_store)
    at = ask(open_app(demo_store.path), QUESTION, method="hipporag")
    assert not at.exception, at.exception
    assert "module docstring" not in at.selectbox(key="ask_method").help
    hits = at.session_state["ask_result"]["answer"].hits
    seeds = [name for h in hits for name in h.why.seed_entities]
    if seeds:
        assert "Seed entities" in texts(at) and any(b.label == common.escape_md(seeds[0]) for b in at.button)
    else:  # no fact matched the question: every hit says it fell back, and the page shows why
        assert all(h.why.fallback for h in hits) and "fallback" in texts(at)
    assert "Graph behind the answer" in texts(at)


def test_ask_on_an_empty_store_says_so(open_app, tmp_path):
    hippo.open(tmp_path / "store").close()
    at = open_app(tmp_path / "store")
    assert "The store is empty" in texts(at)


def chain_answer(kg: hippo.KnowledgeGraph) -> hippo.Answer:
    """An answer with a two-fact chain over the demo graph's own facts (as issue 15's reader returns them)."""
    founded = next(f for f in kg.facts("Marren Observatory") if f.predicate == "was founded by")
    born = next(f for f in kg.facts(founded.object) if "born" in f.predicate)
    hits = tuple(kg.retrieve(QUESTION, k=5, method="hipporag"))
    passage = next(h for h in hits if h.passage_id in founded.passage_ids)
    sentence = next(s for s in passage.text.split(". ") if "founded by" in s)
    chain = (ChainStep(founded.subject, founded.predicate, founded.object, founded.passage_ids),
             ChainStep(born.subject, born.predicate, born.object, born.passage_ids))
    source = hippo.Source(sentence, passage.passage_id, passage.doc_id, passage.title, passage.source, passage.score)
    return hippo.Answer(QUESTION, born.object, "local", (source,), hits, chain=chain, model="qwen2.5-0.5b-instruct")


def test_the_chain_is_listed_and_drawn_as_a_path_in_the_graph(open_app, demo_store):
    skip_without_graph(demo_store)
    with hippo.open(demo_store.path) as kg:
        answer = chain_answer(kg)
        picture, focus, path = chain_graph(kg, answer)
    assert len(path) == 2 and all(picture.has_edge(a, b) for a, b in path)
    assert {a for a, _ in path} | {b for _, b in path} <= focus
    _, edges = vis_data(picture, focus, path)
    assert sum(bool(e.get("chain")) for e in edges) == 2
    at = open_app(demo_store.path)
    at.session_state["ask_result"] = {"query": Query(QUESTION, "hipporag", 5), "answer": answer}
    at.run()
    assert not at.exception, at.exception
    headings = [h.value for h in at.subheader]
    assert headings[:4] == ["Answer", "How the answer follows", "The chain in the graph", "Cited passages · 1"]
    page = texts(at).replace("\\", "")
    assert "was founded by" in page and answer.chain[1].predicate in page and "local model" in page


def test_graph_layout_is_the_same_on_every_run(demo_store):
    skip_without_graph(demo_store)
    with hippo.open(demo_store.path) as kg:
        picture = kg.subgraph(["Marren Observatory"], depth=1, max_nodes=40)
        again = kg.subgraph(["Marren Observatory"], depth=1, max_nodes=40)
    first = layout(picture)
    assert first == layout(again)
    assert len(set(first.values())) == picture.number_of_nodes()


def test_trace_lists_probes_cycle_by_cycle():
    def script():
        from hippo.model import Hit, Why
        from hippo.ui.answer_view import show_trace

        show_trace([Hit("p-1", "d-1", "text one", 0.9, "comorag", "First", why=Why()),
                    Hit("p-2", "d-2", "text two", 0.8, "comorag", "Second", why=Why(probe="Where was Ada born?")),
                    Hit("p-3", "d-3", "text three", 0.7, "comorag", "Third", why=Why(probe="Where was Ada born?"))])

    at = AppTest.from_function(script).run()
    page = texts(at)
    assert "Reasoning trace" in page
    assert "Cycle 1" in page and "the question itself" in page and "#1 First" in page
    assert "Cycle 2" in page and "Where was Ada born?" in page and "#2 Second, #3 Third" in page


def test_trace_says_when_the_question_alone_found_every_hit_and_is_absent_for_other_methods():
    def script():
        from hippo.model import Hit, Why
        from hippo.ui.answer_view import show_trace

        show_trace([Hit("p-1", "d-1", "text one", 0.9, "comorag", "First", why=Why()),
                    Hit("p-2", "d-2", "text two", 0.8, "comorag", "Second", why=Why())])
        show_trace([Hit("p-3", "d-3", "text three", 0.7, "dense", "Third", why=Why())])

    at = AppTest.from_function(script).run()
    page = texts(at)
    assert page.count("Reasoning trace") == 1 and "#1 First, #2 Second" in page and "Third" not in page
    assert "No follow-up probe found a passage" in page


def test_explore_finds_an_entity_and_opens_its_page(open_app, demo_store):
    skip_without_graph(demo_store)
    at = open_app(demo_store.path, "explore")
    at.text_input(key="explore_like").input("Lindqvist").run()
    found = [b for b in at.button if b.key and b.key.startswith("find-")]
    assert found and all("lindqvist" in b.label.lower() for b in found)
    found[0].click().run()
    assert not at.exception, at.exception
    assert at.header[0].value == found[0].label
    assert [m.label for m in at.metric] == ["Facts", "Passages", "Synonyms"]
    assert int(at.metric[1].value) > 0
    related = [b for b in at.button if b.key and b.key.startswith("near-")]
    if related:
        related[0].click().run()
        assert at.header[0].value == related[0].label


def test_explore_on_a_store_without_graph_says_so(open_app, small_store):
    at = open_app(small_store, "explore")
    assert "created without fact extraction" in texts(at) and "extractor=" not in texts(at)


def test_explore_an_unknown_entity_in_the_url_says_so(open_app, demo_store):
    skip_without_graph(demo_store)
    at = open_app(demo_store.path)
    at.query_params["entity"] = "Nobody Atall"
    at.switch_page(common.PAGES["explore"]).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    assert "No entity called “Nobody Atall” in this store" in texts(at)


def test_documents_lists_and_deletes_with_confirmation(open_app, small_store):
    at = open_app(small_store, "documents")
    assert "3 document(s) · 3 passage(s)" in texts(at)
    choice = at.selectbox(key="delete_choice")
    victim = choice.options[0]
    choice.select(victim).run()
    at.button(key="delete_ask").click().run()
    assert "This cannot be undone" in texts(at)
    at.button(key="delete_no").click().run()
    assert "This cannot be undone" not in texts(at) and "3 document(s)" in texts(at)
    at.selectbox(key="delete_choice").select(victim).run()
    at.button(key="delete_ask").click().run()
    at.button(key="delete_yes").click().run()
    assert not at.exception, at.exception
    assert "Deleted" in texts(at) and "2 document(s) · 2 passage(s)" in texts(at)
    with hippo.open(small_store) as kg:
        assert len(kg.documents()) == 2


def test_an_upload_runs_in_the_background_and_its_report_is_kept(small_store):
    with hippo.open(small_store) as kg:
        job = jobs.start_indexing(kg, [("notes.md", b"# Saltry\n\nSaltry is a fishing village with a lighthouse.")])
        report = job.future.result()
        assert job.outcome() is report and report.documents_added == 1
        fraction, text = job.status()
        assert fraction == jobs.READ_SHARE and "embedding" in text  # done reading, never 100 % before the end
        assert "notes.md" in [s.document.source for s in kg.documents()]


def test_an_upload_survives_leaving_the_page_and_its_summary_goes_after_a_delete(open_app, small_store):
    at = open_app(small_store, "documents")
    with hippo.open(small_store) as kg:
        job = jobs.start_indexing(kg, [("notes.md", b"# Saltry\n\nSaltry is a fishing village with a lighthouse.")])
        at.session_state[JOB_KEY] = job
        at.switch_page(common.PAGES["stats"]).run()  # away while it runs
        job.future.result()
    at.switch_page(common.PAGES["documents"]).run()
    assert not at.exception, at.exception
    assert "Indexed 1 file(s)" in texts(at) and "4 document(s)" in texts(at)
    at.selectbox(key="delete_choice").select(at.selectbox(key="delete_choice").options[0]).run()
    at.button(key="delete_ask").click().run()
    at.button(key="delete_yes").click().run()
    assert "Deleted" in texts(at) and "Indexed" not in texts(at)


def test_stats_shows_counts_models_and_settings(open_app, small_store):
    at = open_app(small_store, "stats")
    assert {m.label: m.value for m in at.metric}["documents"] == "3"
    models = at.dataframe[0].value
    identity = embedding_identity(DEFAULT_EMBED_MODEL)
    shown = dict(zip(models["role"], models["model"]))
    assert shown["embeds passages, questions"] == identity["passage"]["model"]
    assert shown["embeds entity names, facts"] == identity["entity"]["model"]
    assert "chunk_tokens" in at.dataframe[1].value["setting"].tolist()


def test_missing_store_is_a_message_with_a_way_out(open_app, tmp_path):
    at = open_app(tmp_path / "nowhere")
    assert [e.value for e in at.error] and "no hippo store at" in at.error[0].value
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert "The store is empty" in texts(at)


def test_store_of_another_model_is_a_message(open_app, small_store):
    at = open_app(small_store, **{common.EMBED_MODEL_ENV: "bge-small-en"})
    assert "another embedding model" in at.error[0].value
    assert DEFAULT_EMBED_MODEL in at.error[0].value and not at.exception


def test_ui_command_binds_localhost_headless_without_usage_stats(tmp_path):
    argv, env = streamlit_command(str(tmp_path / "kg"), port=8600)
    options = dict(zip(argv[5::2], argv[6::2]))
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4].endswith("app.py")
    assert options["--server.address"] == "127.0.0.1" and options["--server.port"] == "8600"
    assert options["--server.headless"] == "true" and options["--browser.gatherUsageStats"] == "false"
    assert env["HIPPO_STORE"] == str(tmp_path / "kg")
    result = CliRunner().invoke(cli, ["ui", "--port", "70000", "--store", str(tmp_path / "kg")])
    assert result.exit_code == 1 and "not a TCP port" in result.output
