"""Fixtures of the memory tests: the small chat of data/chat indexed once, and its sessions as separate files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hippo
from tests.conftest import ROOT, SHARED_DATA

CHAT = ROOT / "data" / "chat" / "allotment.json"
LOCOMO = SHARED_DATA / "locomo"


@pytest.fixture(scope="session")
def kg_chat(tmp_path_factory: pytest.TempPathFactory) -> hippo.KnowledgeGraph:
    """data/chat/allotment.json (4 sessions of 6 turns, hippo's chat format) indexed with defaults; read only."""
    kg = hippo.open(tmp_path_factory.mktemp("kg_chat") / "store")
    kg.index(CHAT)
    yield kg
    kg.close()


@pytest.fixture()
def session_files(tmp_path: Path) -> list[Path]:
    """Each session of the chat as its own file (in session order), to index one at a time."""
    chat = json.loads(CHAT.read_text())
    files = []
    for session in chat["sessions"]:
        path = tmp_path / f"{session['id']}.json"
        path.write_text(json.dumps({"conversation": chat["conversation"], "sessions": [session]}))
        files.append(path)
    return files


def locomo_or_skip(name: str = "26") -> Path:
    path = LOCOMO / f"{name}.json"
    if not path.exists():
        pytest.skip(f"the LoCoMo data is not at {LOCOMO}; it lives in ../shared/data")
    return path
