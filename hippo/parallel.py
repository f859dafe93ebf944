"""Work shared between this process and helper processes, balanced while it runs.

Why: parsing and embedding hold the GIL (or spin torch threads that collapse on a shared core), so the
second core is used through a helper process. Cutting a batch into equal halves up front leaves one
process idle whenever the other runs slower, which is the rule on a machine shared with other work.
Here a batch is cut into several chunks; helpers take them from the front, one at a time, and this
process takes them from the back, one at a time, until the two meet, so the faster side does more
chunks. Results come back in input order.

A helper that dies takes nothing with it: its chunks are done here and a new helper is started for the
next batch. ``work`` must be picklable (a module-level function or a ``functools.partial`` of one) and
load what it needs once per process. Helpers are started with ``spawn``: torch's thread pools do not
survive a fork.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
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
        self._pool_lock = threading.Lock()

    def run(self, work: Callable[[list[T]], list[R]], chunks: Sequence[list[T]],
            here: Callable[[list[T]], list[R]]) -> list[R]:
        """``work`` over ``chunks`` (helpers from the front, ``here`` from the back), results in input order.

        Each helper is handed one chunk at a time, by a thread of this process that waits for it: a
        chunk queued ahead of a busy helper could not be taken back, and this process would wait for it
        at the end of every batch (measured: a fifth of the time an ingest spent waiting on helpers).
        """
        if self.processes < 2 or len(chunks) < 2:
            return [r for chunk in chunks for r in here(chunk)]
        claims = _Claims(len(chunks))
        done: dict[int, list[R]] = {}
        feeders = [threading.Thread(target=self._feed, args=(work, chunks, claims, done), daemon=True)
                   for _ in range(self.processes - 1)]
        for feeder in feeders:
            feeder.start()
        try:
            while (index := claims.take(back=True)) is not None:
                done[index] = here(chunks[index])
        finally:  # on an error here too: no further chunk goes to a helper, and no feeder outlives the call
            claims.stop()
            for feeder in feeders:
                feeder.join()
        return [r for index, chunk in enumerate(chunks) for r in (done[index] if index in done else here(chunk))]

    def _feed(self, work: Callable, chunks: Sequence[list], claims: _Claims, done: dict[int, list]) -> None:
        """Hand one helper the front chunks one at a time; a chunk it fails is left for this process."""
        while (index := claims.take(back=False)) is not None:
            try:
                done[index] = self._submit(work, chunks[index]).result()
            except BrokenProcessPool:
                log.warning("a helper process stopped; doing its %d items in this process", len(chunks[index]))
                with self._pool_lock:
                    self._pool = None  # restarted on the next batch
                return
            except Exception as exc:  # this process does the chunk again, and raises what it raises
                log.warning("a helper failed on %d items (%s); doing them in this process", len(chunks[index]), exc)
                return

    def _submit(self, work: Callable, chunk: list) -> Future:
        try:
            return self._start().submit(work, chunk)
        except BrokenProcessPool:  # a helper died after the last batch: start new ones
            with self._pool_lock:
                self._pool = None
            return self._start().submit(work, chunk)

    def _start(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(self.processes - 1, mp_context=multiprocessing.get_context("spawn"))
                weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
            return self._pool

    def close(self) -> None:
        """Stop the helper processes (they also stop when this object is collected or the program exits)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class _Claims:
    """Which chunks are taken: helpers take from the front, this process from the back, until they meet."""

    def __init__(self, count: int) -> None:
        self._front, self._back = 0, count
        self._lock = threading.Lock()

    def stop(self) -> None:
        with self._lock:
            self._front = self._back

    def take(self, back: bool) -> int | None:
        with self._lock:
            if self._front >= self._back:
                return None
            if back:
                self._back -= 1
                return self._back
            self._front += 1
            return self._front - 1
