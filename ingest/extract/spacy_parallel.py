"""Parsing on every core: a large batch of passages is split between this process and helper processes.

Why processes: spaCy's parser and the NER's encoder hold the GIL for much of their work, so threads would
not run them side by side. Each helper loads its own copy of the pipeline once (a few seconds) and keeps it
for the life of the extractor, so only batches large enough to repay that start are split
(``PARALLEL_MIN_CHARS``); small ones, such as a single document or a query-time parse, stay in-process.
Passages are never split between processes (pronouns resolve inside a passage), and results come back in
input order. A helper that dies takes nothing with it: its share is parsed here instead and the helpers are
restarted.
"""

from __future__ import annotations

import logging
import multiprocessing
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from hippo.ingest.extract.base import Extraction

__all__ = ["PARALLEL_MIN_CHARS", "Helpers", "split_by_chars"]

log = logging.getLogger(__name__)

PARALLEL_MIN_CHARS = 100_000  # about 17,000 words: ~10 s of parsing, several times a helper's start-up


def split_by_chars(texts: Sequence[str], parts: int) -> list[list[str]]:
    """``texts`` cut into at most ``parts`` contiguous runs of about equal total length (none empty)."""
    total = sum(len(t) for t in texts)
    runs: list[list[str]] = [[]]
    done = 0
    for text in texts:
        if runs[-1] and len(runs) < parts and done >= total * len(runs) / parts:
            runs.append([])
        runs[-1].append(text)
        done += len(text)
    return runs


class Helpers:
    """Helper processes running ``work(texts)``; the caller parses the last share itself meanwhile.

    ``work`` must be a module-level function (it is pickled by name) that loads what it needs once
    per process.
    """

    def __init__(self, work: Callable[[list[str]], list[Extraction]], processes: int) -> None:
        self.work = work
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def extract(self, texts: Sequence[str], here: Callable[[list[str]], list[Extraction]]) -> list[Extraction]:
        """Extractions of ``texts`` in order: ``processes - 1`` shares in helpers, the last by ``here``."""
        shares = split_by_chars(texts, self.processes)
        futures = self._submit(shares[:-1])
        results = here(shares[-1])
        ahead: list[Extraction] = []
        for future, share in zip(futures, shares):
            ahead.extend(self._collect(future, share, here))
        return ahead + results

    def _submit(self, shares: list[list[str]]) -> list[Future]:
        try:
            return [self._start().submit(self.work, share) for share in shares]
        except BrokenProcessPool:  # a helper died after the last batch: start new ones
            self._pool = None
            return [self._start().submit(self.work, share) for share in shares]

    def _collect(self, future: Future, share: list[str], here) -> list[Extraction]:
        try:
            return future.result()
        except BrokenProcessPool:
            log.warning("a parsing helper process stopped; parsing its %d passages in this process", len(share))
            self._pool = None  # restarted on the next batch
            return here(share)

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: torch's thread pools do not survive a fork
            self._pool = ProcessPoolExecutor(self.processes - 1, mp_context=multiprocessing.get_context("spawn"))
            weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
        return self._pool

    def close(self) -> None:
        """Stop the helper processes (they also stop when this object is collected or the program exits)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
