"""The probing loop itself: tri-retrieve, judge, probe, fuse, repeat (see :mod:`hippo.retrieval.comorag`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from hippo.errors import ConfigError
from hippo.model import Hit, ProbeCycle, ProbeResult
from hippo.retrieval.base import RetrievalContext, get_method, make_hits
from hippo.retrieval.comorag.layers import ensure_layers, layer_state, tri_retrieve
from hippo.retrieval.comorag.llm import llm_client, llm_judge, llm_probes, note_findings
from hippo.retrieval.comorag.offline import SUFFICIENT_COVERAGE, loop_coverage, offline_probes
from hippo.retrieval.comorag.pool import W_FOCUS, W_PROBE, W_QUERY, Loop, remember_texts

__all__ = ["probe_many", "retrieve_comorag"]


def probe_many(context: RetrievalContext, queries: Sequence[str], k: int) -> list[ProbeResult]:
    """Run the loop for each query (batched per cycle) and return the fused hits with the trace."""
    settings = context.settings
    if settings.comorag_base == "comorag":
        raise ConfigError("comorag_base='comorag' would probe itself; choose a base method such as 'hipporag'.")
    get_method(settings.comorag_base)  # fail early on an unknown base
    ensure_layers(context)
    layers = layer_state(context)
    client = llm_client(context)
    loops = [Loop(q, k, asked=[q]) for q in queries]
    found = tri_retrieve(context, layers, queries, [None] * len(queries), [W_QUERY] * len(queries))
    for loop, lists in zip(loops, found):
        loop.lists += lists
        remember_texts(loop, lists)
        top = loop.top(k)
        loop.cycles.append(ProbeCycle(0, (loop.query,), tuple(dict.fromkeys(p for li in lists for p in li.passage_ids)),
                                      tuple(top), loop_coverage(context, loop)))
    if client is not None:
        note_findings(context, client, loops, found, [None] * len(loops))
    walk: dict[int, np.ndarray] = {}
    for cycle in range(1, settings.comorag_cycles + 2):
        active = [loop for loop in loops if loop.stopped is None]
        if not active:
            break
        _judge(client, active)
        active = [loop for loop in active if loop.stopped is None]
        if cycle > settings.comorag_cycles:
            for loop in active:
                loop.stopped = "cycle limit"
            break
        proposals = (llm_probes(client, active, settings.comorag_probes) if client is not None
                     else [None] * len(active))
        offline = [i for i, p in enumerate(proposals) if p is None]
        if offline:
            made = offline_probes(context, [active[i] for i in offline], settings.comorag_probes, walk)
            for i, probes in zip(offline, made):
                proposals[i] = probes
        asking = []
        for loop, probes in zip(active, proposals):
            if not probes:
                loop.stopped = "no probes left"
                continue
            loop.asked += probes
            asking.append((loop, probes))
        texts = [p for _, probes in asking for p in probes]
        weights = [W_FOCUS if p in loop.focused else W_PROBE for loop, probes in asking for p in probes]
        found = tri_retrieve(context, layers, texts, texts, weights)
        position = 0
        owners: list[Loop] = []
        for loop, probes in asking:
            chunks = found[position:position + len(probes)]
            position += len(probes)
            owners += [loop] * len(probes)
            lists = [li for chunk in chunks for li in chunk]
            before_top, before_pool = set(loop.top(k)), {p for li in loop.lists for p in li.passage_ids}
            loop.lists += lists
            remember_texts(loop, lists)
            new = tuple(dict.fromkeys(p for li in lists for p in li.passage_ids if p not in before_pool))
            new_top = tuple(p for p in loop.top(k) if p not in before_top)
            loop.cycles.append(ProbeCycle(cycle, tuple(probes), new, new_top, loop_coverage(context, loop),
                                          note=loop.note))
            loop.note = None
            loop.stale = not new_top
        if client is not None and owners:
            note_findings(context, client, owners, found, texts)
    return [_result(context, loop, "llm" if client is not None else "offline") for loop in loops]


def retrieve_comorag(context: RetrievalContext, queries: Sequence[str], k: int) -> list[list[Hit]]:
    """Top ``k`` passages per query by ComoRAG's probing loop (see the module docstring); the trace is dropped."""
    return [list(result.hits) for result in probe_many(context, queries, k)]


def _judge(client: object | None, loops: Sequence[Loop]) -> None:
    """Stop the loops whose evidence suffices (by the LLM's decision, else by the offline coverage rule), then
    those whose last cycle brought no new evidence into the top k."""
    pending = llm_judge(client, loops) if client is not None else list(loops)
    for loop in pending:
        if loop.cycles[-1].coverage >= SUFFICIENT_COVERAGE:
            loop.stopped = "sufficient"
    for loop in loops:
        if loop.stopped is None and loop.stale:
            loop.stopped = "no new evidence"

def _result(context: RetrievalContext, loop: Loop, mode: str) -> ProbeResult:
    ranked = loop.ranking()[:loop.k]
    cluster_ids = {c for li in loop.lists for c in li.clusters}
    summaries = {c.id: c.summary for c in context.store.clusters(sorted(cluster_ids)).values()} if cluster_ids else {}
    whys = []
    for pid, _, index in ranked:
        chosen = loop.lists[index]
        base = chosen.whys[chosen.passage_ids.index(pid)]
        units = []
        for li in loop.lists:
            if li.layer != "veridical" and pid in li.passage_ids[:3] and li.clusters:
                summary = summaries.get(li.clusters[0], "")
                label = f"{li.layer} summary: {' '.join(summary.split())[:160]}"
                if label not in units:
                    units.append(label)
        whys.append(replace(base, probe=chosen.probe, units=tuple(base.units) + tuple(units[:2])))
    hits = make_hits(context, [pid for pid, _, _ in ranked], [score for _, score, _ in ranked], "comorag", whys)
    return ProbeResult(loop.query, tuple(hits), tuple(loop.cycles), loop.stopped or "cycle limit", mode,
                       context.settings.comorag_base, loop.answer)
