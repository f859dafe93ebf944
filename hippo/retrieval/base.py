"""What every retrieval method receives and returns, and the table that names them.

A method is a function ``(context, queries, k) -> list[list[Hit]]``: batched by design,
one ranked list per query. Built-in methods register themselves in :data:`METHODS` the
same way an outside one would, through :func:`register_method`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hippo.cache import DerivedCache
from hippo.config import Settings
from hippo.embed import Embedder
from hippo.errors import UnknownMethodError
from hippo.model import Hit, Why
from hippo.stores.base import GraphStore

__all__ = ["METHODS", "FactFilter", "FactFilterResult", "Method", "RetrievalContext", "get_method", "make_hits",
           "register_method"]


@dataclass(frozen=True)
class FactFilterResult:
    """What a fact filter kept of one query's candidates.

    ``kept`` are indices into the candidates, most useful first (empty: none helps). ``error``
    says why the filter could not judge them; the candidates are then used unfiltered.
    """

    kept: tuple[int, ...] = ()
    error: str | None = None


FactFilter = Callable[[Sequence[str], Sequence[Sequence[tuple[str, str, str]]]], list[FactFilterResult]]
"""``(queries, candidates per query as (subject, predicate, object)) -> one result per query``."""


@dataclass
class RetrievalContext:
    """Everything a retrieval method may use: the store, the embedder, settings and derived caches.

    ``fact_filter`` is set when ``Settings.fact_filter`` is on and an LLM is configured
    (see :mod:`hippo.llm.filter`); ``hipporag`` passes its top facts through it.
    ``llm`` gives the configured LLM client or None (``comorag`` asks it for probes and cues).
    """

    store: GraphStore
    embedder: Callable[[], Embedder]
    settings: Settings
    cache: DerivedCache
    fact_filter: FactFilter | None = None
    llm: Callable[[], Any] | None = None


Method = Callable[[RetrievalContext, Sequence[str], int], list[list[Hit]]]

METHODS: dict[str, Method] = {}


def register_method(name: str, method: Method) -> None:
    """Make ``method`` available as ``kg.retrieve(..., method=name)``."""
    METHODS[name] = method


def get_method(name: str) -> Method:
    """The method registered as ``name``, or :class:`UnknownMethodError` listing the known ones."""
    from hippo import retrieval  # noqa: F401  (registers the built-in methods)

    try:
        return METHODS[name]
    except KeyError:
        raise UnknownMethodError(
            f"unknown retrieval method {name!r}; choose one of: {', '.join(sorted(METHODS))}."
        ) from None


def make_hits(context: RetrievalContext, passage_ids: Sequence[str], scores: Sequence[float] | np.ndarray,
              method: str, whys: Sequence[Why] | None = None) -> list[Hit]:
    """Hits for ranked passage ids, filled with text, title and source from the store."""
    found = context.store.passage_context(passage_ids)
    hits = []
    for i, (pid, score) in enumerate(zip(passage_ids, scores)):
        ctx = found.get(pid)
        if ctx is None:
            continue
        hits.append(Hit(passage_id=pid, doc_id=ctx.doc_id, text=ctx.text, score=float(score), method=method,
                        title=ctx.title, source=ctx.source, why=whys[i] if whys else Why(), key=ctx.key,
                        time=ctx.time))
    return hits
