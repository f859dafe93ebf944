"""comorag with an LLM: cue, sufficiency and probe prompts against the scripted OpenAI-protocol endpoint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import hippo
from hippo.llm.prompts import CUE_SYSTEM, LAYER_SUMMARY_SYSTEMS, PROBE_SYSTEM, SUFFICIENCY_SYSTEM
from tests.conftest import DEMO
from tests.llm.conftest import llm_extra
from tests.llm.server import ChatServer, Scripted, error, reply

FILES = ["people/ada_lindqvist.md", "institutions/marren_observatory.md", "places/lake_imber.md", "people/tomas_vey.md"]
QUESTION = "In which village was the founder of the Marren Observatory born?"


class ComoModel:
    """Answers ComoRAG's prompts: a summary, a cue, "not yet" once then "sufficient", and two probes."""

    def __init__(self, probes: Any = None, fail: str | None = None) -> None:
        self.probes = probes if probes is not None else {"probes": ["Ada Lindqvist birthplace", QUESTION,
                                                                    "Kettleby village"]}
        self.fail = fail
        self.judged = 0

    def __call__(self, body: dict[str, Any]) -> Scripted:
        system = body["messages"][0]["content"]
        task = {CUE_SYSTEM: "cue", SUFFICIENCY_SYSTEM: "judge", PROBE_SYSTEM: "probe"}.get(system)
        if system in LAYER_SUMMARY_SYSTEMS.values():
            task = "summary"
        if task == self.fail:
            return error(400, '{"error": {"message": "scripted refusal"}}')
        if task == "summary":
            return reply("Ada Lindqvist founded the Marren Observatory; she was born in Kettleby.")
        if task == "cue":
            return reply("- Ada Lindqvist founded the Marren Observatory in 1871.\n- none")
        if task == "judge":
            self.judged += 1
            if self.judged == 1:
                return reply({"sufficient": False, "answer": "", "missing": "where Ada Lindqvist was born"})
            return reply({"sufficient": True, "answer": "Kettleby", "missing": ""})
        if task == "probe":
            return reply(self.probes if isinstance(self.probes, str) else json.dumps(self.probes))
        return error(400, '{"error": {"message": "unknown prompt"}}')


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    for name in FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO / name, folder / name)
    return folder


def open_kg(tmp_path: Path, server: ChatServer, corpus: Path) -> hippo.KnowledgeGraph:
    kg = hippo.open(tmp_path / "store", extra=llm_extra(server))
    kg.index(corpus)
    return kg


def requests_of(server: ChatServer, system: str) -> list[dict[str, Any]]:
    return [r.body for r in server.requests if r.body["messages"][0]["content"] == system]


def test_the_llm_judges_probes_and_notes_findings(server, corpus, tmp_path, offline_env):
    model = ComoModel()
    server.handler = model
    with open_kg(tmp_path, server, corpus) as kg:
        result = kg.probe(QUESTION, k=3)
        assert kg.stats()["counts"]["clusters"] >= 1  # layers built on first use, summaries by the LLM
        summary = next(iter(kg.store.clusters(kg.store.cluster_edges().clusters[0]).values())).summary
    assert summary.startswith("Ada Lindqvist founded")
    assert result.mode == "llm" and result.stopped == "sufficient" and result.answer == "Kettleby"
    assert result.cycles[1].probes == ("Ada Lindqvist birthplace", "Kettleby village")  # the repeat is dropped
    assert result.cycles[0].findings == ("- Ada Lindqvist founded the Marren Observatory in 1871.",)
    assert len(result.cycles[1].findings) == 2  # one cue per probe
    probe_prompt = requests_of(server, PROBE_SYSTEM)[0]["messages"][-1]["content"]
    assert QUESTION in probe_prompt and "where Ada Lindqvist was born" in probe_prompt
    assert "Ada Lindqvist founded the Marren Observatory in 1871" in probe_prompt
    cue_prompts = [r["messages"][-1]["content"] for r in requests_of(server, CUE_SYSTEM)]  # sent concurrently
    assert any("Search: Kettleby village" in p and "### detail passages" in p for p in cue_prompts)
    judge_prompt = requests_of(server, SUFFICIENCY_SYSTEM)[-1]["messages"][-1]["content"]
    assert judge_prompt.count("Ada Lindqvist founded the Marren Observatory in 1871") == 3  # all findings so far
    assert result.hits and {h.why.probe for h in result.hits} - {None} <= set(result.probes)


def test_fenced_comorag_style_probe_replies_are_read(server, corpus, tmp_path, offline_env):
    server.handler = ComoModel(probes='```json\n{"probe_2": "Kettleby village", "probe_1": "Ada Lindqvist"}\n```')
    with open_kg(tmp_path, server, corpus) as kg:
        result = kg.probe(QUESTION, k=3)
    assert result.cycles[1].probes == ("Ada Lindqvist", "Kettleby village")


def test_a_failed_probe_request_falls_back_to_offline_probes(server, corpus, tmp_path, offline_env):
    server.handler = ComoModel(fail="probe")
    with open_kg(tmp_path, server, corpus) as kg:
        result = kg.probe(QUESTION, k=3)
    assert result.mode == "llm" and len(result.cycles) >= 2
    assert result.cycles[1].note and "offline probes" in result.cycles[1].note
    assert result.cycles[1].probes  # written by the offline rule


def test_a_failed_judgement_uses_the_offline_rule(server, corpus, tmp_path, offline_env):
    server.handler = ComoModel(fail="judge")
    with open_kg(tmp_path, server, corpus) as kg:
        result = kg.probe(QUESTION, k=3)
    assert result.answer is None and result.stopped in {"sufficient", "no new evidence", "no probes left",
                                                        "cycle limit"}
    assert any(c.note and "offline rule" in c.note for c in result.cycles)


def test_comorag_llm_off_keeps_the_loop_offline(server, corpus, tmp_path, offline_env):
    server.handler = ComoModel()
    with open_kg(tmp_path, server, corpus) as kg:
        kg.index(corpus)
    asked = len(server.requests)
    with hippo.open(tmp_path / "store", comorag_llm=False) as kg:
        assert kg.probe(QUESTION, k=3).mode == "offline"
    assert len(server.requests) == asked
