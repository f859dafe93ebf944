"""Reading JSON out of model replies: fences, thinking blocks, chatter and truncation.

Models wrap JSON in code fences, prefix it with ``<think>...</think>`` reasoning, add a
sentence before or after it, or stop mid-list when they run out of tokens. :func:`parse_json`
removes the first three and repairs the last where that is safe: it cuts the text after the
last complete element and closes what is still open. An unfinished string is dropped, never
closed, because a half-written name ("Marren Obs") would become a wrong entity. Anything else
raises :class:`~hippo.errors.LLMError` with the reason, so a caller can record the failure
instead of inventing output.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hippo.errors import LLMError

__all__ = ["parse_json", "repair_truncated", "strip_reasoning"]

_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_OPEN_THINK = re.compile(r"^\s*<(think|thinking|reasoning)>", re.IGNORECASE)
_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_MAX_REPAIR_TRIES = 64
_CLOSERS = {"{": "}", "[": "]"}


def strip_reasoning(text: str) -> str:
    """``text`` without ``<think>...</think>`` blocks; an unclosed one at the start leaves nothing.

    >>> strip_reasoning("<think>the user wants JSON</think>\\n{}")
    '{}'
    >>> strip_reasoning("<think>still thinking when the budget ran out")
    ''
    """
    text = _THINK.sub("", text)
    return "" if _OPEN_THINK.match(text) else text.strip()


def parse_json(text: str, *, truncated: bool = False) -> Any:
    """The JSON value in a model reply.

    Parameters
    ----------
    text : the reply as the model wrote it.
    truncated : the server said the reply was cut (``finish_reason == "length"``); only
        then, or when the text ends inside an open bracket, is it repaired.

    Raises
    ------
    LLMError : no JSON value can be read; the message quotes the start of the reply.

    Examples
    --------
    >>> parse_json('```json\\n{"named_entities": ["Ada"]}\\n```')
    {'named_entities': ['Ada']}
    >>> parse_json('{"triples": [["Ada", "born in", "Kettleby"], ["Ada", "stud', truncated=True)
    {'triples': [['Ada', 'born in', 'Kettleby']]}
    """
    body = strip_reasoning(text)
    fenced = _FENCE.search(body)
    if fenced:
        body = fenced.group(1).strip()
    start = _json_start(body)
    if start < 0:
        raise LLMError(f"the reply holds no JSON: {_quote(text)}")
    body = body[start:]
    try:
        value, _ = json.JSONDecoder().raw_decode(body)
        return value
    except json.JSONDecodeError as exc:
        error = exc
    repaired = repair_truncated(body)
    if repaired is not None and (truncated or _ends_open(body)):
        return repaired
    raise LLMError(f"the reply is not valid JSON ({error.msg} at character {error.pos}): {_quote(text)}")


def repair_truncated(text: str) -> Any | None:
    """The longest prefix of ``text`` that ends after a complete element, closed and parsed; or None.

    >>> repair_truncated('["Ada", "Lake Im')
    ['Ada']
    >>> repair_truncated('{"a": [1, 2], "b": [3')
    {'a': [1, 2]}
    """
    cuts, _, _ = _scan(text)
    for cut, stack in reversed(cuts[-_MAX_REPAIR_TRIES:]):
        candidate = text[:cut].rstrip().rstrip(",") + "".join(_CLOSERS[c] for c in reversed(stack))
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    return None


def _scan(text: str) -> tuple[list[tuple[int, list[str]]], list[str], bool]:
    """Where ``text`` may be cut, the brackets still open at its end, and whether it ends in a string.

    A cut point is a position just after a complete element inside a container (a closed
    string, a closed bracket, or anything followed by a comma), with the brackets open there.
    A cut that would leave a half-written record is not offered: a container opened after a
    complete sibling container (the second triple of a list of triples, say) is dropped whole
    rather than closed with some of its fields missing.
    """
    cuts: list[tuple[int, list[str]]] = []
    stack: list[tuple[str, bool]] = []  # (bracket, opened after a complete sibling container)
    has_child: list[bool] = []  # per open container: holds a complete container already
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
                if stack:
                    _add_cut(cuts, i + 1, stack)  # a string is whole once its quote closes
            continue
        if ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append((ch, bool(has_child) and has_child[-1]))
            has_child.append(False)
        elif ch in "]}":
            if not stack:
                break
            stack.pop()
            has_child.pop()
            if stack:
                has_child[-1] = True
                _add_cut(cuts, i + 1, stack)
        elif ch == "," and stack:
            _add_cut(cuts, i, stack)
    return cuts, [c for c, _ in stack], in_string


def _add_cut(cuts: list[tuple[int, list[str]]], position: int, stack: list[tuple[str, bool]]) -> None:
    if not any(partial_record for _, partial_record in stack):
        cuts.append((position, [c for c, _ in stack]))


def _ends_open(text: str) -> bool:
    """Whether ``text`` stops inside a string, object or array (so it was cut, not malformed)."""
    _, stack, in_string = _scan(text)
    return bool(stack) or in_string


def _json_start(text: str) -> int:
    positions = [p for p in (text.find("{"), text.find("[")) if p >= 0]
    return min(positions) if positions else -1


def _quote(text: str, width: int = 80) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")
