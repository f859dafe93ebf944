"""Fixtures of the LLM tests: a scripted chat endpoint on 127.0.0.1 and clients pointed at it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hippo.llm.cache import ResponseCache
from hippo.llm.client import LLMClient
from hippo.llm.config import LLMConfig, Secret
from tests.llm.server import ChatServer

API_KEY = "sk-hippo-test-0123456789-SECRET"
MODEL = "scripted-model"


@pytest.fixture()
def server() -> Iterator[ChatServer]:
    """A fresh scripted endpoint per test (default answers: :class:`~tests.llm.server.ScriptedModel`)."""
    with ChatServer() as chat:
        yield chat


@pytest.fixture()
def sleeps() -> list[float]:
    """The retry delays a client asked for (the client's sleep appends here instead of waiting)."""
    return []


@pytest.fixture()
def make_client(server: ChatServer, tmp_path: Path, sleeps: list[float]) -> Iterator[Callable[..., LLMClient]]:
    """``make_client(**config)``: a client of ``server`` with a cache in ``tmp_path`` and recorded sleeps."""
    made: list[LLMClient] = []

    def make(cache: bool = True, base_url: str | None = None, **options: object) -> LLMClient:
        settings = {"timeout": 2.0, "max_retries": 2, "backoff": 0.01, **options}
        config = LLMConfig(base_url=base_url or server.base_url, model=MODEL, api_key=Secret(API_KEY), **settings)
        client = LLMClient(config, ResponseCache(tmp_path / "llm_cache.sqlite") if cache else None,
                           sleep=sleeps.append)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def llm_extra(server: ChatServer, **options: object) -> dict[str, object]:
    """``Settings.extra`` naming ``server`` as the LLM (fast retries for tests)."""
    return {"llm": {"base_url": server.base_url, "model": MODEL, "timeout": 5.0, "backoff": 0.01, **options}}


def provenance(store: Path) -> set[str]:
    """The extractor names recorded for the facts of the store at ``store``."""
    with sqlite3.connect(store / "hippo.db") as conn:
        return {row[0] for row in conn.execute("SELECT DISTINCT extractor FROM fact_sources")}


@pytest.fixture()
def offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LLM in the environment, whatever the shell running the tests has set."""
    for name in ("HIPPO_LLM_MODEL", "HIPPO_LLM_BASE_URL", "HIPPO_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
