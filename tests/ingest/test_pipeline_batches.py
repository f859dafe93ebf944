"""An ingest batch lands whole or not at all: an extractor that fails stops it before anything is written."""

from __future__ import annotations

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
