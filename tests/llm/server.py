"""A local OpenAI chat-completions endpoint that answers from a script and records every request.

It stands in for the LLM at its protocol boundary: hippo's real client talks HTTP to it on
127.0.0.1 (an ephemeral port), so retries, timeouts, headers and JSON handling are exercised
for real. Replies come from a queue of :class:`Scripted` answers first, then from a handler
function of the request body (by default, :class:`ScriptedModel`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hippo.llm.prompts import (
    ANSWER_ALONE_SYSTEM,
    ANSWER_SYSTEM,
    DATE_QUESTION_SYSTEM,
    FILTER_SYSTEM,
    HOPS_SYSTEM,
    NER_SYSTEM,
    TRIPLES_SYSTEM,
)

__all__ = ["ChatServer", "Recorded", "Scripted", "ScriptedModel", "error", "reply", "task_of"]


@dataclass(frozen=True)
class Scripted:
    """One scripted HTTP answer: a chat completion with ``content``, or ``status`` with a raw ``body``."""

    status: int = 200
    content: str = ""
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    delay: float = 0.0
    usage: tuple[int, int] = (12, 7)


def reply(content: Any, finish_reason: str = "stop", delay: float = 0.0) -> Scripted:
    """A 200 completion; ``content`` that is not a string is sent as JSON."""
    text = content if isinstance(content, str) else json.dumps(content)
    return Scripted(content=text, finish_reason=finish_reason, delay=delay)


def error(status: int, body: str = '{"error": {"message": "scripted failure"}}', headers: dict[str, str] | None = None,
          delay: float = 0.0) -> Scripted:
    """A non-200 answer."""
    return Scripted(status=status, body=body, headers=headers or {}, delay=delay)


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def task(self) -> str:
        return task_of(self.body)


def task_of(body: dict[str, Any]) -> str:
    """Which hippo prompt a request carries: ``ner``, ``triples``, ``filter``, ``answer``, ``date_question``,
    ``hops`` or ``other``."""
    system = body.get("messages", [{}])[0].get("content", "")
    return {NER_SYSTEM: "ner", TRIPLES_SYSTEM: "triples", FILTER_SYSTEM: "filter", ANSWER_SYSTEM: "answer",
            ANSWER_ALONE_SYSTEM: "answer", DATE_QUESTION_SYSTEM: "date_question",
            HOPS_SYSTEM: "hops"}.get(system, "other")


class ScriptedModel:
    """Answers hippo's prompts from a table of passages: title -> (entities, triples).

    A passage whose title is not in the table yields its title as the only entity and no triples.
    The fact filter keeps ``keep(question, candidates)`` (default: the first candidate); an answer
    request gets ``answer``; a request to split the question into hops gets ``plan``, by default the
    question as its one step (no hops).
    """

    def __init__(self, passages: dict[str, tuple[list[str], list[list[str]]]] | None = None, *,
                 answer: str = "Kettleby [1].", plan: str | None = None,
                 keep: Callable[[str, list[list[str]]], list[list[str]]] | None = None) -> None:
        self.passages = passages or {}
        self.answer = answer
        self.plan = plan
        self.keep = keep or (lambda question, candidates: candidates[:1])

    def __call__(self, body: dict[str, Any]) -> Scripted:
        last = body["messages"][-1]["content"]
        task = task_of(body)
        if task == "ner":
            return reply({"named_entities": self._entry(last)[0]})
        if task == "triples":
            passage = re.search(r"```\n(.*)\n```", last, re.DOTALL).group(1)
            return reply({"triples": self._entry(passage)[1]})
        if task == "filter":
            question = re.search(r"Question: (.*)\n", last).group(1)
            candidates = json.loads(last.split("Candidate facts: ", 1)[1])["fact"]
            return reply({"fact": self.keep(question, candidates)})
        if task == "answer":
            return reply(self.answer)
        if task == "hops":
            return reply(self.plan or f"1. {last.removeprefix('Question: ')}")
        return error(400, '{"error": {"message": "unknown prompt"}}')

    def _entry(self, passage: str) -> tuple[list[str], list[list[str]]]:
        title = passage.strip().splitlines()[0].strip()
        return self.passages.get(title, ([title], []))


class ChatServer:
    """``POST /v1/chat/completions`` on 127.0.0.1; use as a context manager.

    ``requests`` records every request; ``in_flight_max`` is the most requests handled at once.
    """

    def __init__(self, handler: Callable[[dict[str, Any]], Scripted] | None = None) -> None:
        self.handler = handler or ScriptedModel()
        self.queue: deque[Scripted] = deque()
        self.requests: list[Recorded] = []
        self.in_flight_max = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="chat-server", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def enqueue(self, *answers: Scripted) -> None:
        """Answer the next requests with these, in order, before the handler is asked."""
        self.queue.extend(answers)

    def tasks(self) -> list[str]:
        return [r.task for r in self.requests]

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> Scripted:
        with self._lock:
            self.requests.append(Recorded(path, headers, body))
            self._in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self._in_flight)
            queued = self.queue.popleft() if self.queue else None
        return queued if queued is not None else self.handler(body)

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        owner: ChatServer = self.server.owner  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"unparsable": raw.decode("utf-8", "replace")}
        try:
            scripted = owner._answer(self.path, dict(self.headers.items()), body)
            if scripted.delay:
                time.sleep(scripted.delay)
            payload = scripted.body if scripted.body is not None else json.dumps(_completion(body, scripted))
            data = payload.encode("utf-8")
            self.send_response(scripted.status)
            for name, value in scripted.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)
        finally:
            owner._done()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``ChatServer.requests`` instead."""


def _completion(body: dict[str, Any], scripted: Scripted) -> dict[str, Any]:
    prompt, completion = scripted.usage
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": body.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": scripted.content},
                     "finish_reason": scripted.finish_reason}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }
