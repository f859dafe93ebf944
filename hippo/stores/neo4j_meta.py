"""The Neo4j store's meta node and schema: created on first use, checked on every open, dropped on request.

The meta node (``(:HippoMeta {key: "store"})``) is what the embedded store's ``meta`` table is:
the schema version, the settings the store was built with (so a store built with another embedding
model is refused, with the same message), the embedding dimension, the write version that keys
the derived-state caches, and the counters of vector rows and insertion order.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hippo.config import Settings
from hippo.errors import StoreError
from hippo.stores import neo4j_cypher as cypher
from hippo.stores.base import stored_settings_with
from hippo.stores.neo4j_connection import Neo4jConnection, driver_options
from hippo.stores.neo4j_errors import driver_errors, require_driver
from hippo.stores.neo4j_target import neo4j_target

__all__ = [
    "ROW_KEYS",
    "IndexPlan",
    "drop_store",
    "ensure_vector_indexes",
    "meta_of",
    "open_meta",
    "vector_index_plan",
]

logger = logging.getLogger(__name__)

ROW_KEYS = cypher.ROW_KEYS
AWAIT_INDEX_SECONDS = 300


def meta_of(rows: list[list[Any]]) -> dict[str, Any]:
    """The meta node's properties from a ``RETURN properties(m)`` row (empty when there is no store)."""
    return dict(rows[0][0]) if rows else {}


def open_meta(conn: Neo4jConnection, overrides: dict[str, Any], create: bool) -> tuple[dict[str, Any], Settings]:
    """Read the meta node, or create it with the schema when the database is empty; return it with the settings.

    A database that holds other data and no store is refused rather than written into.
    """
    target = conn.target
    meta = meta_of(conn.rows(cypher.READ_META, key=cypher.META_KEY))
    if meta:
        return meta, stored_settings(meta, target.uri, overrides)
    if not create:
        raise StoreError(
            f"no hippo store in {target.describe()}; create one with `hippo index PATH --store {target.uri}`."
        )
    other = conn.rows(cypher.OTHER_DATA)
    if other:
        raise StoreError(
            f"{target.describe()} holds other data (nodes labelled {', '.join(other[0][0]) or 'with no label'}) "
            "and no hippo store; point HIPPO_NEO4J_DATABASE at an empty database, or empty this one."
        )
    conn.run_schema(cypher.SCHEMA)
    settings = Settings().replace(**overrides)
    created = {
        "schema_version": cypher.SCHEMA_VERSION,
        "settings": json.dumps(settings.to_dict()),
        "created_at": str(time.time()),
        "version": 0,
        "seq": 0,
        **{key: 0 for key in ROW_KEYS.values()},
    }
    with driver_errors(target, "write"), conn.session(write=True) as session:
        meta = meta_of(session.run(cypher.CREATE_META, {"key": cypher.META_KEY, "props": created}).values())
    conn.run_schema([cypher.AWAIT_INDEXES], {"seconds": AWAIT_INDEX_SECONDS})
    if meta.get("created_at") != created["created_at"]:  # another process created it first
        return meta, stored_settings(meta, target.uri, overrides)
    return meta, settings


def stored_settings(meta: dict[str, Any], location: str, overrides: dict[str, Any]) -> Settings:
    """The stored settings with ``overrides`` applied; another ``embed_model`` is refused."""
    version = int(meta.get("schema_version") or 0)
    if version != cypher.SCHEMA_VERSION:
        raise StoreError(
            f"store {location} has Neo4j schema version {version}; this hippo reads version "
            f"{cypher.SCHEMA_VERSION}. Index into another database."
        )
    return stored_settings_with(Settings.from_dict(json.loads(meta["settings"])), overrides, location,
                                "another database")


@dataclass
class IndexPlan:
    """What to do to the vector indexes: kinds whose index to drop, kinds whose index to create, and why."""

    drop: list[str] = field(default_factory=list)
    create: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.drop or self.create)


