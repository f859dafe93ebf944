"""Large batches are parsed by helper processes too, with the same results, and survive a helper's death."""

from __future__ import annotations

import os
import signal

import pytest

from hippo import parallel
from hippo.ingest.extract import spacy as spacy_extract
from hippo.ingest.extract.spacy import SpacyExtractor
from tests.conftest import wait_until

PASSAGES = [
    "Ada Lovelace was born in London. She worked with Charles Babbage.",
    "The Analytical Engine was designed by Charles Babbage.",
    "Marie Curie, the physicist, won the Nobel Prize in 1903.",
    "Kabul is the capital of Afghanistan.\nIt lies on the Kabul River.",
    "Enron was not audited by Deloitte. Arthur Andersen audited Enron.",
    "Tom Hanks and Meg Ryan starred in Sleepless in Seattle.",
]


@pytest.mark.slow
def test_helpers_give_the_same_extractions_and_outlive_a_killed_helper(monkeypatch):
    monkeypatch.setattr(spacy_extract, "PARALLEL_MIN_CHARS", 1)
    monkeypatch.setattr(parallel, "LEAST_SHARED_CHARS", 1)
    texts = PASSAGES * 3
    alone = SpacyExtractor().extract(texts)
    together = SpacyExtractor(processes=2)
    try:
        assert together.extract(texts) == alone  # the helper starts meanwhile
        wait_until(lambda: together.helpers.ready)
        assert together.extract(texts) == alone  # with a ready helper
        for pid in list(together.helpers._pool._processes):
            os.kill(pid, signal.SIGKILL)
        assert together.extract(texts) == alone  # the dead helper's share is parsed again
        assert together.extract(texts) == alone  # a new helper starts meanwhile
        wait_until(lambda: together.helpers.ready)
        assert together.extract(texts) == alone  # and takes over
    finally:
        together.helpers.close()
