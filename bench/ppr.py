"""Which PageRank engine: scipy CSR power iteration (batched) against igraph prpack, on a real graph.

Uses the store the 2Wiki benchmark builds (build/bench/2wiki, run `python bench/twowiki.py` first)
and the seeds of real questions. Reports per-query milliseconds of each engine, the batched
scipy time per query, and the largest difference between the engines' scores.
Writes bench/results/ppr.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import igraph as ig
import numpy as np
import scipy.sparse as sp

import hippo
from hippo.eval import machine_info, percentile_ms, write_results
from hippo.graph.ppr import personalized_pagerank
from hippo.retrieval.hipporag import query_seeds

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "build" / "bench" / "2wiki"
QUESTIONS = ROOT.parent / "shared" / "data" / "2wikimultihopqa" / "seRAG-linearrag-format" / "questions.json"


def main() -> int:
    if not (STORE / "hippo.db").exists():
        print(f"no benchmark store at {STORE}; run `python bench/twowiki.py` first.", file=sys.stderr)
        return 2
    questions = [q["question"] for q in json.loads(QUESTIONS.read_text())[:100]]
    with hippo.open(STORE, fact_filter=False) as kg:
        state = kg.graph_state()
        _, reset, _ = query_seeds(kg._context, state, questions)  # the benchmark reaches past the facade
        damping = kg.settings.damping
    graph = state.graph
    upper = sp.triu(graph.adjacency, k=1).tocoo()
    started = time.perf_counter()
    igraph_graph = ig.Graph(n=graph.size, edges=np.column_stack([upper.row, upper.col]).tolist())
    igraph_graph.es["weight"] = upper.data.tolist()
    igraph_build = time.perf_counter() - started
    scipy_times, igraph_times, worst = [], [], 0.0
    for column in range(reset.shape[1]):
        seeds = reset[:, column]
        started = time.perf_counter()
        ours = personalized_pagerank(graph.transition, seeds, dangling=graph.dangling, damping=damping)
        scipy_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        theirs = np.array(igraph_graph.personalized_pagerank(damping=damping, directed=False, weights="weight",
                                                             reset=seeds.tolist(), implementation="prpack"))
        igraph_times.append(time.perf_counter() - started)
        worst = max(worst, float(np.abs(ours - theirs).max()))
    started = time.perf_counter()
    personalized_pagerank(graph.transition, reset, dangling=graph.dangling, damping=damping)
    batched = (time.perf_counter() - started) / reset.shape[1]
    methods = {
        "scipy-power": {"pagerank_ms_p50": round(percentile_ms(scipy_times, 50), 3),
                        "pagerank_ms_p95": round(percentile_ms(scipy_times, 95), 3),
                        "batched_ms_per_query": round(batched * 1000, 3)},
        "igraph-prpack": {"pagerank_ms_p50": round(percentile_ms(igraph_times, 50), 3),
                          "pagerank_ms_p95": round(percentile_ms(igraph_times, 95), 3),
                          "graph_build_ms": round(igraph_build * 1000, 1)},
    }
    facts = {"nodes": graph.size, "edges": int(upper.nnz), "queries": reset.shape[1],
             "max_abs_difference": worst, "machine": machine_info()}
    path = write_results(ROOT / "bench" / "results", "ppr", methods, facts,
                         notes="Per-query PageRank on the 2Wiki graph with real HippoRAG 2 seeds.")
    print(path.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
