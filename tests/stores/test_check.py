"""``hippo check`` finds each kind of damage, counts it and names examples; a sound store passes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import hippo
from hippo.cli.app import app
from hippo.errors import StoreError
from hippo.stores.check import check_folder
from tests.conftest import spacy_model_or_skip

TEXTS = [
    "Ada Lindqvist founded the Marren Observatory in 1871. She was born in Kettleby.",
    "Tomas Vey discovered Comet Vey. He was born in Brackenmouth.",
    "Kettleby is a village on the shore of Lake Imber.",
]


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    """A small sound store with a graph and memory units."""
    spacy_model_or_skip()
    with hippo.open(tmp_path / "store", extractor="spacy", memory_units="all") as kg:
        kg.add_texts(TEXTS)
    return tmp_path / "store"


def _sql(store: Path, *statements: str) -> None:
    conn = sqlite3.connect(store / "hippo.db")
    conn.execute("PRAGMA foreign_keys=OFF")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _dim(store: Path) -> int:
    conn = sqlite3.connect(store / "hippo.db")
    try:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'embed_dim'").fetchone()[0])
    finally:
        conn.close()


def test_a_sound_store_passes(store):
    with hippo.open(store) as kg:
        report = kg.check()
    assert report.ok and not report.problems and not report.notes
    assert report.checked["passages"] == 3 and report.checked["facts"] > 0 and report.checked["units"] > 0
    result = CliRunner().invoke(app, ["check", "--store", str(store)])
    assert result.exit_code == 0 and f"ok: store {store} is sound" in result.output


def test_orphans_and_dangling_edges_are_counted_with_examples(store):
    conn = sqlite3.connect(store / "hippo.db")
    doc, fact, entity = (
        conn.execute(sql).fetchone()[0]
        for sql in (
            "SELECT id FROM documents ORDER BY rowid LIMIT 1",
            "SELECT fact_id FROM fact_sources ORDER BY rowid LIMIT 1",
            "SELECT entity_id FROM mentions ORDER BY rowid LIMIT 1",
        )
    )
    conn.close()
    _sql(
        store,
        f"DELETE FROM documents WHERE id = '{doc}'",
        f"DELETE FROM fact_sources WHERE fact_id = '{fact}'",
        "INSERT INTO entities(id, name, display, label, vec_row) VALUES ('e-lonely', 'lonely', 'Lonely', NULL, 0)",
        f"INSERT INTO synonyms(a, b, score) VALUES ('{entity}', 'e-gone', 0.9)",
    )
    report = check_folder(store)
    problems = report.problem_counts()
    assert problems["passage without document"] == 1
    assert problems["fact without source"] == 1
    assert problems["orphan entity"] >= 1 and problems["synonym with missing entity"] == 1
    assert problems["unit with missing record"] >= 3  # the document's own units
    assert problems["vector row shared"] == 1  # the lonely entity took row 0
    orphans = next(p for p in report.problems if p.kind == "orphan entity")
    assert "e-lonely" in orphans.examples and orphans.detail == "an entity that no passage mentions and no fact uses"
    result = CliRunner().invoke(app, ["check", "--store", str(store), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and {p["kind"] for p in data["problems"]} == set(problems)


def test_a_fact_whose_source_does_not_mention_it(store):
    _sql(
        store,
        "DELETE FROM mentions WHERE rowid = (SELECT m.rowid FROM mentions m JOIN fact_sources s "
        "ON s.passage_id = m.passage_id JOIN facts f ON f.id = s.fact_id AND f.subject_id = m.entity_id "
        "LIMIT 1)",
    )
    assert check_folder(store).problem_counts().get("fact not mentioned by its source", 0) >= 1


def test_vector_damage(store):
    dim = _dim(store)
    passages = store / "vectors" / "passage.f32"
    with open(store / "vectors" / "fact.f32", "r+b") as handle:  # a hole: a fact vector that never reached disk
        handle.write(np.zeros(dim, dtype=np.float32).tobytes())
    with open(store / "vectors" / "entity.f32", "ab") as handle:  # an interrupted write's leftovers
        handle.write(np.ones((2, dim), dtype=np.float32).tobytes())
    passages.write_bytes(passages.read_bytes()[: dim * 4 * 2])  # one committed passage row lost
    report = check_folder(store)
    problems = report.problem_counts()
    assert problems == {"vector file too short": 1, "vector missing or not finite": 1}
    assert [n for n in report.notes if "entity.f32: 2 uncommitted row(s)" in n]
    result = CliRunner().invoke(app, ["check", "--store", str(store)])
    assert result.exit_code == 1
    assert "damaged" in result.output and "vector file too short: 1 (passage.f32 holds 2 row(s) but 3" in result.output


def test_a_corrupt_database_is_reported_not_raised(store):
    db = store / "hippo.db"
    with hippo.open(store) as kg:  # fold the WAL into the database file, so the damage below hits real pages
        kg.store.close()
    data = bytearray(db.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data), page):  # keep the first pages (the schema), break every b-tree header
        data[offset : offset + 12] = b"\x0d\xff" * 6
    db.write_bytes(bytes(data))
    report = check_folder(store)
    assert not report.ok and "sqlite" in report.problem_counts()


def test_a_writer_at_work_is_noted(store):
    with hippo.open(store) as kg, kg.store.write_session():
        report = check_folder(store)
    assert report.ok and any(n.startswith("a writer is at work (pid ") for n in report.notes)


def test_no_store_to_check(tmp_path):
    with pytest.raises(StoreError, match="no hippo store at"):
        check_folder(tmp_path)
