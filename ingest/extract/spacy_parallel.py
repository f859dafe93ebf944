"""Parsing on every core: a large batch of passages is shared between this process and a helper process.

Why processes: spaCy's parser and the NER's encoder hold the GIL for much of their work, so threads would
not run them side by side. Each helper loads its own copy of the pipeline once (a few seconds) and keeps it
for the life of the extractor, so only batches large enough to repay that start are shared
(``PARALLEL_MIN_CHARS``), or smaller ones once the batches parsed add up to that
(:meth:`hippo.parallel.SharedWork.worth_sharing`); a single document or a query-time parse stays in-process.
A batch is sorted by length and cut into ``CHUNKS_PER_PROCESS`` chunks per process of about equal length
(:meth:`hippo.parallel.SharedWork.run_by_length`), taken by whichever process is free, so a slower core does
less of it. Passages are never split between chunks (pronouns resolve inside a passage), and results come
back in input order.
"""

from __future__ import annotations

__all__ = ["CHUNKS_PER_PROCESS", "PARALLEL_MIN_CHARS"]

PARALLEL_MIN_CHARS = 100_000  # about 17,000 words: ~10 s of parsing, several times a helper's start-up
CHUNKS_PER_PROCESS = 8
"""Chunks per process in a shared batch: more balance the load better, fewer cost less hand-over."""

