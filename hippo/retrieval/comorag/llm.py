"""ComoRAG with an LLM: cues noted per retrieval, the sufficiency judgement and the probes it writes.

Each step falls back to the offline rule for the loops whose request failed, and says so in the trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hippo.errors import LLMError
from hippo.retrieval.base import RetrievalContext
from hippo.retrieval.comorag.pool import Loop, RankedList

__all__ = ["FINDINGS_SHOWN", "llm_client", "llm_judge", "llm_probes", "note_findings"]

FINDINGS_SHOWN = {"detail passages": 5, "topic summaries": 2, "timeline summaries": 2}
"""Texts per section shown to the LLM for a cue."""


def llm_client(context: RetrievalContext) -> object | None:
    """The client of the loop's LLM steps, or None for the offline rules (``comorag_llm``)."""
    if context.llm is None:
        return None
    from hippo.llm.client import step_client

    return step_client(context.settings.comorag_llm, context.llm)


def llm_judge(client: object, loops: Sequence[Loop]) -> list[Loop]:
    """Stop the loops whose findings the LLM judges sufficient; return those whose request failed, which
    the offline coverage rule then judges."""
    from hippo.llm.probing import judge

    decisions = judge(client, [(loop.query, loop.findings) for loop in loops])  # type: ignore[arg-type]
    failed = []
    for loop, decision in zip(loops, decisions):
        if isinstance(decision, LLMError):
            last = loop.cycles[-1]
            note = f"sufficiency by the offline rule: {decision}"
            loop.cycles[-1] = replace(last, note=f"{last.note}; {note}" if last.note else note)
            failed.append(loop)
        elif decision.sufficient:
            loop.stopped, loop.answer = "sufficient", decision.answer or None
        else:
            loop.missing = decision.missing
    return failed

def llm_probes(client: object, loops: Sequence[Loop], limit: int) -> list[list[str] | None]:
    """The LLM's probes per loop; None where the request failed (the offline rule then writes them)."""
    from hippo.llm.probing import ProbeRequest, ask_probes

    replies = ask_probes(client, [ProbeRequest(loop.query, loop.findings, loop.missing, loop.asked)  # type: ignore[arg-type]
                                  for loop in loops], limit)
    out: list[list[str] | None] = []
    for loop, reply in zip(loops, replies):
        if isinstance(reply, LLMError):
            loop.note = f"offline probes: {reply}"
            out.append(None)
        else:
            out.append(reply)
    return out


def note_findings(context: RetrievalContext, client: object, loops: Sequence[Loop],
                   found: Sequence[Sequence[RankedList]], probes: Sequence[str | None]) -> None:
    """Ask the LLM for one cue per retrieval and add the findings to its loop."""
    from hippo.llm.probing import CueRequest, ask_cues

    cluster_ids = [c for lists in found for li in lists for c in li.clusters[:2]]
    summaries = {c.id: c.summary for c in context.store.clusters(cluster_ids).values()} if cluster_ids else {}
    requests = []
    for loop, lists, probe in zip(loops, found, probes):
        sections: dict[str, list[str]] = {"detail passages": [], "topic summaries": [], "timeline summaries": []}
        for li in lists:
            if li.layer == "veridical":
                sections["detail passages"] = list(li.texts[:FINDINGS_SHOWN["detail passages"]])
            else:
                heading = "topic summaries" if li.layer == "semantic" else "timeline summaries"
                sections[heading] = [summaries[c] for c in li.clusters[:FINDINGS_SHOWN[heading]] if c in summaries]
        requests.append(CueRequest(loop.query, probe, sections))
    cues = ask_cues(client, requests)  # type: ignore[arg-type]
    for loop in dict.fromkeys(loops):
        mine = [cue for owner, cue in zip(loops, cues) if owner is loop]
        texts = tuple(c for c in mine if isinstance(c, str) and c)
        errors = [c for c in mine if isinstance(c, LLMError)]
        loop.findings += texts
        last = loop.cycles[-1]
        note = last.note
        if errors:
            failed = f"no findings noted for {len(errors)} search(es): {errors[0]}"
            note = f"{note}; {failed}" if note else failed
        loop.cycles[-1] = replace(last, findings=last.findings + texts, note=note)
