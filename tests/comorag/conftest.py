"""Fixtures of the ComoRAG tests: small stores with their layers, and the cinderella story when present."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import hippo
from tests.conftest import DEMO, SHARED_DATA, spacy_model_or_skip
from tests.llm.server import ChatServer

CINDERELLA = SHARED_DATA / "cinderella"


@pytest.fixture(scope="session")
def kg_layers(tmp_path_factory: pytest.TempPathFactory) -> hippo.KnowledgeGraph:
    """The demo corpus indexed with the spaCy extractor, with ComoRAG's layers built; tests must not write to it."""
    spacy_model_or_skip()
    kg = hippo.open(tmp_path_factory.mktemp("kg_layers") / "store", extractor="spacy", comorag_llm=False)
    kg.index(DEMO)
    kg.cluster()
    yield kg
    kg.close()


def cinderella_or_skip() -> tuple[str, list[dict]]:
    """(story text, questions) of ComoRAG's sample, or skip saying where the data should be."""
    story, questions = CINDERELLA / "cinderella.txt", CINDERELLA / "qas.jsonl"
    if not (story.exists() and questions.exists()):
        pytest.skip(f"the cinderella story is not at {CINDERELLA} (../shared/data/cinderella)")
    rows = [json.loads(line) for line in questions.read_text().splitlines() if line.strip()]
    return story.read_text(), rows


@pytest.fixture()
def server() -> Iterator[ChatServer]:
    """A scripted OpenAI-protocol endpoint on 127.0.0.1 (tests/llm/server.py); tests set its handler."""
    with ChatServer() as chat:
        yield chat


@pytest.fixture()
def offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LLM in the environment, whatever the shell running the tests has set."""
    for name in ("HIPPO_LLM_MODEL", "HIPPO_LLM_BASE_URL", "HIPPO_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
