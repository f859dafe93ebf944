"""Crash safety: `hippo index` killed with SIGKILL mid-run leaves a sound store, and rerunning the
same command ends with exactly what an uninterrupted run gives.

The kill points come from the ingest pipeline's testing hook (``HIPPO_CRASH_AT=<stage>:<n>``, see
``hippo.ingest.pipeline``): the process kills itself the n-th time a batch reaches the stage, so
each test stops the ingest at the same place every time. The people of the demo corpus (12 files)
are indexed in batches of 3 documents, so every kill lands after some batches have committed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import hippo
from hippo.cli.app import app
from hippo.ingest.pipeline import CRASH_ENV
from hippo.stores.schema import VECTOR_KINDS
from tests.conftest import DEMO, spacy_model_or_skip

BATCH_DOCS = 3
CORPUS = DEMO / "people"
QUESTIONS = ["Who founded the Marren Observatory?", "Where was Tomas Vey born?", "Who built telescopes?"]
# What must be the same after a crash and a rerun as after one uninterrupted run (times left out).
TABLES = {
    "documents": "id, source, file, title, content_hash, metadata, timestamp",
    "passages": "id, doc_id, position, text, content_hash, vec_row, key, time",
    "entities": "id, name, display, label, vec_row",
    "facts": "id, subject_id, predicate, object_id, vec_row",
    "fact_sources": "fact_id, passage_id, extractor",
    "mentions": "passage_id, entity_id",
    "synonyms": "a, b, score",
    "units": "id, granularity, text, doc_id, time, vec_row, passage_id",
    "associations": "a, b, weight",
    "files": "path, content_hash, size",
}


SCORED = ("synonyms", "associations")
"""Tables whose last column is a cosine: a batch of other texts pads differently, so the rerun's vectors
(and their cosines) match the uninterrupted run's to float noise (1e-5), not to the bit."""


def _new_store(path: Path) -> str:
    """An empty store that writes batches of BATCH_DOCS documents (the setting is stored with it)."""
    hippo.open(path, ingest_batch_docs=BATCH_DOCS, extractor="spacy").close()
    return str(path)


def _index(store: str) -> dict:
    result = CliRunner().invoke(app, ["index", str(CORPUS), "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _fingerprint(store: str) -> tuple[dict[str, list[tuple]], dict[str, np.ndarray]]:
    """Every stored row (sorted) and the committed rows of every vector file."""
    conn = sqlite3.connect(Path(store) / "hippo.db")
    try:
        rows = {
            table: sorted(conn.execute(f"SELECT {columns} FROM {table}").fetchall(), key=repr)
            for table, columns in TABLES.items()
        }
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    finally:
        conn.close()
    dim = int(meta["embed_dim"])
    vectors = {
        kind: np.fromfile(
            Path(store) / "vectors" / f"{kind}.f32", dtype=np.float32, count=int(meta[f"rows.{kind}"]) * dim
        ).reshape(-1, dim)
        for kind in VECTOR_KINDS
        if int(meta[f"rows.{kind}"])
    }
    return rows, vectors


def _answers(store: str) -> dict[tuple[str, str], list[tuple[str, float]]]:
    with hippo.open(store, create=False) as kg:
        return {
            (method, q): [(h.passage_id, round(h.score, 4)) for h in kg.retrieve(q, k=5, method=method)]
            for method in ("dense", "hipporag")
            for q in QUESTIONS
        }


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    spacy_model_or_skip()
    store = _new_store(tmp_path_factory.mktemp("uninterrupted") / "store")
    report = _index(store)
    rows, vectors = _fingerprint(store)
    return {"report": report, "rows": rows, "vectors": vectors, "answers": _answers(store)}


@pytest.mark.slow  # each kill starts a fresh process that loads the embedding model and the parser
@pytest.mark.parametrize("crash_at", ["extract:2", "write:3", "graph:4"])
def test_killed_ingest_leaves_a_sound_store_and_a_rerun_completes_it(tmp_path, uninterrupted, crash_at):
    store = _new_store(tmp_path / "store")
    killed = subprocess.run(
        [sys.executable, "-m", "hippo.cli.app", "index", str(CORPUS), "--store", store],
        env={**os.environ, CRASH_ENV: crash_at},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    stage, _, n = crash_at.partition(":")
    committed = (int(n) - 1) * BATCH_DOCS  # batches before the n-th reached the stage and committed
    with hippo.open(store, create=False) as kg:
        assert kg.stats()["counts"]["documents"] == committed
        report = kg.check()
    assert report.ok, report.problems
    if stage in ("write", "graph"):  # killed inside the transaction: its vectors were written, never committed
        assert any("uncommitted row(s)" in note for note in report.notes), report.notes
    assert CliRunner().invoke(app, ["check", "--store", store]).exit_code == 0

    rerun = _index(store)
    assert rerun["documents_added"] == uninterrupted["report"]["documents_added"] - committed
    assert rerun["files_read"] + rerun["files_unchanged"] == uninterrupted["report"]["files_read"]
    rows, vectors = _fingerprint(store)
    for table, expected in uninterrupted["rows"].items():
        if table in SCORED:  # cosines of vectors embedded in other batches: equal pairs, scores to float noise
            assert [r[:2] for r in rows[table]] == [r[:2] for r in expected], f"{table} differs after the rerun"
            np.testing.assert_allclose([r[2] for r in rows[table]], [r[2] for r in expected], atol=1e-5)
            continue
        assert rows[table] == expected, f"{table} differs after the crash and rerun"
    assert vectors.keys() == uninterrupted["vectors"].keys()
    for kind, expected in uninterrupted["vectors"].items():
        np.testing.assert_allclose(vectors[kind], expected, atol=1e-5, err_msg=f"{kind} vectors differ")
    assert _answers(store) == uninterrupted["answers"]
    with hippo.open(store, create=False) as kg:
        after = kg.check()
    assert after.ok and not after.notes, (after.problems, after.notes)
