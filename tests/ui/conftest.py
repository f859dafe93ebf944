"""Fixtures of the web UI tests: the demo store (with its graph when the spaCy model exists) and small stores."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

import hippo
from tests.conftest import DEMO

APP = Path(hippo.__file__).resolve().parents[1] / "ui" / "app.py"


class DemoStore(NamedTuple):
    path: Path
    has_graph: bool


def spacy_model_missing() -> str | None:
    """Why the graph-dependent checks cannot run, or None when the bundled spaCy pipeline exists."""
    from hippo.ingest.extract.spacy import DEFAULT_MODEL

    if DEFAULT_MODEL.exists():
        return None
    return (f"the bundled spaCy pipeline is missing at {DEFAULT_MODEL}, so the demo store has no entities or "
            "facts; graph-dependent checks are skipped (build it with `make model`)")


def skip_without_graph(store: DemoStore) -> None:
    if not store.has_graph:
        pytest.skip(spacy_model_missing() or "the demo store has no graph")


@pytest.fixture(scope="session")
def demo_store(request: pytest.FixtureRequest) -> DemoStore:
    """The demo corpus indexed with the spaCy extractor when its model exists, else passages only."""
    if spacy_model_missing() is None:
        kg = request.getfixturevalue("kg_demo_graph")
    else:
        kg = request.getfixturevalue("kg_demo")
    return DemoStore(Path(kg.store.location), kg.stats()["counts"]["entities"] > 0)


@pytest.fixture()
def small_store(tmp_path: Path) -> Path:
    """Three demo documents in a fresh store (passages only): tests may write to it."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("people/ada_lindqvist.md", "places/harrowgate.md", "institutions/marren_observatory.md"):
        shutil.copy(DEMO / name, folder / Path(name).name)
    with hippo.open(tmp_path / "store", extractor="none") as kg:
        kg.index(folder)
    return tmp_path / "store"
