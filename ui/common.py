"""What the pages share: the open knowledge graph, readable errors, uploads, moving between pages.

Every page gets its :class:`hippo.KnowledgeGraph` from :func:`graph` (one per store and process,
kept by ``st.cache_resource``) and wraps its body in :func:`errors_shown`, so a
:class:`hippo.HippoError` becomes a short message on the page instead of a traceback.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import streamlit as st

import hippo
from hippo.config import store_path_from_env
from hippo.retrieval import METHODS
from hippo.stores import resolve_location
from hippo.ui.launch import EMBED_MODEL_ENV, UPLOAD_LIMIT_MB

__all__ = ["ACCEPTED_TYPES", "ENTITY_KEY", "PAGES", "UPLOAD_LIMIT_MB", "create_store", "errors_shown", "escape_md",
           "find_entity_id", "graph", "method_choices", "open_entity", "report_summary", "show_error",
           "store_location"]

PAGES = {"ask": "views/ask.py", "explore": "views/explore.py", "documents": "views/documents.py",
         "stats": "views/stats.py"}
"""Page scripts, relative to ``app.py`` (what ``st.switch_page`` and ``AppTest.switch_page`` take)."""
ENTITY_KEY = "explore_entity"
"""Session-state key of the entity the Explore page shows."""
ACCEPTED_TYPES = ("txt", "md", "markdown", "html", "htm", "pdf", "json", "jsonl")
"""What the loaders read (``hippo.ingest.loaders.SUFFIXES``); other files are skipped with the reason."""

def store_location() -> str:
    """The store this UI serves: ``$HIPPO_STORE`` (set by ``hippo ui --store``), else ``./.hippo``.

    A folder is made absolute; a Neo4j URI is kept as it is.
    """
    return resolve_location(store_path_from_env())


def _embed_model() -> str | None:
    return os.environ.get(EMBED_MODEL_ENV) or None


@st.cache_resource(show_spinner=False, max_entries=8)
def _open(location: str, embed_model: str | None) -> hippo.KnowledgeGraph:
    overrides = {"embed_model": embed_model} if embed_model else {}
    return hippo.open(location, create=False, **overrides)


def graph() -> hippo.KnowledgeGraph:
    """The knowledge graph of :func:`store_location`, opened once per process.

    Raises :class:`hippo.StoreError` when there is no store there and
    :class:`hippo.EmbeddingModelMismatch` when it was built with another model than
    ``$HIPPO_EMBED_MODEL``.
    """
    return _open(store_location(), _embed_model())


def create_store() -> None:
    """Create an empty store at :func:`store_location` (for a UI started on a new folder)."""
    overrides = {"embed_model": _embed_model()} if _embed_model() else {}
    hippo.open(store_location(), create=True, **overrides).close()


ERROR_TITLES: tuple[tuple[type[BaseException], str], ...] = (
    (hippo.EmbeddingModelMismatch, "This store was built with another embedding model"),
    (hippo.StoreError, "Store problem"),
    (hippo.UnknownMethodError, "Unknown name"),
    (hippo.ConfigError, "Invalid setting"),
    (hippo.IngestError, "Could not index"),
    (hippo.LLMError, "The LLM failed"),
    (hippo.HippoError, "hippo could not do that"),
    (OSError, "File system error"),
)


def show_error(exc: BaseException) -> None:
    """One readable message for ``exc``: a title by error type, then hippo's own explanation."""
    title = next((t for kind, t in ERROR_TITLES if isinstance(exc, kind)), "Error")
    st.error(f"**{title}.** {exc}", icon=":material/error:")


@contextlib.contextmanager
def errors_shown() -> Iterator[None]:
    """Show a :class:`hippo.HippoError` (or a file-system error) raised inside as a message, not a traceback."""
    try:
        yield
    except (hippo.HippoError, OSError) as exc:
        show_error(exc)


def method_choices(kg: hippo.KnowledgeGraph) -> tuple[list[str], int]:
    """The registered retrieval methods and the index of the store's default among them."""
    names = sorted(METHODS)
    default = kg.settings.default_method
    return names, names.index(default) if default in names else 0


def open_entity(ref: str) -> None:
    """Show entity ``ref`` (a name or id) on the Explore page (``?entity=`` in the URL)."""
    st.session_state[ENTITY_KEY] = ref
    st.switch_page(PAGES["explore"], query_params={"entity": ref})


def find_entity_id(kg: hippo.KnowledgeGraph, name: str) -> str | None:
    """The id of the entity called ``name``: an exact name first, else the best match; None without one.

    Names in answers and URLs are display names; the store's own lookup would take the first entity
    whose name merely contains ``name``.
    """
    found = kg.entities(name, limit=10)
    exact = [e for e in found if name.casefold() in (e.display.casefold(), e.name.casefold(), e.id)]
    best = exact or found
    return best[0].id if best else None


_MARKDOWN_SPECIALS = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-.!|<>~:$"})


def escape_md(text: str) -> str:
    """``text`` shown literally by ``st.markdown`` (no emphasis, links, colours or LaTeX from document text)."""
    return text.translate(_MARKDOWN_SPECIALS)


def report_summary(report: hippo.IndexReport) -> str:
    """One line on what an indexing run did (the CLI's summary, in words)."""
    return (f"Indexed {report.files_read} file(s) ({report.files_unchanged} unchanged): "
            f"{report.documents_added} document(s) added, {report.documents_replaced} replaced, "
            f"{report.documents_unchanged} unchanged; {report.passages} passage(s), {report.entities} "
            f"entit(ies), {report.facts} fact(s) in {report.seconds:.1f} s.")
