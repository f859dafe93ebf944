"""Row helpers shared by both stores: long id lists in chunks (SQLite's ``IN (...)``, Cypher's ``UNWIND``
batches), and query rows as parallel columns (the shape of :class:`~hippo.stores.base.GraphEdges`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["chunks", "columns"]


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def columns(rows: Sequence[Sequence[Any]], width: int) -> tuple[list[Any], ...]:
    """Rows as ``width`` parallel column lists (empty lists when there are no rows).

    >>> columns([["a", 1], ["b", 2]], 2)
    (['a', 'b'], [1, 2])
    """
    if not rows:
        return tuple([] for _ in range(width))
    return tuple(list(column) for column in zip(*rows))