def index_differences(row: dict[str, Any], kind: str, dim: int) -> list[str]:
    """How the index shown in ``row`` (a ``SHOW VECTOR INDEXES`` row) differs from the one hippo wants.

    A server too old to know quantization (no ``vector.quantization.enabled`` key) is not a difference.

    >>> config = {"vector.dimensions": 384, "vector.similarity_function": "COSINE", "vector.quantization.enabled": True}
    >>> row = {"labelsOrTypes": ["Passage"], "properties": ["embedding"], "options": {"indexConfig": config}}
    >>> index_differences(row, "passage", 384)
    ['quantized']
    """
    config = dict((row.get("options") or {}).get("indexConfig") or {})
    found = []
    if list(row.get("labelsOrTypes") or []) != [cypher.LABELS[kind]] or list(row.get("properties") or []) != [
        "embedding"
    ]:
        found.append(f"on {row.get('labelsOrTypes')}.{row.get('properties')}")
    if config.get("vector.dimensions") != dim:
        found.append(f"{config.get('vector.dimensions')} dimensions, not {dim}")
    similarity = str(config.get("vector.similarity_function", "")).lower()
    if similarity != cypher.VECTOR_INDEX_CONFIG["vector.similarity_function"]:
        found.append(f"{similarity or 'unknown'} similarity")
    if config.get("vector.quantization.enabled") is True:
        found.append("quantized")
    return found


def vector_index_plan(shown: Sequence[dict[str, Any]], dim: int) -> IndexPlan:
    """Compare the vector indexes the server shows with what a store of ``dim``-wide vectors needs.

    Indexed kinds (:data:`~hippo.stores.neo4j_cypher.INDEXED_KINDS`) get an index with the wanted settings
    (one with other settings is dropped and made again: ``CREATE ... IF NOT EXISTS`` would keep it);
    hippo's indexes on other kinds, left by earlier versions, are dropped. Indexes of other names are
    not hippo's and are left alone.
    """
    by_name = {row.get("name"): row for row in shown}
    plan = IndexPlan()
    for kind, name in cypher.VECTOR_INDEX.items():
        row = by_name.get(name)
        if kind not in cypher.INDEXED_KINDS:
            if row is not None:
                plan.drop.append(kind)
                plan.reasons.append(f"{name} is not used")
            continue
        if row is None:
            plan.create.append(kind)
            continue
        differences = index_differences(row, kind, dim)
        if differences:
            plan.drop.append(kind)
            plan.create.append(kind)
            plan.reasons.append(f"{name} was {', '.join(differences)}")
    return plan


def ensure_vector_indexes(conn: Neo4jConnection, dim: int) -> IndexPlan:
    """Give the store the vector indexes :func:`vector_index_plan` asks for and wait until they are online.

    Recreating an index re-reads every vector of its kind on the server (the wait covers it); it is
    said in one log line, since dense search changes (it becomes exact) and the wait can be long.
    """
    shown = [dict(zip(("name", "labelsOrTypes", "properties", "options"), row)) for row in
             conn.schema_rows(cypher.SHOW_VECTOR_INDEXES)]
    plan = vector_index_plan(shown, dim)
    if not plan:
        return plan
    if plan.reasons:
        logger.warning("Neo4j store %s: rebuilding its vector indexes (%s)", conn.target.describe(),
                       "; ".join(plan.reasons))
    conn.run_schema([cypher.DROP_VECTOR_INDEX[kind] for kind in plan.drop])
    conn.run_schema([cypher.vector_index_statement(kind, dim) for kind in plan.create])
    conn.run_schema([cypher.AWAIT_INDEXES], {"seconds": AWAIT_INDEX_SECONDS})
    return plan


def drop_store(location: str, env: dict[str, str] | None = None, batch: int = 10_000) -> int:
    """Delete the hippo store in the database at ``location``: its nodes (in batches), constraints and indexes.

    For tests and benchmarks that need a fresh store; only hippo's labels and schema are touched.
    Returns the number of nodes deleted.
    """
    target = neo4j_target(location, env)
    neo4j = require_driver()
    deleted = 0
    with (
        driver_errors(target, "write"),
        neo4j.GraphDatabase.driver(target.uri, auth=target.auth, **driver_options()) as driver,
        driver.session(database=target.database) as session,
    ):
        while True:
            count = session.run(cypher.DROP_BATCH, {"labels": list(cypher.STORE_LABELS), "limit": batch}).single()[0]
            deleted += count
            if count < batch:
                break
        for statement in cypher.DROP_SCHEMA:
            session.run(statement).consume()
    return deleted
