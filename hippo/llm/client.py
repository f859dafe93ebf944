"""One chat client with two transports: an OpenAI-compatible HTTP endpoint, or a local GGUF model in-process.

What it adds over either transport:

- a response cache (:mod:`hippo.llm.cache`): a request asked before costs nothing;
- :meth:`LLMClient.chat_many` runs requests on threads, at most ``concurrency`` in flight, for
  synchronous callers (the local model serves them one at a time);
- JSON mode: a ``json_schema`` or ``json_object`` response format when asked for (the local model
  constrains its reply with the schema's grammar);
- token usage counted in :attr:`LLMClient.usage`;
- errors as :class:`~hippo.errors.LLMError`.

Which transport runs is decided once, by :func:`open_client`: an endpoint configured in the settings
or environment wins, else the local model when it is installed, else none (hippo answers offline).
Callers never know which one answered, except through :attr:`LLMClient.mode`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from hippo.config import Settings
from hippo.errors import LLMError
from hippo.llm.cache import CACHE_FILE, ResponseCache, request_key
from hippo.llm.config import LLMConfig, llm_config
from hippo.llm.http import EndpointError, HttpBackend, quote

__all__ = ["ChatRequest", "LLMClient", "Reply", "Usage", "open_client", "step_client", "step_on"]

logger = logging.getLogger(__name__)


class Backend(Protocol):
    """A transport: the OpenAI-style response (a dict) to one chat-completions body."""

    def complete(self, body: dict[str, Any]) -> Any: ...

    def close(self) -> None: ...


class ClientConfig(Protocol):
    """What the client reads of its transport's config (:class:`LLMConfig` or ``LocalConfig``)."""

    model: str
    host: str
    temperature: float
    max_tokens: int
    json_mode: str
    concurrency: int
    cache: bool


@dataclass(frozen=True)
class ChatRequest:
    """One chat-completions request as the caller means it.

    ``schema`` is the JSON schema of the reply when a JSON reply is wanted (sent as a response
    format when the server takes one); ``max_tokens`` and ``temperature`` default to the config's.
    """

    messages: tuple[dict[str, str], ...]
    schema: dict[str, Any] | None = None
    schema_name: str = "reply"
    max_tokens: int | None = None
    temperature: float | None = None


