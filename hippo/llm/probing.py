"""ComoRAG's three LLM steps for ``comorag``: cues of retrieved evidence, the sufficiency decision, probes.

ComoRAG (Wang et al. 2025) asks the model for a "cue" per layer and per retrieval (the key
findings of the evidence), then tries to answer and treats the exact reply ``*`` as an impasse,
then asks for up to three probing queries as JSON. hippo keeps the three steps with its own
prompts (:mod:`hippo.llm.prompts`), and changes what the reference's traps warn about:

- one cue per retrieval covering its three layers (ComoRAG: one per layer, three times the calls);
- the decision is a JSON object ``{"sufficient", "answer", "missing"}``, not a ``*`` read out of
  free text, so "### Final Answer: *" cannot be misread (reference trap 1);
- probe replies are read with :func:`~hippo.llm.replies.parse_json` (code fences, ``<think>``
  blocks and truncation are handled; trap 8), and probes that repeat an earlier one are dropped;
- a failed or unusable reply is returned as an :class:`~hippo.errors.LLMError` in its place, so
  the loop can fall back to its offline rule for that step and say so in the trace; it never
  becomes a cue or a probe (trap 7).

All requests of one step run concurrently (:meth:`LLMClient.chat_many`) and are cached.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hippo.errors import LLMError
from hippo.llm.client import ChatRequest, LLMClient
from hippo.llm.prompts import PROBE_SCHEMA, SUFFICIENCY_SCHEMA, cue_messages, probe_messages, sufficiency_messages
from hippo.llm.replies import parse_json, strip_reasoning

__all__ = ["CUE_MAX_TOKENS", "CueRequest", "Judgement", "ProbeRequest", "ask_cues", "ask_probes", "judge"]

CUE_MAX_TOKENS = 400
JUDGE_MAX_TOKENS = 300
PROBE_MAX_TOKENS = 300
PROBE_WORDS = 24
"""A probe longer than this many words is cut (the prompt asks for at most 12)."""


@dataclass(frozen=True)
class CueRequest:
    """Evidence to note: the question, the probe that retrieved it (None: the question), texts by section."""

    question: str
    probe: str | None
    sections: Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Judgement:
    """The model's decision on the findings so far."""

    sufficient: bool
    answer: str = ""
    missing: str = ""


@dataclass(frozen=True)
class ProbeRequest:
    """What the model plans probes from."""

    question: str
    findings: Sequence[str]
    missing: str
    previous: Sequence[str]


def ask_cues(client: LLMClient, requests: Sequence[CueRequest]) -> list[str | LLMError]:
    """The findings the model notes for each request (``"- none"`` lines removed), or the error."""
    replies = client.chat_many([ChatRequest(cue_messages(r.question, r.probe, dict(r.sections)),
                                            max_tokens=CUE_MAX_TOKENS) for r in requests])
    out: list[str | LLMError] = []
    for reply in replies:
        if isinstance(reply, LLMError):
            out.append(reply)
            continue
        lines = [line.strip() for line in strip_reasoning(reply.text).splitlines() if line.strip()]
        kept = [line for line in lines if line.lstrip("-*• ").strip().casefold() not in ("none", "none.")]
        out.append("\n".join(kept))
    return out


def judge(client: LLMClient, items: Sequence[tuple[str, Sequence[str]]]) -> list[Judgement | LLMError]:
    """Whether the findings of each (question, findings) pair answer the question."""
    replies = client.chat_many([ChatRequest(sufficiency_messages(q, f), schema=SUFFICIENCY_SCHEMA,
                                            schema_name="decision", max_tokens=JUDGE_MAX_TOKENS) for q, f in items])
    out: list[Judgement | LLMError] = []
    for reply in replies:
        data = _reply_data(reply)
        if isinstance(data, LLMError):
            out.append(data)
            continue
        if not isinstance(data, dict) or not isinstance(data.get("sufficient"), bool):
            out.append(LLMError(f"the sufficiency reply has no boolean \"sufficient\": {str(data)[:80]!r}"))
            continue
        out.append(Judgement(data["sufficient"], str(data.get("answer") or "").strip(),
                             str(data.get("missing") or "").strip()))
    return out


def ask_probes(client: LLMClient, requests: Sequence[ProbeRequest], limit: int = 3) -> list[list[str] | LLMError]:
    """Up to ``limit`` new probes per request, in the model's order, none repeating an earlier search."""
    replies = client.chat_many([ChatRequest(probe_messages(r.question, r.findings, r.missing, r.previous),
                                            schema=PROBE_SCHEMA, schema_name="probes", max_tokens=PROBE_MAX_TOKENS)
                                for r in requests])
    out: list[list[str] | LLMError] = []
    for request, reply in zip(requests, replies):
        data = _reply_data(reply)
        if isinstance(data, LLMError):
            out.append(data)
            continue
        if isinstance(data, dict):  # {"probes": [...]}, or ComoRAG's {"probe_1": ..., "probe_2": ...}
            listed = data.get("probes")
            if not isinstance(listed, list):
                keys = [k for k in data if str(k).startswith("probe_")]
                listed = [data[k] for k in sorted(keys, key=lambda k: (len(k), k))]  # probe_2 before probe_10
        else:
            listed = data if isinstance(data, list) else []
        seen = {_key(p) for p in request.previous}
        probes: list[str] = []
        for item in listed:
            if not isinstance(item, str):
                continue
            probe = " ".join(item.split()[:PROBE_WORDS])
            if probe and _key(probe) not in seen:
                seen.add(_key(probe))
                probes.append(probe)
        out.append(probes[:limit])
    return out


def _key(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .?!")


def _reply_data(reply: object) -> Any:
    """The JSON a reply holds, or the :class:`LLMError` of a failed call or an unparseable reply."""
    if isinstance(reply, LLMError):
        return reply
    try:
        return parse_json(reply.text, truncated=reply.truncated)  # type: ignore[attr-defined]
    except LLMError as exc:
        return exc
