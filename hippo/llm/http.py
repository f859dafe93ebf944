"""The HTTP transport: OpenAI-compatible chat-completions endpoints (OpenAI, vLLM, llama.cpp server, Ollama).

What it adds over a bare POST:

- retries on timeouts, dropped connections, 429 and 5xx, with exponential backoff, honouring
  ``Retry-After``;
- a concurrency limit on requests in flight;
- JSON mode stepping down (schema, then object, then none) when the server answers 400 to a
  response format;
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
from collections.abc import Callable
from typing import Any

import httpx

from hippo.errors import LLMError
from hippo.llm.config import JSON_MODES, MAX_BACKOFF_S, LLMConfig

__all__ = ["EndpointError", "HttpBackend"]

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 120.0
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
_BODY_QUOTE = 200


class EndpointError(LLMError):
    """The endpoint itself is unusable (unreachable, refuses the key, has no such model): stop the batch."""


class HttpBackend:
    """POSTs chat-completions bodies to one endpoint (the client's HTTP transport).

    Parameters
    ----------
    config : the endpoint and limits.
    sleep : how to wait between retries (tests pass a recorder).
    transport : an httpx transport (tests and proxies); None uses the network.
    count : called with counter increments (``requests``, ``retries``) for the client's usage.
    """

    def __init__(self, config: LLMConfig, *, sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None,
                 count: Callable[..., None] = lambda **_: None) -> None:
        self.config = config
        self.json_mode = config.json_mode
        self._sleep = sleep
        self._count = count
        self._slots = threading.BoundedSemaphore(config.concurrency)
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=httpx.Timeout(config.timeout), transport=transport,
                                  limits=httpx.Limits(max_connections=config.concurrency))
        self._url = f"{config.base_url}/chat/completions"

    def close(self) -> None:
        self._http.close()

    def complete(self, body: dict[str, Any]) -> Any:
        """The endpoint's parsed response to ``body``: POST with retries, stepping the JSON mode down on a 400
        to the response format."""
        attempt = 0
        while True:
            body = self._current_format(body)
            status, data, response = self._send(body, attempt)
            if status == 200:
                return data
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
                raise EndpointError(
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
                f"{quote(response.text, self.config)}; check that HIPPO_LLM_BASE_URL points at the API root "
                "(usually ending in /v1)."
            ) from None

    def _current_format(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with the response format the client currently uses (after any step down)."""
        fmt = body.get("response_format")
        if fmt is None:
            return body
        mode = self.json_mode
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
            if JSON_MODES.index(self.json_mode) < JSON_MODES.index(weaker):
                self.json_mode = weaker
                logger.warning(
                    "LLM endpoint %s answered 400 to response_format %s (%s); using %s from now on",
                    self.config.host, body["response_format"].get("type"),
                    quote(response.text if response is not None else "", self.config, 120),
                    "json_object" if weaker == "object" else "no response format",
                )

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        retry_after = _retry_after(response)
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER_S)
        base = min(self.config.backoff * 2 ** attempt, MAX_BACKOFF_S)
        return base * (1.0 + 0.25 * random.random())

    def _status_error(self, status: int, response: httpx.Response | None) -> LLMError:
        body = quote(response.text if response is not None else "", self.config)
        where = f"the LLM endpoint {self.config.host} answered {status} for model {self.config.model!r}"
        if status in (401, 403):
            return EndpointError(f"{where}: the API key was refused; set HIPPO_LLM_API_KEY (or OPENAI_API_KEY) "
                                  "to a valid key for this endpoint.")
        if status == 404:
            return EndpointError(f"{where}: no such route or model ({body}); check HIPPO_LLM_BASE_URL (the API "
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
            f"({quote(response.text if response is not None else '', self.config, 120)}); wait and run again, "
            "or lower Settings.extra['llm']['concurrency'] if it is rate-limiting."
        )


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


def quote(text: str, config: LLMConfig, width: int = _BODY_QUOTE) -> str:
    flat = " ".join(_redact(text, config).split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")