@dataclass(frozen=True)
class Reply:
    """What the model answered, and whether it came from the cache."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False

    @property
    def truncated(self) -> bool:
        """The server stopped the reply at the token limit."""
        return self.finish_reason == "length"


@dataclass
class Usage:
    """Requests and tokens spent by one client; cache hits cost neither."""

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    def since(self, before: dict[str, int]) -> dict[str, int]:
        """The counts added since ``before`` (an earlier :meth:`to_dict`)."""
        return {k: v - before.get(k, 0) for k, v in self.to_dict().items()}


class LLMClient:
    """Chat completions with cache, a concurrency limit and usage counts, over one transport.

    Parameters
    ----------
    config : the endpoint (:func:`hippo.llm.config.llm_config`) or local model
        (:func:`hippo.llm.local.local_config`) and its limits.
    cache : where responses are kept; None disables caching.
    sleep : how the HTTP transport waits between retries (tests pass a recorder).
    transport : an httpx transport for the HTTP transport (tests and proxies); None uses the network.
    backend : the transport itself; None builds the HTTP one from ``config``.
    """

    def __init__(self, config: ClientConfig, cache: ResponseCache | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, transport: httpx.BaseTransport | None = None,
                 backend: Backend | None = None) -> None:
        self.config = config
        self.cache = cache
        self._lock = threading.Lock()
        self._usage = Usage()
        if backend is None:
            if not isinstance(config, LLMConfig):
                raise TypeError("a client of a local model needs its backend (see open_client)")
            backend = HttpBackend(config, sleep=sleep, transport=transport, count=self._count)
        self._backend = backend

    def __repr__(self) -> str:
        return f"LLMClient(model={self.config.model!r}, host={self.config.host!r})"

    @property
    def mode(self) -> str:
        """``"local"`` for the in-process model, ``"llm"`` for an endpoint (the answer modes of :class:`Answer`)."""
        return "llm" if isinstance(self._backend, HttpBackend) else "local"

    @property
    def usage(self) -> Usage:
        """Requests, cache hits, retries, failures and tokens so far."""
        return self._usage

    def close(self) -> None:
        self._backend.close()
        if self.cache is not None:
            self.cache.close()

    # --- asking --------------------------------------------------------------------------
    def chat(self, request: ChatRequest | Sequence[dict[str, str]]) -> Reply:
        """The model's reply to one request; raises :class:`LLMError` on final failure."""
        if not isinstance(request, ChatRequest):
            request = ChatRequest(tuple(request))
        body = self._body(request)
        key = request_key(body)
        cached = self._cached(key)
        if cached is not None:
            return cached
        try:
            reply = self._reply(self._backend.complete(body))
            if self.mode == "local":  # the HTTP transport counts each attempt it sends
                self._count(requests=1)
        except LLMError:
            self._count(failures=1)
            raise
        if self.cache is not None:
            self.cache.put(key, self.config.model, asdict(reply))
        return reply

    def chat_many(self, requests: Sequence[ChatRequest]) -> list[Reply | LLMError]:
        """Replies in request order, cache hits first, the rest on up to ``concurrency`` threads.

        A request that fails after its retries, or whose reply cannot be used, gives its
        :class:`LLMError` in its place. When the endpoint itself is unusable (cannot connect,
        refuses the key, does not know the model) the error is raised instead, since every
        other request would fail the same way.
        """
        out: list[Reply | LLMError | None] = [None] * len(requests)
        todo = []
        for i, request in enumerate(requests):
            cached = self._cached(request_key(self._body(request)))
            if cached is None:
                todo.append(i)
            else:
                out[i] = cached
        if todo:
            workers = min(self.config.concurrency, len(todo))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hippo-llm") as pool:
                futures = {i: pool.submit(self.chat, requests[i]) for i in todo}
                try:
                    for i, future in futures.items():
                        try:
                            out[i] = future.result()
                        except EndpointError:
                            raise
                        except LLMError as exc:
                            out[i] = exc
                except EndpointError:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
        return [r for r in out if r is not None]

    # --- internals -----------------------------------------------------------------------
    def _body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body sent (and, as first built, the cache key): never holds the key."""
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": [dict(m) for m in request.messages],
            "temperature": self.config.temperature if request.temperature is None else request.temperature,
            "max_tokens": request.max_tokens or self.config.max_tokens,
        }
        mode = self.config.json_mode
        if request.schema is not None and mode == "schema":
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": request.schema_name, "schema": request.schema, "strict": True}}
        elif request.schema is not None and mode == "object":
            body["response_format"] = {"type": "json_object"}
        return body

    def _cached(self, key: str) -> Reply | None:
        if self.cache is None:
            return None
        found = self.cache.get(key)
        if found is None:
            return None
        self._count(cache_hits=1)
        return Reply(**{**found, "cached": True})

    def _reply(self, data: Any) -> Reply:
        try:
            choice = data["choices"][0]
            text = choice.get("message", {}).get("content") or ""
            finish = choice.get("finish_reason")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise LLMError(
                f"{self.config.host} answered without choices[0].message: "
                f"{quote(str(data), self.config)}; is it an OpenAI-compatible chat-completions API?"
            ) from None
        usage = (data.get("usage") or {}) if isinstance(data, dict) else {}
        prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        self._count(prompt_tokens=prompt, completion_tokens=completion)
        return Reply(text=text, finish_reason=finish, prompt_tokens=prompt, completion_tokens=completion)


    def _count(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self._usage, name, getattr(self._usage, name) + value)


def open_client(settings: Settings, store_dir: str | Path | None = None, *,
                transport: httpx.BaseTransport | None = None) -> LLMClient | None:
    """The client the settings and environment describe: an endpoint, else the local model, else None.

    An endpoint named in the settings or environment (:func:`hippo.llm.config.llm_config`) wins;
    else the local model when it is installed and not turned off (:func:`hippo.llm.local.local_config`;
    it is loaded on the first request). The cache is ``<store_dir>/llm_cache.sqlite`` when ``store_dir``
    is a folder and caching is on.
    """
    from hippo.llm.local import LocalBackend, local_config

    config: ClientConfig | None = llm_config(settings)
    backend: Backend | None = None
    if config is None:
        local = local_config(settings)
        if local is None:
            return None
        config, backend = local, LocalBackend(local)
    cache = None
    if config.cache and store_dir is not None and Path(store_dir).is_dir():
        cache = ResponseCache(Path(store_dir) / CACHE_FILE)
    logger.info("LLM: model %s at %s (cache %s)", config.model, config.host, cache.path if cache else "off")
    return LLMClient(config, cache, transport=transport, backend=backend)


def step_on(setting: bool | None, client: LLMClient) -> bool:
    """Whether an optional LLM step whose setting is ``setting`` runs on ``client``.

    ``None`` means the measured default: on with an endpoint, off with the local model. The small
    local models did worse with these steps than without them on held-out questions (a reasoning
    reader, ComoRAG's probes and sufficiency check; README, "Answers measured"), and each costs
    requests of 20-60 s; an endpoint's larger model is what the papers' steps were written for.
    """
    return setting if setting is not None else client.mode != "local"


def step_client(setting: bool | None, llm: Callable[[], LLMClient | None]) -> LLMClient | None:
    """The client an optional LLM step runs on (``llm()`` when :func:`step_on` says so), else None.

    ``llm`` is not called when the step is off, so turning a step off opens no client.
    """
    if setting is False:
        return None
    client = llm()
    return client if client is not None and step_on(setting, client) else None
