"""The local transport: llama.cpp in this process (the ``xllamacpp`` package) on a verified GGUF file.

It answers the same OpenAI-style chat-completions bodies as an HTTP endpoint, so the client's cache,
usage counting, JSON parsing and fallbacks are shared. One model is loaded per process, on first
use, and kept; requests from several threads are served one at a time (llama.cpp's threads spin, so
two requests at once on two cores are slower than one after the other).

Which local model, from ``Settings.extra["local_llm"]`` (``enabled``, ``path``, ``sha256``, ``size``,
``n_ctx``, ``threads``, ``max_tokens``, ``temperature``, ``cache``) or the environment
(``HIPPO_LOCAL_LLM=off`` turns it off, ``HIPPO_LOCAL_SIZE`` picks a bundled size, ``HIPPO_LOCAL_MODEL``
names a GGUF path, ``HIPPO_LOCAL_MODEL_SHA256`` its hash, ``HIPPO_LOCAL_THREADS``); settings win. Without a path the
bundled size (default :data:`~hippo.llm.model_files.DEFAULT_SIZE`) is used when its file is in the
model cache or its part packages are installed (it is then assembled and verified on first use).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hippo.config import Settings
from hippo.errors import ConfigError, LLMError
from hippo.llm.model_files import (
    DEFAULT_SIZE,
    ModelFile,
    ModelFileError,
    assemble,
    known,
    model_dir,
    parts_installed,
    verify,
)

__all__ = ["ContextOverflowError", "LocalBackend", "LocalConfig", "local_config", "runtime_installed"]

logger = logging.getLogger(__name__)

DEFAULT_N_CTX = 8192
MAX_DEFAULT_THREADS = 4
DEFAULT_LOCAL_MAX_TOKENS = 512
_KEYS = {"enabled", "path", "sha256", "size", "n_ctx", "threads", "max_tokens", "temperature", "cache"}
_OFF = {"0", "off", "false", "no"}


class ContextOverflowError(LLMError):
    """The prompt does not fit the model's context; ``prompt_tokens`` and ``n_ctx`` say by how much."""

    def __init__(self, message: str, prompt_tokens: int, n_ctx: int) -> None:
        super().__init__(message)
        self.prompt_tokens = prompt_tokens
        self.n_ctx = n_ctx


@dataclass(frozen=True)
class LocalConfig:
    """A GGUF model run in-process, and the generation limits the client applies to it.

    Parameters
    ----------
    path : the GGUF file.
    sha256 : its expected hash; None loads an unverified file the user named by path.
    bundled : the known model the file is (assembled from its packages on first use), or None.
    n_ctx : context tokens (prompt plus reply).
    threads : llama.cpp threads for prompt and generation; 0 (default) takes the cores that are free when the
        model loads (see :func:`free_cores`).
    temperature, max_tokens, cache : as for an endpoint (:class:`hippo.llm.config.LLMConfig`).
    """

    path: Path
    sha256: str | None = None
    bundled: ModelFile | None = None
    n_ctx: int = DEFAULT_N_CTX
    threads: int = 0
    temperature: float = 0.0
    max_tokens: int = DEFAULT_LOCAL_MAX_TOKENS
    cache: bool = True
    json_mode: str = "schema"
    concurrency: int = 1

    def __post_init__(self) -> None:
        for name in ("n_ctx", "max_tokens"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) <= 0:
                raise ConfigError(f"local LLM {name}={getattr(self, name)!r} must be a positive integer.")
        if not isinstance(self.threads, int) or self.threads < 0:
            raise ConfigError(f"local LLM threads={self.threads!r} must be 0 (the free cores) or more.")

    @property
    def model(self) -> str:
        """The name requests carry (and cache keys hold): the file name and the start of its hash."""
        return f"{self.path.name}@{(self.sha256 or 'unverified')[:12]}"

    @property
    def host(self) -> str:
        return f"local model {self.path.name}"


def free_cores() -> int:
    """Cores not busy right now (one-minute load average), at least 1 and at most :data:`MAX_DEFAULT_THREADS`.

    llama.cpp's threads spin while they wait for each other, so a thread on a core another process
    holds slows every other thread down: on two cores with one busy, 1 thread answered faster than 2.
    """
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(MAX_DEFAULT_THREADS, cores, round(cores - busy)))


def runtime_installed() -> bool:
    """Whether the llama.cpp runtime (``xllamacpp``, from ``hippo[local]``) can be imported."""
    return importlib.util.find_spec("xllamacpp") is not None


