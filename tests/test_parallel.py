"""Work shared with a helper process: every chunk once, results in order, and an error here stops the helper's share."""

from __future__ import annotations

import threading

import pytest

from hippo.parallel import SharedWork


def doubled(chunk: list[int]) -> list[int]:
    return [2 * x for x in chunk]


def test_chunks_are_shared_and_come_back_in_order():
    shared = SharedWork(2)
    try:
        chunks = [list(range(i * 10, i * 10 + 10)) for i in range(12)]
        assert shared.run(doubled, chunks, doubled) == [2 * x for x in range(120)]
    finally:
        shared.close()


def test_an_error_here_stops_handing_chunks_to_the_helper():
    def failing(chunk: list[int]) -> list[int]:
        raise ValueError("bad input")

    shared = SharedWork(2)
    try:
        with pytest.raises(ValueError, match="bad input"):
            shared.run(doubled, [[i] for i in range(50)], failing)
        assert not [t for t in threading.enumerate() if t.name.startswith("Thread") and t.daemon and t.is_alive()
                    and getattr(t, "_target", None) is not None and "_feed" in repr(t._target)]
    finally:
        shared.close()
