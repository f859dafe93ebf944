"""Schema version 2: passage keys and times, unit passages; a version-1 store is upgraded on open."""

import sqlite3

from hippo.stores.schema import DDL, SCHEMA_VERSION
from hippo.stores.sqlite import SQLiteStore


def test_a_version_1_store_is_upgraded_in_place(tmp_path):
    folder = tmp_path / "old"
    SQLiteStore.open(folder).close()
    conn = sqlite3.connect(folder / "hippo.db")
    for table in ("associations", "units", "passages"):
        conn.execute(f"DROP TABLE {table}")
    v1 = (DDL.replace(",\n    key          TEXT NOT NULL DEFAULT '',\n    time         TEXT", "")
          .replace(",\n    passage_id  TEXT REFERENCES passages(id) ON DELETE CASCADE", "")
          .replace("CREATE INDEX IF NOT EXISTS units_passage ON units(passage_id);", "")
          .replace("CREATE INDEX IF NOT EXISTS associations_b ON associations(b);", ""))
    conn.executescript(v1)
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    assert "key" not in {r[1] for r in conn.execute("PRAGMA table_info(passages)")}
    conn.close()
    with SQLiteStore.open(folder) as store:
        assert store._meta("schema_version") == str(SCHEMA_VERSION) == "2"
        assert store.counts()["associations"] == 0
    conn = sqlite3.connect(folder / "hippo.db")
    assert {"key", "time"} <= {r[1] for r in conn.execute("PRAGMA table_info(passages)")}
    assert "passage_id" in {r[1] for r in conn.execute("PRAGMA table_info(units)")}
