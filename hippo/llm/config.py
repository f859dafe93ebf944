"""Where the LLM is and how to talk to it: :class:`LLMConfig`, read from the environment and settings.

An LLM is configured when a model name is known, from ``Settings.extra["llm"]["model"]`` or
``HIPPO_LLM_MODEL``. The endpoint comes from ``extra["llm"]["base_url"]`` or
``HIPPO_LLM_BASE_URL`` (default: OpenAI's). Settings win over the environment because a store
remembers its settings, and the response cache is only reusable if the model stays the same.

The API key comes only from the environment (``HIPPO_LLM_API_KEY``, else ``OPENAI_API_KEY``):
settings are written into the store, so a key placed there is refused rather than saved.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hippo.config import Settings
from hippo.errors import ConfigError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_TIMEOUT_S",
    "JSON_MODES",
    "LLMConfig",
    "Secret",
    "llm_config",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 4
DEFAULT_CONCURRENCY = 8
DEFAULT_MAX_TOKENS = 2048
DEFAULT_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
JSON_MODES = ("schema", "object", "off")
"""How JSON replies are requested: a ``json_schema`` response format, ``json_object``, or none."""

_KEYS = {"base_url", "model", "timeout", "max_retries", "concurrency", "temperature", "max_tokens", "json_mode",
         "cache", "backoff", "enabled"}


class Secret:
    """A string that never shows itself in reprs, logs or tracebacks; :meth:`reveal` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class LLMConfig:
    """One OpenAI-compatible chat endpoint and the client's limits.

    Parameters
    ----------
    base_url : the API root, ending in ``/v1`` for OpenAI, vLLM, llama.cpp server and Ollama.
    model : the model name sent with every request (and part of every cache key).
    api_key : sent as a bearer token; None for local servers that need none.
    timeout : seconds to wait for one response before retrying.
    max_retries : further attempts after a timeout, a dropped connection, 429 or 5xx.
    concurrency : requests in flight at once (threads; the callers are synchronous).
    temperature, max_tokens : generation settings (0 and 2048, as HippoRAG 2 uses).
    json_mode : ``"schema"``, ``"object"`` or ``"off"`` (see :data:`JSON_MODES`); the client steps
        down when the server answers 400 to it.
    cache : keep responses in ``<store>/llm_cache.sqlite``.
    backoff : first retry delay in seconds, doubled per attempt (a ``Retry-After`` header wins).
    """

    base_url: str
    model: str
    api_key: Secret | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES
    concurrency: int = DEFAULT_CONCURRENCY
    temperature: float = 0.0
    max_tokens: int = DEFAULT_MAX_TOKENS
    json_mode: str = "object"
    cache: bool = True
    backoff: float = DEFAULT_BACKOFF_S

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"LLM base URL {_safe_url(self.base_url)!r} is not an http(s) URL; set HIPPO_LLM_BASE_URL "
                "(or Settings.extra['llm']['base_url']) to e.g. http://localhost:8000/v1."
            )
        if not self.model.strip():
            raise ConfigError("the LLM model name is empty; set HIPPO_LLM_MODEL or Settings.extra['llm']['model'].")
        if self.json_mode not in JSON_MODES:
            raise ConfigError(f"LLM json_mode={self.json_mode!r}; choose one of {', '.join(JSON_MODES)}.")
        for name in ("timeout", "concurrency", "max_tokens"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"LLM {name}={getattr(self, name)} must be positive.")
        if self.max_retries < 0 or self.backoff < 0:
            raise ConfigError(f"LLM max_retries={self.max_retries} and backoff={self.backoff} must be >= 0.")

    @property
    def host(self) -> str:
        """The endpoint's host (and port), never its credentials: what messages and logs name."""
        return _safe_url(self.base_url, host_only=True)


def llm_config(settings: Settings, environ: Mapping[str, str] | None = None) -> LLMConfig | None:
    """The LLM the settings and environment describe, or None when no model is named.

    ``Settings.extra["llm"]`` may hold ``base_url``, ``model``, ``timeout``, ``max_retries``,
    ``concurrency``, ``temperature``, ``max_tokens``, ``json_mode``, ``cache``, ``backoff``, and
    ``enabled`` (false turns the LLM off even when the environment names one).

    >>> llm_config(Settings(), environ={}) is None
    True
    >>> llm_config(Settings(extra={"llm": {"model": "m", "base_url": "http://localhost:8000/v1"}}), environ={}).host
    'localhost:8000'
    """
    env = os.environ if environ is None else environ
    extra: Any = settings.extra.get("llm") or {}
    if not isinstance(extra, Mapping):
        raise ConfigError(f"Settings.extra['llm'] must be a dict of LLM settings, not {type(extra).__name__}.")
    if "api_key" in extra or "key" in extra:
        raise ConfigError(
            "Settings.extra['llm'] holds an API key, and settings are saved in the store; remove it and set "
            "HIPPO_LLM_API_KEY (or OPENAI_API_KEY) in the environment instead."
        )
    unknown = sorted(set(extra) - _KEYS)
    if unknown:
        raise ConfigError(f"unknown LLM setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}.")
    if extra.get("enabled") is False:
        return None
    model = extra.get("model") or env.get("HIPPO_LLM_MODEL")
    if not model:
        return None
    key = env.get("HIPPO_LLM_API_KEY") or env.get("OPENAI_API_KEY")
    options = {k: extra[k] for k in _KEYS - {"base_url", "model", "enabled"} if k in extra}
    try:
        return LLMConfig(
            base_url=str(extra.get("base_url") or env.get("HIPPO_LLM_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
            model=str(model), api_key=Secret(key) if key else None, **options,
        )
    except TypeError as exc:
        raise ConfigError(f"Settings.extra['llm'] has a value of the wrong type: {exc}.") from None


def _safe_url(url: str, host_only: bool = False) -> str:
    """``url`` without any ``user:password@`` part (or just its host and port)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url.rsplit("@", 1)[-1]
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname + (f":{port}" if port else "")
    if host_only:
        return host
    return parts._replace(netloc=host).geturl()