def local_config(settings: Settings, environ: Mapping[str, str] | None = None) -> LocalConfig | None:
    """The local model the settings and environment describe, or None when it is off or not installed.

    >>> local_config(Settings(extra={"local_llm": {"enabled": False}}), environ={}) is None
    True
    """
    env = os.environ if environ is None else environ
    extra: Any = settings.extra.get("local_llm") or {}
    if not isinstance(extra, Mapping):
        raise ConfigError(f"Settings.extra['local_llm'] must be a dict, not {type(extra).__name__}.")
    unknown = sorted(set(extra) - _KEYS)
    if unknown:
        raise ConfigError(f"unknown local LLM setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}.")
    if extra.get("enabled") is False or str(env.get("HIPPO_LOCAL_LLM", "")).lower() in _OFF:
        return None
    if not runtime_installed():
        return None
    options = {k: extra[k] for k in ("n_ctx", "max_tokens", "temperature", "cache") if k in extra}
    threads = extra.get("threads") or env.get("HIPPO_LOCAL_THREADS")
    if threads:
        options["threads"] = _int(threads, "threads")
    path = extra.get("path") or env.get("HIPPO_LOCAL_MODEL")
    if path:
        sha = extra.get("sha256") or env.get("HIPPO_LOCAL_MODEL_SHA256")
        return LocalConfig(Path(str(path)).expanduser(), sha.lower() if sha else None, **options)
    model = known(str(extra.get("size") or env.get("HIPPO_LOCAL_SIZE") or DEFAULT_SIZE))
    target = model_dir() / model.filename
    if not target.exists() and not parts_installed(model):
        return None
    return LocalConfig(target, model.sha256, model, **options)


def _int(value: object, name: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ConfigError(f"local LLM {name}={value!r} must be a whole number.") from None


class _Runtime:
    """The one llama.cpp server of this process and the lock that serialises its requests."""

    lock = threading.Lock()
    loaded: tuple[tuple[str, int, int], Any] | None = None


def _server(config: LocalConfig) -> Any:
    """The loaded model for ``config`` (verified first; loaded once per process). Call with the lock held."""
    key = (str(config.path), config.n_ctx, config.threads)
    if _Runtime.loaded is not None and _Runtime.loaded[0] == key:
        return _Runtime.loaded[1]
    threads = config.threads or free_cores()
    path = _verified_path(config)
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = config.n_ctx
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.verbosity = -1
    _Runtime.loaded = None  # free the previous model before loading another
    try:
        server = xllamacpp.Server(params)
    except RuntimeError as exc:
        raise ModelFileError(f"llama.cpp could not load {path} ({exc}); is it a GGUF model file?") from None
    logger.info("local LLM: loaded %s (n_ctx %d, %d thread(s))", path, config.n_ctx, threads)
    _Runtime.loaded = (key, server)
    return server


def _verified_path(config: LocalConfig) -> Path:
    if config.bundled is not None:
        return assemble(config.bundled, config.path.parent)
    if config.sha256 is not None:
        return verify(config.path, config.sha256)
    if not config.path.is_file():
        raise ModelFileError(f"model file {config.path} does not exist; fix HIPPO_LOCAL_MODEL "
                             "(or Settings.extra['local_llm']['path']).")
    logger.warning("local LLM: %s is loaded unverified (no sha256 given; set HIPPO_LOCAL_MODEL_SHA256 to check it)",
                   config.path)
    return config.path


class LocalBackend:
    """Chat-completions bodies answered by the in-process model (the client's local transport)."""

    def __init__(self, config: LocalConfig) -> None:
        self.config = config

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """The OpenAI-style response to ``body``; :class:`LLMError` (or :class:`ContextOverflowError`) on failure."""
        with _Runtime.lock:
            server = _server(self.config)
            data = server.handle_chat_completions(body)
        error = data.get("error") if isinstance(data, dict) else None
        if error:
            message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
            if isinstance(error, dict) and error.get("type") == "exceed_context_size_error":
                raise ContextOverflowError(f"{self.config.host}: {message}", int(error.get("n_prompt_tokens", 0)),
                                      int(error.get("n_ctx", self.config.n_ctx)))
            raise LLMError(f"{self.config.host} refused the request: {message}")
        return data

    def close(self) -> None:
        """Nothing to close: the model stays loaded for the process (see :class:`_Runtime`)."""
