"""The embedded store's database underneath the store object: connecting, the ``meta`` table, schema migration.

Separate from :mod:`hippo.stores.sqlite` because these run on a bare connection before any store
object exists: opening a folder connects, reads the stored settings (migrating an older schema in
one transaction first) and, for a new store, writes the first meta rows.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from hippo.config import Settings
from hippo.errors import StoreError
from hippo.stores.base import stored_settings_with
from hippo.stores.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["DB_NAME", "connect", "stored_settings", "write_meta"]

DB_NAME = "hippo.db"


def connect(db: Path) -> sqlite3.Connection:
    """A connection in WAL mode, so that readers in other processes keep working while one process writes."""
    try:
        conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open {db}: {exc}. Is it a hippo store? Index into a new folder instead.") from exc
    return conn


def write_meta(conn: sqlite3.Connection, values: dict[str, str]) -> None:
    """Upsert ``meta`` rows; inside the caller's transaction, so counts land with the rows they count."""
    conn.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        list(values.items()),
    )


def stored_settings(conn: sqlite3.Connection, folder: Path, overrides: dict[str, Any]) -> Settings:
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{folder / DB_NAME} is not a readable hippo store: {exc}.") from exc
    version = int(meta.get("schema_version", "0"))
    if version in MIGRATIONS and version < SCHEMA_VERSION:
        version = _migrate(conn, version)
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"store {folder} has schema version {version}; this hippo reads version {SCHEMA_VERSION}. "
            "Re-index into a new folder."
        )
    return stored_settings_with(Settings.from_dict(json.loads(meta["settings"])), overrides, str(folder),
                                "a new folder")


def _migrate(conn: sqlite3.Connection, version: int) -> int:
    """Upgrade the schema step by step to :data:`SCHEMA_VERSION` in one transaction; return the new version."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        while version < SCHEMA_VERSION:
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            version += 1
        write_meta(conn, {"schema_version": str(version)})
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return version
