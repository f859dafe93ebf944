"""Summary and keyword units written by the LLM (``memory_summaries="llm"``), against the scripted endpoint."""

from __future__ import annotations

from typing import Any

import pytest

import hippo
from tests.llm.conftest import llm_extra
from tests.llm.server import ChatServer, Scripted, error, reply
from tests.memory.conftest import CHAT


def _memory_model(body: dict[str, Any]) -> Scripted:
    system = body["messages"][0]["content"]
    if system.startswith("You summarize"):
        return reply("Two friends talk about an allotment, a beagle puppy and a prize pumpkin.")
    if system.startswith("You extract the most relevant keywords"):
        return reply("allotment; beagle puppy; prize pumpkin")
    return error(400)


@pytest.fixture()
def no_env_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HIPPO_LLM_MODEL", "HIPPO_LLM_BASE_URL", "HIPPO_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_the_llm_writes_summaries_and_keywords(tmp_path, no_env_llm):
    with ChatServer(_memory_model) as server, hippo.open(tmp_path / "kg", memory_summaries="llm",
                                                          extra=llm_extra(server)) as kg:
        report = kg.index(CHAT)
        units = kg.store.document_units(kg.documents()[0].document.id)
        tasks = len(server.requests)
    by_kind = {u.granularity: u.text for u in units}
    assert by_kind["summary"] == "Two friends talk about an allotment, a beagle puppy and a prize pumpkin."
    assert by_kind["keywords"] == "allotment; beagle puppy; prize pumpkin"
    assert tasks == 8 and not report.unit_failures  # a summary and keywords for each of 4 sessions


def test_a_failed_request_leaves_the_extractive_units_and_says_so(tmp_path, no_env_llm):
    with ChatServer(lambda body: error(400)) as server, hippo.open(
            tmp_path / "kg", memory_summaries="llm", extra=llm_extra(server, max_retries=0)) as kg:
        report = kg.index(CHAT)
        units = kg.store.document_units(kg.documents()[0].document.id)
    assert len(report.unit_failures) == 4 and "extractive one is used" in report.unit_failures[0].reason
    assert {u.granularity for u in units} == {"document", "passage", "summary", "keywords"}


def test_extractive_is_the_default_and_asks_nothing(tmp_path, no_env_llm):
    with ChatServer(_memory_model) as server, hippo.open(tmp_path / "kg", extra=llm_extra(server)) as kg:
        kg.index(CHAT)
        assert server.requests == []
