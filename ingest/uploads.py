"""Indexing uploaded files (a name and bytes, as the web UI receives them), recorded under their own name.

An upload has no path worth keeping: the files are written to a private temporary folder only so
the loaders can read them as they read any file (same parsers, same skip reasons), and removed
afterwards. Each is recorded under its original file name (``notes.md``) with its content hash, not
under the temporary path, so:

- uploading the same file again changes nothing, and a new version under the same name replaces
  the old one;
- a file whose content the store already holds (indexed from the command line under its path) is
  skipped as ``already indexed`` instead of being stored twice;
- indexing from the command line a file uploaded earlier (same name, same content) replaces the
  upload by the file (see ``pipeline._plan_file``): one document either way.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from hippo.embed import Embedder
from hippo.ingest.extract.base import LLMSource
from hippo.ingest.pipeline import ProgressFn, index_paths
from hippo.model import IndexReport, Skip
from hippo.stores.base import GraphStore

__all__ = ["index_uploads", "upload_name"]


def upload_name(name: str) -> str:
    """The name an upload is recorded under: the file name without folders or leading dots.

    >>> upload_name("../../etc/.passwd"), upload_name("notes.md"), upload_name("...")
    ('passwd', 'notes.md', 'upload')
    """
    return Path(name.replace("\\", "/")).name.lstrip(".") or "upload"


def index_uploads(store: GraphStore, embed: Callable[[], Embedder], files: Sequence[tuple[str, bytes]], *,
                  limit_bytes: int, on_progress: ProgressFn | None = None,
                  llm: LLMSource | None = None) -> IndexReport:
    """Index ``(file name, content)`` pairs; files over ``limit_bytes`` are skipped as ``too large``.

    Two uploads with the same name in one call: the last one is indexed. Skips name the uploaded
    file, never the temporary folder.
    """
    too_large: list[Skip] = []
    with tempfile.TemporaryDirectory(prefix="hippo-upload-") as tmp:
        folder = Path(tmp).resolve()
        names: dict[str, str] = {}
        for raw, data in files:
            name = upload_name(raw)
            if len(data) > limit_bytes:
                too_large.append(Skip(name, f"too large: {len(data) / 1e6:.1f} MB is over the upload limit of "
                                            f"{limit_bytes / 1e6:.0f} MB"))
                continue
            path = folder / name
            path.write_bytes(data)
            names[str(path)] = name
        report = index_paths(store, embed, [folder], on_progress=on_progress, llm=llm, names=names) \
            if names else IndexReport()
    report.skipped = too_large + [Skip(_shown(s.path, folder), s.reason) for s in report.skipped]
    return report


def _shown(path: str, folder: Path) -> str:
    """A skip's path as the user knows it: the uploaded file's name (and record key), not the temporary path."""
    prefix = str(folder) + os.sep
    return path[len(prefix):] if path.startswith(prefix) else path
