"""Work shared between this process and helper processes, balanced while it runs.

Why: parsing and embedding hold the GIL (or spin torch threads that collapse on a shared core), so the
second core is used through a helper process. Cutting a batch into equal halves up front leaves one
process idle whenever the other runs slower, which is the rule on a machine shared with other work.
Here a batch is cut into several chunks; helpers take them from the front, one at a time, and this
process takes them from the back, one at a time, until the two meet, so the faster side does more
chunks. Results come back in input order.

A helper is never waited for while it starts: it is first asked for ``work([])``, which loads its models and
returns nothing, and takes a chunk only once that has come back; until then this process takes every
chunk itself. So starting a helper costs this process nothing but the spawn, and a batch too small to
repay a helper's start (a few seconds) is simply done here while the helper gets ready for the next one.

A helper that dies takes nothing with it: its chunks are done here and a new helper is started for the
next batch. ``work`` must be picklable (a module-level function or a ``functools.partial`` of one), load
what it needs once per process, and load it on an empty chunk too. Helpers are started with ``spawn``:
torch's thread pools do not survive a fork.
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

__all__ = ["LEAST_SHARED_CHARS", "SharedWork", "chunk_by_size"]

log = logging.getLogger(__name__)

LEAST_SHARED_CHARS = 8_000
"""Batches of text shorter than this are never shared, however long the run: about a second of encoder work,
cut into 16 chunks, against a few milliseconds of hand-over per chunk."""

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
        self._ready: Future | None = None  # the helpers' ``work([])``: done once their models are loaded
        self._pool_lock = threading.Lock()
        self._offered = 0

    def worth_sharing(self, size: int, start_at: int, least: int | None = None) -> bool:
        """Whether a batch of ``size`` (characters) is worth sharing: from ``start_at`` up (work enough to repay
        a helper's start), or from ``least`` (default :data:`LEAST_SHARED_CHARS`) up once the batches offered
        here add up to ``start_at``.

        Why the running total: an ingest of short documents (notes, messages, a generated corpus) comes in
        batches of a few tens of thousands of characters, each below ``start_at``, and used one core only
        (measured on 100k passages of 130 characters: this process 97 % busy, the helper 24 %).
        """
        self._offered += size
        least = LEAST_SHARED_CHARS if least is None else least
        return self.processes > 1 and size >= least and (size >= start_at or self._offered >= start_at)

    def run(self, work: Callable[[list[T]], list[R]], chunks: Sequence[list[T]],
            here: Callable[[list[T]], list[R]]) -> list[R]:
        """``work`` over ``chunks`` (helpers from the front, ``here`` from the back), results in input order.

        Each helper is handed one chunk at a time, by a thread of this process that waits for it: a
        chunk queued ahead of a busy helper could not be taken back, and this process would wait for it
        at the end of every batch (measured: a fifth of the time an ingest spent waiting on helpers).
        When this process runs out of chunks it waits only for the chunks helpers hold, not for a
        helper still starting.
        """
        if self.processes < 2 or len(chunks) < 2:
            return [r for chunk in chunks for r in here(chunk)]
        claims = _Claims(len(chunks))
        done: dict[int, list[R]] = {}
        for _ in range(self.processes - 1):
            threading.Thread(target=self._feed, args=(work, chunks, claims, done), daemon=True).start()
        try:
            while (index := claims.take(back=True)) is not None:
                done[index] = here(chunks[index])
        finally:  # on an error here too: no further chunk goes to a helper
            claims.stop()
            claims.settle()
        return [r for index, chunk in enumerate(chunks) for r in (done[index] if index in done else here(chunk))]

    def run_by_length(self, work: Callable[[list[str]], list[R]], texts: Sequence[str], parts: int,
                      here: Callable[[list[str]], list[R]]) -> list[R]:
        """:meth:`run` over ``texts`` sorted by length and cut into ``parts`` chunks of about equal characters,
        results in ``texts``' order.

        Why sorted: a chunk of like lengths makes full forward passes of like widths (an encoder pads a batch
        to one width), where a chunk of a dozen texts in their own order leaves most of them alone in their
        pass. Parsing 2Wiki ingest batches (256 passages, 16 chunks, one thread): 9.75 -> 8.77 CPU seconds.
        """
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        results = self.run(work, chunk_by_size([texts[i] for i in order], parts, len), here)
        by_index = dict(zip(order, results))
        return [by_index[index] for index in range(len(texts))]

    def _feed(self, work: Callable, chunks: Sequence[list], claims: _Claims, done: dict[int, list]) -> None:
        """Hand one helper the front chunks one at a time, once helpers are ready; a chunk it fails is left
        for this process."""
        if not self._wait_ready(work):
            return
        while (index := claims.take(back=False)) is not None:
            try:
                done[index] = self._submit(work, chunks[index]).result()
            except BrokenProcessPool:
                log.warning("a helper process stopped; doing its %d items in this process", len(chunks[index]))
                self._forget_pool()  # restarted on the next batch
                return
            except Exception as exc:  # this process does the chunk again, and raises what it raises
                log.warning("a helper failed on %d items (%s); doing them in this process", len(chunks[index]), exc)
                return
            finally:
                claims.returned()

    @property
    def ready(self) -> bool:
        """Whether helpers are running and have loaded what their work needs (they start on first use)."""
        ready = self._ready
        return ready is not None and ready.done() and not ready.cancelled() and ready.exception() is None

    def _wait_ready(self, work: Callable) -> bool:
        """Whether helpers have loaded what ``work`` needs (asking them on first use and waiting)."""
        with self._pool_lock:
            if self._ready is None:
                self._ready = self._start_locked().submit(work, [])
            ready = self._ready
        try:
            ready.result()
            return True
        except BrokenProcessPool:
            log.warning("a helper process stopped while starting; this process does the work")
            self._forget_pool()
        except Exception as exc:
            log.warning("a helper could not start (%s); this process does the work", exc)
        return False

    def _forget_pool(self) -> None:
        with self._pool_lock:
            self._pool = None
            self._ready = None

    def _submit(self, work: Callable, chunk: list) -> Future:
        try:
            return self._start().submit(work, chunk)
        except BrokenProcessPool:  # a helper died after the last batch: start new ones
            self._forget_pool()
            return self._start().submit(work, chunk)

    def _start(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            return self._start_locked()

    def _start_locked(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.processes - 1, mp_context=multiprocessing.get_context("spawn"))
            weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
        return self._pool

    def close(self) -> None:
        """Stop the helper processes (they also stop when this object is collected or the program exits)."""
        with self._pool_lock:
            pool, self._pool, self._ready = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class _Claims:
    """Which chunks are taken: helpers take from the front, this process from the back, until they meet."""

    def __init__(self, count: int) -> None:
        self._front, self._back = 0, count
        self._held = 0  # chunks helpers have taken and not yet returned
        self._changed = threading.Condition()

    def stop(self) -> None:
        with self._changed:
            self._front = self._back

    def take(self, back: bool) -> int | None:
        with self._changed:
            if self._front >= self._back:
                return None
            if back:
                self._back -= 1
                return self._back
            self._front += 1
            self._held += 1
            return self._front - 1

    def returned(self) -> None:
        """A helper's chunk is back (done or failed)."""
        with self._changed:
            self._held -= 1
            self._changed.notify_all()

    def settle(self) -> None:
        """Wait until helpers hold no chunk."""
        with self._changed:
            self._changed.wait_for(lambda: self._held == 0)
