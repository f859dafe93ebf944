"""How texts become forward passes: batches by word pieces, helper processes, threads and precision.

:class:`TransformerBackend` runs one model's :class:`Encoder` (sentence-transformers or the e5 file) over
many texts: sorted and batched by word pieces (:func:`token_batches`), large batches shared with a helper
process (:class:`hippo.parallel.SharedWork`), on one torch thread (:func:`threads_for`), in bfloat16 on a
CPU that multiplies it in hardware, else float32 (:func:`bf16_products`). :class:`hippo.embed.Embedder`
decides which model embeds which kind of text.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np

from hippo.model import Matrix
from hippo.parallel import SharedWork

__all__ = ["BATCH_TOKENS", "Encoder", "TransformerBackend", "bf16_matmuls", "bf16_products", "matmul_precision",
           "padded", "padded_length", "threads_for", "token_batches"]


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
                 precision: str = "auto") -> None:
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
        worth = self.shared.worth_sharing(sum(len(t) for t in texts), PARALLEL_MIN_CHARS)
        if self.shared.processes > 1 and (len(texts) >= PARALLEL_MIN_TEXTS or worth):
            rows = self.shared.run_by_length(
                functools.partial(_encode_in_helper, self.name, self.batch_size, self.precision, role), texts,
                CHUNKS * self.shared.processes, lambda chunk: list(self.encode_here(chunk, role, threads)))
            return np.stack(rows)
        return self.encode_here(texts, role, threads)

    def encode_here(self, texts: Sequence[str], role: str, threads: int) -> Matrix:
        """In this process: texts of like word-piece counts together, :data:`BATCH_TOKENS` pieces per pass.

        In bfloat16 (:func:`bf16_products`) every text is padded to its :func:`padded_length` and a batch holds
        texts of one padded length only: how much padding a text gets is what makes a bfloat16 vector depend
        on its batch, so with its own fixed padding a text gets the same vector, bit for bit, whichever texts
        it is embedded with."""
        ids = self.encoder.token_ids(texts, role)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        lengths = [len(row) for row in ids]
        fixed = bf16_products(self.precision)
        with threads_for(len(texts), threads), matmul_precision(self.precision):
            for batch in token_batches(lengths, BATCH_TOKENS, self.batch_size, fixed=fixed):
                out[batch] = self.encoder.forward(*padded([ids[i] for i in batch], self.encoder.pad_id, fixed))
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


def padded(rows: Sequence[Sequence[int]], pad_id: int, fixed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Token id lists as one (len(rows), longest) int64 matrix padded with ``pad_id``, and its 0/1 mask; with
    ``fixed``, as wide as the longest row's :func:`padded_length`."""
    longest = max(len(row) for row in rows)
    longest = padded_length(longest) if fixed else longest
    ids = np.full((len(rows), longest), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), longest), dtype=np.int64)
    for index, row in enumerate(rows):
        ids[index, :len(row)] = row
        mask[index, :len(row)] = 1
    return ids, mask


SMALL_BATCH = 8
PARALLEL_MIN_TEXTS = 512
"""A batch is shared with helper processes from this size up (seconds of work, against a helper's start of
a few seconds paid once per process); queries and small ingests stay in this process."""
PARALLEL_MIN_CHARS = 50_000
"""...or from this many characters up: an ingest batch's passages (256 documents, 2Wiki's about 130,000
characters, 16 s of e5 on one core) are fewer than :data:`PARALLEL_MIN_TEXTS` but as much work; smaller
batches once the batches embedded add up to this (:meth:`hippo.parallel.SharedWork.worth_sharing`)."""
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


