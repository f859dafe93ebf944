"""Derived state (vector tables, BM25 index, graph matrix) cached until the store changes.

One object per open knowledge graph holds everything computed from the store, keyed by
the store's write version, so nothing derived is scattered over attributes and nothing
stale survives a write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from hippo.stores.base import GraphStore

__all__ = ["DerivedCache"]

T = TypeVar("T")


class DerivedCache:
    """Values built from a store, dropped as soon as the store's version changes."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self._version: int | None = None
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: str, build: Callable[[], T]) -> T:
        """The cached value for ``key``, built with ``build()`` when missing or stale.

        The version and everything ``build`` reads come from one store snapshot, so a value is
        never assembled from before and after another process's batch, nor kept under the wrong version.
        """
        with self._store.snapshot():
            version = self._store.version()
            with self._lock:
                if version != self._version:
                    self._values.clear()
                    self._version = version
                if key in self._values:
                    return self._values[key]
            value = build()
        with self._lock:
            if self._version == version:
                self._values[key] = value
        return value
