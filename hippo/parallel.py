"""Work shared between this process and helper processes, balanced while it runs.

Why: parsing and embedding hold the GIL (or spin torch threads that collapse on a shared core), so the
second core is used through a helper process. Cutting a batch into equal halves up front leaves one
process idle whenever the other runs slower, which is the rule on a machine shared with other work.
Here a batch is cut into several chunks, all queued for the helpers in order; this process meanwhile
takes chunks from the back of the queue, one at a time, for as long as no helper has claimed them
(``Future.cancel`` succeeds only for a chunk still waiting). Both sides stop when they meet, so the
faster side does more chunks. Results come back in input order.

A helper that dies takes nothing with it: its chunks are done here and a new helper is started for the
next batch. ``work`` must be picklable (a module-level function or a ``functools.partial`` of one) and
load what it needs once per process. Helpers are started with ``spawn``: torch's thread pools do not
survive a fork.
"""

from __future__ import annotations

import logging
import multiprocessing
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

__all__ = ["SharedWork", "chunk_by_size"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def chunk_by_size(items: Sequence[T], parts: int, size: Callable[[T], int] = lambda _: 1) -> list[list[T]]:
    """``items`` cut into at most ``parts`` contiguous runs of about equal total ``size`` (none empty).

    >>> chunk_by_size(["a", "bb", "c", "dddd"], 2, len)
    [['a', 'bb', 'c'], ['dddd']]
    """
    total = sum(size(item) for item in items)
    runs: list[list[T]] = [[]]
    done = 0
    for item in items:
        if runs[-1] and len(runs) < parts and done >= total * len(runs) / parts:
            runs.append([])
        runs[-1].append(item)
        done += size(item)
    return runs if runs[0] else []


class SharedWork:
    """Helper processes (``processes - 1`` of them, started on first use) that share batches with this one."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def run(self, work: Callable[[list[T]], list[R]], chunks: Sequence[list[T]],
            here: Callable[[list[T]], list[R]]) -> list[R]:
        """``work`` over ``chunks`` (helpers from the front, ``here`` from the back), results in input order."""
        if self.processes < 2 or len(chunks) < 2:
            return [r for chunk in chunks for r in here(chunk)]
        futures = self._submit(work, chunks)
        done: dict[int, list[R]] = {}
        for index in range(len(chunks) - 1, -1, -1):
            if not futures[index].cancel():
                break  # a helper has this one, so it has every earlier one too
            done[index] = here(chunks[index])
        out: list[R] = []
        for index, chunk in enumerate(chunks):
            out.extend(done[index] if index in done else self._collect(futures[index], chunk, here))
        return out

    def _submit(self, work: Callable, chunks: Sequence[list]) -> list[Future]:
        try:
            return [self._start().submit(work, chunk) for chunk in chunks]
        except BrokenProcessPool:  # a helper died after the last batch: start new ones
            self._pool = None
            return [self._start().submit(work, chunk) for chunk in chunks]

    def _collect(self, future: Future, chunk: list, here: Callable) -> list:
        try:
            return future.result()
        except BrokenProcessPool:
            log.warning("a helper process stopped; doing its %d items in this process", len(chunk))
            self._pool = None  # restarted on the next batch
            return here(chunk)

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.processes - 1, mp_context=multiprocessing.get_context("spawn"))
            weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
        return self._pool

    def close(self) -> None:
        """Stop the helper processes (they also stop when this object is collected or the program exits)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
