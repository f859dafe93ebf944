"""Stores behind the one ``GraphStore`` interface; :func:`open_store` picks one from a location."""

from __future__ import annotations

from typing import Any

from hippo.stores.base import DocumentSummary, GraphStore, PassageContext

__all__ = ["DocumentSummary", "GraphStore", "PassageContext", "open_store"]

NEO4J_SCHEMES = ("neo4j://", "neo4j+s://", "neo4j+ssc://", "bolt://", "bolt+s://", "bolt+ssc://")


def open_store(location: str, overrides: dict[str, Any] | None = None, *, create: bool = True) -> GraphStore:
    """Open the store at ``location``: a folder for the embedded store, or a ``neo4j://``/``bolt://`` URI."""
    if location.startswith(NEO4J_SCHEMES):
        from hippo.errors import ConfigError

        raise ConfigError(f"{location}: the Neo4j store is not available in this version; use a folder path.")
    from hippo.stores.sqlite import SQLiteStore

    return SQLiteStore.open(location, overrides, create=create)
