"""HippoRAG OpenIE files: import (``hippo index --openie``) and export (``hippo export --openie``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hippo
from hippo.cli.app import app
from hippo.errors import IngestError
from hippo.openie import openie_idx, read_openie, store_openie_docs
from tests.llm.conftest import provenance


def test_openie_file_round_trips_through_import_and_export(tmp_path, offline_env):
    docs = [
        {"passage": "Radio City\nRadio City is India's first private FM radio station and was started on 3 July 2001.",
         "extracted_entities": ["Radio City", "India", "3 July 2001"],
         "extracted_triples": [["Radio City", "located in", "India"], ["Radio City", "started on", "3 July 2001"]]},
        {"passage": "Sebastián Piñera\nSebastián Piñera was President of Chile.",
         "extracted_entities": ["Sebastián Piñera", "Chile"],
         "extracted_triples": [["Sebastián Piñera", "was president of", "Chile"]]},
        {"passage": "Empty Extraction\nA passage nobody extracted anything from.",
         "extracted_entities": [], "extracted_triples": []},
    ]
    for doc in docs:
        doc["idx"] = openie_idx(doc["passage"])
    source, exported, store = tmp_path / "openie.json", tmp_path / "out.json", str(tmp_path / "store")
    source.write_text(json.dumps({"docs": docs, "avg_ent_chars": 9.0, "avg_ent_words": 1.5}))
    runner = CliRunner()
    first = runner.invoke(app, ["index", "--openie", str(source), "--store", store, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["facts"] == 3
    again = json.loads(runner.invoke(app, ["index", "--openie", str(source), "--store", store, "--json"]).output)
    assert again["documents_unchanged"] == 3 and again["documents_added"] == 0
    result = runner.invoke(app, ["export", "--openie", str(exported), "--store", store])
    assert result.exit_code == 0 and "wrote 3 passages" in result.output
    data = json.loads(exported.read_text())
    assert set(data) == {"docs", "avg_ent_chars", "avg_ent_words"}
    by_idx = {d["idx"]: d for d in data["docs"]}
    assert set(by_idx) == {d["idx"] for d in docs}
    for doc in docs:
        out = by_idx[doc["idx"]]
        assert out["passage"] == doc["passage"]
        assert out["extracted_entities"] == doc["extracted_entities"]
        assert out["extracted_triples"] == doc["extracted_triples"]
    assert provenance(Path(store)) == {"openie-import"}
    assert runner.invoke(app, ["export", "--store", store]).exit_code == 2
    assert runner.invoke(app, ["index", "--store", store]).exit_code == 2


def test_a_long_passage_shares_its_extraction_among_its_chunks(tmp_path):
    passage = ("Long Doc\nAda Lindqvist was born in Kettleby near the lake. " * 3
               + "Tomas Vey was born in Brackenmouth on the coast. " * 3)
    source = tmp_path / "openie.json"
    source.write_text(json.dumps({"docs": [{"idx": "x", "passage": passage,
                                            "extracted_entities": ["Ada Lindqvist", "Tomas Vey", "Nowhere"],
                                            "extracted_triples": [["Ada Lindqvist", "born in", "Kettleby"],
                                                                  ["Tomas Vey", "born in", "Brackenmouth"]]}]}))
    with hippo.open(tmp_path / "store", chunk_tokens=30, chunk_overlap=0) as kg:
        report = kg.import_openie(source)
        assert report.passages > 1 and not report.extraction_failures
        docs = list(store_openie_docs(kg.store))
    first, last = docs[0], docs[-1]
    assert "Ada Lindqvist" in first.entities and "Nowhere" in first.entities  # found nowhere: first chunk
    assert ("Tomas Vey", "born in", "Brackenmouth") in last.triples and "Ada Lindqvist" not in last.entities


@pytest.mark.parametrize("content, words", [
    ("not json", "not a readable OpenIE JSON file"),
    ('{"documents": []}', 'no "docs" list'),
    ('{"docs": [{"idx": "a"}]}', 'doc 1 has no "passage"'),
])
def test_bad_files_are_refused_with_the_reason(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(IngestError, match=words):
        read_openie(path)
    with pytest.raises(IngestError, match="no OpenIE file at"):
        read_openie(tmp_path / "missing.json")
