"""The LLM response cache: one SQLite file, keyed by the full request.

The key is the sha256 of the request as the caller asked for it (model, messages,
temperature, max_tokens, response format, ...), so re-indexing the same passages or asking
the same question again costs no request and no token. The endpoint URL is left out of the
key on purpose: the same model behind another address (localhost or 127.0.0.1, a new port)
answers the same. Delete the file to ask again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from hippo.errors import StoreError

__all__ = ["CACHE_FILE", "ResponseCache", "request_key"]

CACHE_FILE = "llm_cache.sqlite"

_DDL = """
CREATE TABLE IF NOT EXISTS responses (
    key        TEXT PRIMARY KEY,
    model      TEXT NOT NULL,
    response   TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


def request_key(request: dict[str, Any]) -> str:
    """A stable hex key for a request dict (order of keys does not matter).

    >>> request_key({"model": "m", "messages": []}) == request_key({"messages": [], "model": "m"})
    True
    """
    return hashlib.sha256(json.dumps(request, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


class ResponseCache:
    """Responses by request key; safe to share between threads (and, through SQLite's locking, processes)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(_DDL)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot open the LLM response cache {self.path}: {exc}. Delete the file; it only saves requests."
            ) from exc

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored response for ``key``, or None."""
        with self._lock:
            row = self._conn.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, model: str, response: dict[str, Any]) -> None:
        """Store ``response`` under ``key`` (a later answer to the same request replaces it)."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO responses(key, model, response, created_at) VALUES (?, ?, ?, ?)",
                (key, model, json.dumps(response, ensure_ascii=False), time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
