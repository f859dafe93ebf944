"""An ingest batch lands whole or not at all: an extractor that fails stops it before anything is written."""

from __future__ import annotations

import json

import pytest

import hippo
from hippo.errors import LLMError
from hippo.ingest.extract.base import EXTRACTORS


class _Failing:
    name = "failing-test"

    def extract(self, texts):
        raise LLMError("the LLM endpoint is down")


def test_a_failing_extractor_stops_the_batch_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.setitem(EXTRACTORS, "failing-test", lambda settings: _Failing())
    with hippo.open(tmp_path / "kg", extractor="failing-test") as kg:
        with pytest.raises(LLMError, match="endpoint is down"):
            kg.add_texts(["A\nOne sentence.", "B\nAnother sentence."])
        counts = kg.stats()["counts"]
    assert counts["passages"] == counts["documents"] == counts["entities"] == 0
    assert not any((tmp_path / "kg" / "vectors").glob("*.f32")) or all(
        p.stat().st_size == 0 for p in (tmp_path / "kg" / "vectors").glob("*.f32")
    )


def test_progress_names_each_stage_of_each_batch_and_ends_with_every_document(tmp_path):
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps([{"title": f"Place {i}", "text": f"Place {i} lies on the Imber line."}
                                  for i in range(5)]))
    seen = []
    with hippo.open(tmp_path / "kg", extractor="spacy", ingest_batch_docs=2) as kg:
        kg.index(corpus, on_progress=seen.append)
    stages = [p.stage for p in seen if p.stage]
    assert stages[:4] == ["extract", "embed", "graph", "write"] and len(stages) == 4 * 3  # three batches
    assert all(p.batch_passages in (1, 2) for p in seen if p.stage)
    assert seen[-1].documents_done == seen[-1].documents_total == 5 and seen[-1].files_done == 1
    assert [p.documents_done for p in seen] == sorted(p.documents_done for p in seen)
