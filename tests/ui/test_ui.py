"""The Streamlit pages, run headless in-process with Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

import hippo
from hippo.cli.app import app as cli
from hippo.retrieval import METHODS
from hippo.ui import common
from hippo.ui.launch import streamlit_command
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
    assert at.selectbox(key="ask_method").options == sorted(METHODS)
    ask(at, QUESTION)
    assert not at.exception, at.exception
    page = texts(at)
    assert "extractive" in page and "Ada Lindqvist" in page
    evidence = [e.label for e in at.expander]
    assert evidence and "Marren Observatory" in " ".join(evidence) and "score" in evidence[0]
    at.text_input(key="ask_question").input("Who paid for the dome?").run()  # typed, not yet asked
    assert "Ada Lindqvist" in texts(at) and [e.label for e in at.expander] == evidence


def test_ask_hipporag_shows_seed_entities_and_facts(open_app, demo_store):
    skip_without_graph(demo_store)
    at = ask(open_app(demo_store.path), QUESTION, method="hipporag")
    assert not at.exception, at.exception
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


def test_trace_lists_probes_cycle_by_cycle():
    def script():
        from hippo.model import Hit, Why
        from hippo.ui.views.ask import show_trace

        show_trace([Hit("p-1", "d-1", "text one", 0.9, "comorag", "First", why=Why()),
                    Hit("p-2", "d-2", "text two", 0.8, "comorag", "Second", why=Why(probe="Where was Ada born?")),
                    Hit("p-3", "d-3", "text three", 0.7, "comorag", "Third", why=Why(probe="Where was Ada born?"))])

    at = AppTest.from_function(script).run()
    page = texts(at)
    assert "Reasoning trace" in page
    assert "Cycle 1" in page and "the question itself" in page and "#1 First" in page
    assert "Cycle 2" in page and "Where was Ada born?" in page and "#2 Second, #3 Third" in page


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
    assert "The graph is empty" in texts(at)


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


def test_uploads_are_indexed_with_the_cli_skip_reasons(small_store):
    files = [("notes.md", b"# Saltry\n\nSaltry is a fishing village with a lighthouse."),
             ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
             ("program.exe", b"MZ\x90\x00"),
             ("big.txt", b"x" * 2000)]
    seen = []
    with hippo.open(small_store) as kg:
        report = common.index_uploads(kg, files, on_progress=seen.append, limit_bytes=1000)
        assert report.documents_added == 1 and report.passages == 1
        reasons = {s.path: s.reason for s in report.skipped}
        assert reasons["image.txt"].startswith("binary")
        assert reasons["program.exe"].startswith("unsupported type")
        assert reasons["big.txt"].startswith("too large")
        assert seen and seen[-1].files_done == seen[-1].files_total
        again = common.index_uploads(kg, files[:1])
        assert again.files_unchanged == 1 and again.documents_added == 0
        assert len(kg.documents()) == 4


def test_stats_shows_counts_models_and_settings(open_app, small_store):
    at = open_app(small_store, "stats")
    assert {m.label: m.value for m in at.metric}["documents"] == "3"
    models = at.dataframe[0].value
    assert models["model"].tolist()[0] == "all-MiniLM-L6-v2"
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
    assert "all-MiniLM-L6-v2" in at.error[0].value and not at.exception


def test_ui_command_binds_localhost_headless_without_usage_stats(tmp_path):
    argv, env = streamlit_command(str(tmp_path / "kg"), port=8600)
    options = dict(zip(argv[5::2], argv[6::2]))
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4].endswith("app.py")
    assert options["--server.address"] == "127.0.0.1" and options["--server.port"] == "8600"
    assert options["--server.headless"] == "true" and options["--browser.gatherUsageStats"] == "false"
    assert env["HIPPO_STORE"] == str(tmp_path / "kg")
    result = CliRunner().invoke(cli, ["ui", "--port", "70000", "--store", str(tmp_path / "kg")])
    assert result.exit_code == 1 and "not a TCP port" in result.output