def padded_length(pieces: int) -> int:
    """The width a text of ``pieces`` word pieces is padded to in bfloat16: its own length up to 16, then the
    next multiple of an eighth of the power of two at or below it (18, 20, ... 32, 36, ... 64, 72, ... 512).

    Why: a bfloat16 vector changes with the padding its text gets (:func:`matmul_precision`), so each text
    is padded by a rule of its own length alone, and batches hold one padded width. Exact lengths (the rule
    before) left most passages of a 256-document ingest batch alone in their batch (2Wiki's passages
    spread over some 230 lengths); this ladder wastes at most an eighth on padding and gathers eight
    lengths per width: e5 embedded a 2Wiki ingest batch (256 passages, in a shared batch's 16 chunks)
    in about 10 % less CPU, one thread, vectors within 2e-5 cosine of the exact-length ones. Short texts
    (entity names, most facts) keep their exact lengths, where padding would cost more than it gathers.

    >>> [padded_length(n) for n in (7, 16, 17, 33, 100, 256, 258)]
    [7, 16, 18, 36, 104, 256, 288]
    """
    step = 1 << max(0, pieces.bit_length() - 4)
    return -(-pieces // step) * step


def token_batches(lengths: Sequence[int], budget: int, most: int, fixed: bool = False) -> list[list[int]]:
    """Indices of texts in batches of like length: sorted by ``lengths``, each batch holding at most
    ``most`` texts and at most ``budget`` pieces when padded to its longest (always at least one text);
    with ``fixed``, texts of one :func:`padded_length` only, each padded to it.

    >>> token_batches([3, 9, 3, 4], budget=9, most=8)
    [[0, 2], [3], [1]]
    >>> token_batches([3, 3, 4, 4], budget=16, most=8, fixed=True)
    [[0, 1], [2, 3]]
    >>> token_batches([17, 18, 19], budget=64, most=8, fixed=True)
    [[0, 1], [2]]
    """
    width = padded_length if fixed else int
    batches: list[list[int]] = []
    current: list[int] = []
    for index in sorted(range(len(lengths)), key=lengths.__getitem__):
        if current and ((len(current) + 1) * width(lengths[index]) > budget or len(current) >= most
                        or (fixed and width(lengths[index]) != width(lengths[current[-1]]))):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def _encode_in_helper(name: str, batch_size: int, precision: str, role: str, texts: list[str]) -> list[np.ndarray]:
    """Run in a helper process: ``texts`` embedded as ``role`` by its own copy of the model, on one thread
    (no texts: the model is loaded and one word embedded, so the helper is ready; see :mod:`hippo.parallel`)."""
    from hippo.embed import load_backend

    vectors = load_backend(name, batch_size, 1, precision).encode_here(texts or ["ready"], role, 1)
    return list(vectors[:len(texts)])


@functools.cache
def bf16_matmuls() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (Intel AMX, or AVX-512 BF16 as on AMD Zen 4).

    Asked once per process: every forward pass (a question's too) asks it twice, and the answer cannot change."""
    import torch

    amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    return bool(amx() or getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)())


def bf16_products(precision: str) -> bool:
    """Whether texts are multiplied in bfloat16 under the ``embed_precision`` setting ``precision``
    (``hippo.config.EMBED_PRECISIONS``): under ``"auto"`` where :func:`bf16_matmuls`, never under ``"float32"``.

    Measured on 2Wiki's texts, one thread, AMD EPYC with AVX-512 BF16 (batches of one length;
    ``bench/embed_precision.py``): MiniLM embeds entity names 1.55x, fact texts 1.8x and passages 1.6x faster,
    e5 passages 1.5x, every vector within 1e-4 cosine of its float32 vector (worst 0.99992 over 10,000 names;
    passages 0.99997), the bound within which a runtime may change without a new model identity;
    ``tests/test_embed.py`` holds it to 1e-4.
    """
    return precision == "auto" and bf16_matmuls()


@contextlib.contextmanager
def matmul_precision(precision: str) -> Iterator[None]:
    """Run a forward pass with bfloat16 matrix products where :func:`bf16_products`, else in float32.

    Torch's autocast keeps layer norms, softmax and the pooling in float32. Run only on batches of one
    padded width (:func:`token_batches` with ``fixed``, :func:`padded_length`): padding changes how a padded
    text's products round, so in a batch padded to its longest a text's bfloat16 vector depends on its
    batch, by up to 1e-3 per component (measured), and an ingest killed and run again, or one batch against
    one document at a time, would no longer give the same vectors and memory associations; padded by a rule
    of its own length it is the same bit for bit, alone or among others, in this process or a helper.
    """
    if not bf16_products(precision):
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
