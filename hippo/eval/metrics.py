"""Retrieval metrics, defined as in the HippoRAG 2 evaluation but on ids, not strings.

HippoRAG compares passage *strings*, so any formatting difference silently zeroes recall;
hippo compares gold ids exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["recall_at_k", "all_gold_at_k", "percentile_ms"]


def recall_at_k(retrieved: Sequence[str], gold: set[str], k: int) -> float:
    """Share of ``gold`` ids among the first ``k`` distinct ``retrieved`` ids (partial credit).

    >>> recall_at_k(["a", "x", "b"], {"a", "b"}, 2)
    0.5
    """
    if not gold:
        raise ValueError("a question without gold ids cannot be scored; leave it out of the set.")
    top = list(dict.fromkeys(retrieved))[:k]
    return len(gold.intersection(top)) / len(gold)


def all_gold_at_k(retrieved: Sequence[str], gold: set[str], k: int) -> float:
    """1.0 when every gold id is among the first ``k`` distinct retrieved ids, else 0.0.

    >>> all_gold_at_k(["a", "x", "b"], {"a", "b"}, 3)
    1.0
    """
    return float(recall_at_k(retrieved, gold, k) == 1.0)


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of durations given in seconds, in milliseconds."""
    return float(np.percentile(np.asarray(seconds) * 1000.0, q)) if len(seconds) else float("nan")
