"""Indexing uploads in the background: one worker thread per UI process, a job object per run.

A Streamlit script run stops when the user switches pages, so indexing inside it was cut short and
its report lost. Here the run happens in a worker thread that outlives the page; the page keeps the
:class:`IndexJob` in the session and polls it. One worker: the store takes one writer at a time.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

import hippo
from hippo.ui.launch import UPLOAD_LIMIT_MB

__all__ = ["IndexJob", "start_indexing"]

READ_SHARE = 0.9
"""Share of the bar for reading the files; the rest is for embedding and fact extraction, which come after."""


@st.cache_resource(show_spinner=False)
def _worker() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="hippo-index")


@dataclass
class IndexJob:
    """One indexing run: its future, and the last progress it reported (written by the worker thread)."""

    files: int
    future: Future[hippo.IndexReport] = field(default_factory=Future)
    last: Any = None

    def on_progress(self, progress: Any) -> None:
        self.last = progress

    def status(self) -> tuple[float, str]:
        """The bar's fraction and text; reading the files fills :data:`READ_SHARE` of it, never all of it."""
        p = self.last
        if p is None:
            return 0.0, f"Starting: {self.files} file(s); the first run loads the embedding model…"
        if p.files_done < p.files_total:
            text = f"Reading {p.files_done}/{p.files_total} file(s) · {p.passages} passage(s) · {Path(p.current).name}"
            return READ_SHARE * p.files_done / max(p.files_total, 1), text
        return READ_SHARE, (f"All {p.files_total} file(s) read · embedding {p.passages} passage(s) and extracting "
                            "their facts…")

    def outcome(self) -> hippo.IndexReport | BaseException:
        """The report, or the hippo or file-system error the run ended with (shown as a message)."""
        try:
            return self.future.result()
        except (hippo.HippoError, OSError) as exc:
            return exc


def start_indexing(kg: hippo.KnowledgeGraph, files: list[tuple[str, bytes]],
                   limit_bytes: int = UPLOAD_LIMIT_MB * 1024 * 1024) -> IndexJob:
    """Start indexing ``(file name, content)`` pairs with :meth:`hippo.KnowledgeGraph.index_uploads`."""
    job = IndexJob(len(files))
    job.future = _worker().submit(kg.index_uploads, files, limit_bytes=limit_bytes, on_progress=job.on_progress)
    return job
