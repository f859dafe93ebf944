"""Work shared with a helper process: every chunk once, results in order, an error here stops the helper's
share, and a helper still starting is never waited for."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import pytest

from hippo.parallel import SharedWork
from tests.conftest import wait_until


def doubled(chunk: list[int]) -> list[int]:
    return [2 * x for x in chunk]


def logged(folder: Path, start_seconds: float, chunk: list[int]) -> list[int]:
    """``doubled`` in a helper that takes ``start_seconds`` to get ready (as a model loads) and leaves a file
    per chunk it does (``ready`` once it is ready)."""
    if not (folder / f"ready-{os.getpid()}").exists():
        time.sleep(start_seconds)
        (folder / f"ready-{os.getpid()}").touch()
    for x in chunk[:1]:
        (folder / f"chunk-{x}").touch()
    return doubled(chunk)


def test_chunks_are_shared_and_come_back_in_order(tmp_path):
    shared = SharedWork(2)
    try:
        chunks = [list(range(i * 10, i * 10 + 10)) for i in range(12)]
        assert shared.run(doubled, chunks, doubled) == [2 * x for x in range(120)]
        shared.run(functools.partial(logged, tmp_path, 0.0), [[0]], doubled)  # one chunk: done here
        assert not list(tmp_path.iterdir())
    finally:
        shared.close()


def lengths_and_chunk(chunk: list[str]) -> list[tuple[int, int]]:
    return [(len(text), len(chunk)) for text in chunk]


def test_run_by_length_chunks_like_lengths_and_answers_in_input_order():
    texts = ["a" * n for n in (40, 3, 25, 7, 31, 2, 18, 9)]
    seen: list[list[str]] = []

    def here(chunk: list[str]) -> list[tuple[int, int]]:
        seen.append(chunk)
        return lengths_and_chunk(chunk)

    shared = SharedWork(1)  # chunks all done here, so ``seen`` holds every one
    out = shared.run_by_length(lengths_and_chunk, texts, 3, here)
    assert [length for length, _ in out] == [len(t) for t in texts]
    assert len(seen) == 3 and [len(t) for chunk in seen for t in chunk] == sorted(len(t) for t in texts)
    assert shared.run_by_length(lengths_and_chunk, [], 3, here) == []


def test_a_helper_still_starting_is_not_waited_for_and_takes_chunks_once_ready(tmp_path):
    shared = SharedWork(2)
    work = functools.partial(logged, tmp_path, 3.0)
    chunks = [[i] for i in range(12)]
    try:
        assert shared.run(work, chunks, doubled) == [2 * i for i in range(12)]
        assert not list(tmp_path.glob("chunk-*")), "every chunk was done here while the helper started"
        wait_until(lambda: bool(list(tmp_path.glob("ready-*"))))

        def slow_here(chunk: list[int]) -> list[int]:
            time.sleep(0.2)
            return doubled(chunk)

        assert shared.run(work, chunks, slow_here) == [2 * i for i in range(12)]
        assert list(tmp_path.glob("chunk-*")), "a ready helper takes chunks"
    finally:
        shared.close()


def test_an_error_here_stops_handing_chunks_to_the_helper(tmp_path):
    def failing(chunk: list[int]) -> list[int]:
        raise ValueError("bad input")

    shared = SharedWork(2)
    work = functools.partial(logged, tmp_path, 0.0)
    try:
        shared.run(work, [[i] for i in range(4)], doubled)
        wait_until(lambda: bool(list(tmp_path.glob("ready-*"))))  # the helper gets ready
        with pytest.raises(ValueError, match="bad input"):
            shared.run(work, [[i] for i in range(100, 150)], failing)
    finally:
        shared.close()
    assert len(list(tmp_path.glob("chunk-1??"))) <= 1, "at most the chunk the helper held when the error came"


def test_small_batches_are_shared_once_they_add_up_and_a_query_never():
    shared = SharedWork(2)
    assert not shared.worth_sharing(30_000, 50_000), "one small batch does not repay a helper's start"
    assert shared.worth_sharing(30_000, 50_000), "a run of them does"
    assert not shared.worth_sharing(500, 50_000), "a query-sized batch never goes to a helper"
    assert SharedWork(2).worth_sharing(60_000, 50_000)
    assert not SharedWork(1).worth_sharing(60_000, 50_000), "no helper to share with"
