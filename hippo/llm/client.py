"""One client for OpenAI-compatible chat-completions endpoints (OpenAI, vLLM, llama.cpp server, Ollama).

What it adds over a bare POST:

- a response cache (:mod:`hippo.llm.cache`): a request asked before costs nothing;
- retries on timeouts, dropped connections, 429 and 5xx, with exponential backoff, honouring
  ``Retry-After``;
- a concurrency limit: :meth:`LLMClient.chat_many` runs requests on threads, at most
  ``concurrency`` in flight, for synchronous callers;
- JSON mode: a ``json_schema`` or ``json_object`` response format when asked for, stepping
  down (schema, then object, then none) when the server answers 400 to it;
- token usage counted in :attr:`LLMClient.usage`;
- errors as :class:`~hippo.errors.LLMError` naming the status, the endpoint host and what to do.

The API key is sent as a bearer header and appears nowhere else: not in reprs, logs, errors,
the cache or the store.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hippo.config import Settings
from hippo.errors import LLMError
from hippo.llm.cache import CACHE_FILE, ResponseCache, request_key
from hippo.llm.config import JSON_MODES, MAX_BACKOFF_S, LLMConfig, llm_config

__all__ = ["ChatRequest", "LLMClient", "Reply", "Usage", "open_client"]

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 120.0
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
_BODY_QUOTE = 200


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


class _EndpointError(LLMError):
    """The endpoint itself is unusable (unreachable, refuses the key, has no such model): stop the batch."""


@dataclass
class _State:
    json_mode: str
    usage: Usage = field(default_factory=Usage)


class LLMClient:
    """Chat completions with cache, retries, a concurrency limit and usage counts.

    Parameters
    ----------
    config : the endpoint and limits (:func:`hippo.llm.config.llm_config`).
    cache : where responses are kept; None disables caching.
    sleep : how to wait between retries (tests pass a recorder).
    transport : an httpx transport (tests and proxies); None uses the network.
    """

    def __init__(self, config: LLMConfig, cache: ResponseCache | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.cache = cache
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(config.concurrency)
        self._lock = threading.Lock()
        self._state = _State(config.json_mode)
        self._http = httpx.Client(timeout=httpx.Timeout(config.timeout), transport=transport,
                                  limits=httpx.Limits(max_connections=config.concurrency))
        self._url = f"{config.base_url}/chat/completions"

    def __repr__(self) -> str:
        return f"LLMClient(model={self.config.model!r}, host={self.config.host!r})"

    @property
    def usage(self) -> Usage:
        """Requests, cache hits, retries, failures and tokens so far."""
        return self._state.usage

    def close(self) -> None:
        self._http.close()
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
            reply = self._post(body)
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
                        except _EndpointError:
                            raise
                        except LLMError as exc:
                            out[i] = exc
                except _EndpointError:
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

    def _post(self, body: dict[str, Any]) -> Reply:
        """POST with retries; steps the JSON mode down on a 400 to the response format."""
        attempt = 0
        while True:
            body = self._current_format(body)
            status, data, response = self._send(body, attempt)
            if status == 200:
                return self._reply(data)
            if status == 400 and "response_format" in body:
                self._step_down(body, response)
                continue
            if status is not None and status not in RETRY_STATUSES:
                raise self._status_error(status, response)
            if attempt >= self.config.max_retries:
                raise self._final_error(status, response, attempt + 1, data if status is None else "")
            delay = self._delay(attempt, response)
            logger.warning("LLM endpoint %s %s; retrying in %.1f s (attempt %d of %d)", self.config.host,
                           f"answered {status}" if status else data, delay, attempt + 2,
                           self.config.max_retries + 1)
            self._count(retries=1)
            self._sleep(delay)
            attempt += 1

    def _send(self, body: dict[str, Any], attempt: int) -> tuple[int | None, Any, httpx.Response | None]:
        """One POST: (status, parsed body, response), or (None, error text, None) on a transport failure."""
        headers = {"Authorization": f"Bearer {self.config.api_key.reveal()}"} if self.config.api_key else {}
        try:
            with self._slots:
                logger.debug("POST %s/chat/completions (model %s, attempt %d)", self.config.host,
                             self.config.model, attempt + 1)
                response = self._http.post(self._url, json=body, headers=headers)
        except httpx.TimeoutException:
            return None, f"did not answer within {self.config.timeout:g} s", None
        except httpx.ConnectError as exc:
            if attempt >= self.config.max_retries:
                raise _EndpointError(
                    f"cannot connect to the LLM endpoint {self.config.host} ({_redact(str(exc), self.config)}); "
                    "is the server running? Check HIPPO_LLM_BASE_URL (or Settings.extra['llm']['base_url'])."
                ) from None
            return None, "refused the connection", None
        except httpx.TransportError as exc:
            return None, f"dropped the connection ({type(exc).__name__})", None
        self._count(requests=1)
        if response.status_code != 200:
            return response.status_code, None, response
        try:
            return 200, response.json(), response
        except ValueError:
            raise LLMError(
                f"the LLM endpoint {self.config.host} answered 200 with a body that is not JSON: "
                f"{_quote(response.text, self.config)}; check that HIPPO_LLM_BASE_URL points at the API root "
                "(usually ending in /v1)."
            ) from None

    def _reply(self, data: Any) -> Reply:
        try:
            choice = data["choices"][0]
            text = choice.get("message", {}).get("content") or ""
            finish = choice.get("finish_reason")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise LLMError(
                f"the LLM endpoint {self.config.host} answered without choices[0].message: "
                f"{_quote(str(data), self.config)}; is it an OpenAI-compatible chat-completions API?"
            ) from None
        usage = (data.get("usage") or {}) if isinstance(data, dict) else {}
        prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        self._count(prompt_tokens=prompt, completion_tokens=completion)
        return Reply(text=text, finish_reason=finish, prompt_tokens=prompt, completion_tokens=completion)

    def _current_format(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with the response format the client currently uses (after any step down)."""
        fmt = body.get("response_format")
        if fmt is None:
            return body
        mode = self._state.json_mode
        sent = "schema" if fmt.get("type") == "json_schema" else "object"
        if JSON_MODES.index(mode) <= JSON_MODES.index(sent):
            return body
        body = dict(body)
        if mode == "off":
            body.pop("response_format")
        else:
            body["response_format"] = {"type": "json_object"}
        return body

    def _step_down(self, body: dict[str, Any], response: httpx.Response | None) -> None:
        """After a 400 to ``body``'s response format, use the next weaker one (ending with none)."""
        sent = "schema" if body["response_format"].get("type") == "json_schema" else "object"
        weaker = JSON_MODES[JSON_MODES.index(sent) + 1]
        with self._lock:
            if JSON_MODES.index(self._state.json_mode) < JSON_MODES.index(weaker):
                self._state.json_mode = weaker
                logger.warning(
                    "LLM endpoint %s answered 400 to response_format %s (%s); using %s from now on",
                    self.config.host, body["response_format"].get("type"),
                    _quote(response.text if response is not None else "", self.config, 120),
                    "json_object" if weaker == "object" else "no response format",
                )

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        retry_after = _retry_after(response)
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER_S)
        base = min(self.config.backoff * 2 ** attempt, MAX_BACKOFF_S)
        return base * (1.0 + 0.25 * random.random())

    def _status_error(self, status: int, response: httpx.Response | None) -> LLMError:
        body = _quote(response.text if response is not None else "", self.config)
        where = f"the LLM endpoint {self.config.host} answered {status} for model {self.config.model!r}"
        if status in (401, 403):
            return _EndpointError(f"{where}: the API key was refused; set HIPPO_LLM_API_KEY (or OPENAI_API_KEY) "
                                  "to a valid key for this endpoint.")
        if status == 404:
            return _EndpointError(f"{where}: no such route or model ({body}); check HIPPO_LLM_BASE_URL (the API "
                                  "root, usually ending in /v1) and HIPPO_LLM_MODEL.")
        return LLMError(f"{where}: {body}; the request was refused as sent, so retrying will not help.")

    def _final_error(self, status: int | None, response: httpx.Response | None, attempts: int,
                     reason: str) -> LLMError:
        if status is None:
            return LLMError(
                f"the LLM endpoint {self.config.host} {reason} (tried {attempts} time(s)); check that the server "
                "is up, or raise Settings.extra['llm']['timeout'] for slow models."
            )
        return LLMError(
            f"the LLM endpoint {self.config.host} answered {status} (tried {attempts} time(s)) "
            f"({_quote(response.text if response is not None else '', self.config, 120)}); wait and run again, "
            "or lower Settings.extra['llm']['concurrency'] if it is rate-limiting."
        )

    def _count(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self._state.usage, name, getattr(self._state.usage, name) + value)


def open_client(settings: Settings, store_dir: str | Path | None = None, *,
                transport: httpx.BaseTransport | None = None) -> LLMClient | None:
    """The client the settings and environment describe (None when no LLM is configured).

    Its cache is ``<store_dir>/llm_cache.sqlite`` when ``store_dir`` is a folder and caching is on.
    """
    config = llm_config(settings)
    if config is None:
        return None
    cache = None
    if config.cache and store_dir is not None and Path(store_dir).is_dir():
        cache = ResponseCache(Path(store_dir) / CACHE_FILE)
    logger.info("LLM: model %s at %s (cache %s)", config.model, config.host, cache.path if cache else "off")
    return LLMClient(config, cache, transport=transport)


def _retry_after(response: httpx.Response | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if response is None:
        return None
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _redact(text: str, config: LLMConfig) -> str:
    """``text`` with the API key blanked out, should a server or library echo it."""
    if config.api_key is not None and config.api_key.reveal():
        text = text.replace(config.api_key.reveal(), "***")
    return text


def _quote(text: str, config: LLMConfig, width: int = _BODY_QUOTE) -> str:
    flat = " ".join(_redact(text, config).split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")
