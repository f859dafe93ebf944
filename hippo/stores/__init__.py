"""Stores behind the one ``GraphStore`` interface; :func:`open_store` picks one from a location."""

from __future__ import annotations

import os
from typing import Any

from hippo.stores.base import DocumentSummary, GraphStore, PassageContext
from hippo.stores.neo4j_target import is_neo4j_location, neo4j_target

__all__ = ["DocumentSummary", "GraphStore", "PassageContext", "is_neo4j_location", "open_store", "resolve_location"]


def open_store(location: str, overrides: dict[str, Any] | None = None, *, create: bool = True) -> GraphStore:
    """Open the store at ``location``: a folder for the embedded store, or a ``neo4j://``/``bolt://`` URI.

    For a URI, ``HIPPO_NEO4J_USER``, ``HIPPO_NEO4J_PASSWORD`` and ``HIPPO_NEO4J_DATABASE`` say how to log
    in and which database holds the store (see :mod:`hippo.stores.neo4j`).
    """
    if is_neo4j_location(location):
        from hippo.stores.neo4j import Neo4jStore

        return Neo4jStore.open(location, overrides, create=create)
    from hippo.stores.sqlite import SQLiteStore

    return SQLiteStore.open(location, overrides, create=create)


def resolve_location(location: str | os.PathLike[str]) -> str:
    """A store location another process can open, one spelling per store: a folder made absolute, a
    Neo4j URI in its normal form (scheme lower-case, default port written out).

    >>> resolve_location("BOLT://localhost")
    'bolt://localhost:7687'
    """
    text = os.fspath(location)
    return neo4j_target(text, {}).uri if is_neo4j_location(text) else os.path.abspath(text)
