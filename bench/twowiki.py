"""2WikiMultihopQA retrieval benchmark: every method on one index, in one run.

Reads ../shared/data/2wikimultihopqa (6,119 passages, one per record, "title\\ntext").
- Recall@1/2/5/10 over the questions of seRAG-linearrag-format/questions.json whose every
  evidence subject is a corpus title (gold passages = those titles; about 761 questions).
- all_gold@8 over the 101 questions of fast-graphrag-101 (gold titles in ``ground_truth``).
- Indexing throughput, index time by stage, and per-query latency p50/p95 of each method.
Writes bench/results/2wiki.json (the one results shape) and bench/results/2wiki.md.

Also ``embed_only_seconds``: in the same run, after indexing, the time the store's embedder takes to embed
just the corpus's passages (its helper process already started, its cache emptied), the yardstick of
issue 19 (``index_seconds`` <= 1.5 x ``embed_only_seconds``); CPU seconds (this process and its helpers)
and the load average beside every wall time, since the machine is shared.

Usage: python bench/twowiki.py [--methods "dense;bm25;hipporag:passage_node_weight=0.2"] [--store DIR] [--limit N]
                              [--reuse] [--set NAME] [--setting name=value ...] [--index-from NAME]
                              [--records N]   (index the first N corpus records only, no retrieval: profiling)
When a method is ``comorag``, ComoRAG's layers are built (or brought up to date) first and their cost is
recorded under ``layers``. ``--set`` names the results file (default ``2wiki``), so a partial run can be
written beside the full one (e.g. ``--reuse --methods "hipporag;comorag" --set 2wiki-comorag``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import hippo
from hippo.cpu import process_tree_cpu
from hippo.eval import all_gold_at_k, machine_info, percentile_ms, recall_at_k, write_results
from hippo.retrieval import METHODS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "2wikimultihopqa"
RESULTS = ROOT / "bench" / "results"
RECALL_KS = (1, 2, 5, 10)


def load_questions(titles: set[str]) -> tuple[list[dict], list[dict]]:
    """(recall questions, all-gold questions), each ``{"question", "gold": set of titles}``."""
    recall = []
    for item in json.loads((DATA / "seRAG-linearrag-format" / "questions.json").read_text()):
        subjects = {triple[0] for triple in item["evidence"]}
        if subjects and subjects <= titles:
            recall.append({"question": item["question"], "gold": subjects})
    all_gold = [{"question": r["question"], "gold": set(r["ground_truth"])}
                for r in json.loads((DATA / "fast-graphrag-101" / "results_vdb_2wikimultihopqa_101.json").read_text())]
    return recall, all_gold


def parse_spec(spec: str) -> tuple[str, dict]:
    """``"hipporag:passage_node_weight=0.2,damping=0.7"`` -> ("hipporag", {...}): a method with setting overrides."""
    name, _, rest = spec.partition(":")
    overrides = {}
    for pair in filter(None, rest.split(",")):
        key, _, value = pair.partition("=")
        overrides[key] = json.loads(value.lower() if value in ("True", "False") else value)
    return name, overrides


def _setting(text: str) -> tuple[str, object]:
    """``"name=value"`` -> (name, value), the value read as JSON when it is JSON (numbers, true/false)."""
    name, _, value = text.partition("=")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def run_method(kg: hippo.KnowledgeGraph, method: str, recall_qs: list[dict], all_gold_qs: list[dict]) -> dict:
    kg.retrieve(recall_qs[0]["question"], k=10, method=method)  # warm caches (index, matrices) outside timing
    scores = {f"recall@{k}": 0.0 for k in RECALL_KS}
    latencies = []
    for q in recall_qs:
        started = time.perf_counter()
        hits = kg.retrieve(q["question"], k=10, method=method)
        latencies.append(time.perf_counter() - started)
        titles = [h.title for h in hits]
        for k in RECALL_KS:
            scores[f"recall@{k}"] += recall_at_k(titles, q["gold"], k)
    result = {name: round(total / len(recall_qs), 4) for name, total in scores.items()}
    hits_8 = kg.retrieve_many([q["question"] for q in all_gold_qs], k=8, method=method)
    result["all_gold@8"] = round(sum(all_gold_at_k([h.title for h in hits], q["gold"], 8)
                                     for hits, q in zip(hits_8, all_gold_qs)) / len(all_gold_qs), 4)
    result["latency_ms_p50"] = round(percentile_ms(latencies, 50), 2)
    result["latency_ms_p95"] = round(percentile_ms(latencies, 95), 2)
    return result


def pagerank_ms(kg: hippo.KnowledgeGraph, questions: list[str]) -> list[float]:
    """Seconds of the PageRank step alone, one query at a time (seeds computed outside the timing)."""
    from hippo.graph.ppr import personalized_pagerank
    from hippo.retrieval.hipporag import query_seeds

    state = kg.graph_state()
    timings = []
    for question in questions:
        _, reset, seeds = query_seeds(kg._context, state, [question])  # the benchmark reaches past the facade
        if seeds[0].entity_rows.size == 0:
            continue
        started = time.perf_counter()
        personalized_pagerank(state.graph.transition, reset[:, 0], dangling=state.graph.dangling,
                              damping=kg.settings.damping)
        timings.append(time.perf_counter() - started)
    return timings


def embed_only_seconds(kg: hippo.KnowledgeGraph) -> dict:
    """Wall and CPU seconds the store's embedder takes to embed the store's passages alone, as ingest would.

    The embedder's helper process is started first and its cache emptied, so the figure is the embedding
    work itself: a strict yardstick for the whole index.
    """
    texts = [p.text for p in kg.store.iter_passages()]
    embedder = kg.embedder()
    embedder.encode([f"warm-up {i}" for i in range(1024)])  # starts the helper process outside the timing
    embedder.clear_cache()
    load_before = os.getloadavg()
    started, cpu = time.perf_counter(), process_tree_cpu()
    embedder.encode(texts)
    seconds, cpu = time.perf_counter() - started, process_tree_cpu() - cpu
    embedder.clear_cache()
    return {"embed_only_seconds": round(seconds, 1), "embed_only_cpu_seconds": round(cpu, 1),
            "embed_only_load_average": {"before": [round(x, 2) for x in load_before],
                                        "after": [round(x, 2) for x in os.getloadavg()]}}


def _first_records(corpus: Path, n: int, folder: Path) -> Path:
    """The first ``n`` records of ``corpus`` as a file of their own (outside the repository's data)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"2wiki-first-{n}.json"
    path.write_text(json.dumps(json.loads(corpus.read_text())[:n]))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--methods", default=";".join(sorted(METHODS)),
                        help="';'-separated methods, each optionally with setting overrides: 'hipporag:damping=0.7'")
    parser.add_argument("--store", default=str(ROOT / "build" / "bench" / "2wiki"), help="scratch store folder")
    parser.add_argument("--limit", type=int, default=0, help="only the first N recall questions (quick runs)")
    parser.add_argument("--extractor", default="spacy", help="fact extractor used at indexing")
    parser.add_argument("--reuse", action="store_true",
                        help="keep an existing store at --store (only new or changed records are indexed)")
    parser.add_argument("--set", default="2wiki", help="results name: bench/results/<set>.json and .md")
    parser.add_argument("--setting", action="append", default=[],
                        help="name=value store setting, e.g. embed_model=multilingual-e5-small or memory_units=false")
    parser.add_argument("--index-from", default="",
                        help="with --reuse: copy the indexing figures from bench/results/<NAME>.json, the run that "
                             "built the store (a reused store is not re-indexed, so this run cannot time it)")
    parser.add_argument("--records", type=int, default=0,
                        help="index only the first N corpus records and measure indexing only (profiling runs); "
                             "results go to bench/results/<set>-records<N>.json")
    parser.add_argument("--rebuild-layers", action="store_true",
                        help="rebuild ComoRAG's layers even when up to date (to measure their cost)")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"2WikiMultihopQA data not found at {DATA}; it lives in ../shared/data.", file=sys.stderr)
        return 2
    corpus_path = DATA / "2wikimultihopqa_corpus.json"
    if args.records:
        corpus_path = _first_records(corpus_path, args.records, Path(args.store).parent)
        args.methods, args.set = "", f"{args.set}-records{args.records}"
    titles = {r["title"] for r in json.loads(corpus_path.read_text())}
    recall_qs, all_gold_qs = load_questions(titles)
    if args.limit:
        recall_qs = recall_qs[: args.limit]
    if not args.reuse:
        shutil.rmtree(args.store, ignore_errors=True)
    settings = dict(_setting(s) for s in args.setting)
    with hippo.open(args.store, extractor=args.extractor, **{"fact_filter": False, **settings}) as kg:
        load_before = os.getloadavg()
        report = kg.index(corpus_path)
        load_after = os.getloadavg()
        embed_only = {} if args.reuse else embed_only_seconds(kg)  # a reused index has nothing to compare
        layers = None
        if any(parse_spec(spec)[0] == "comorag" for spec in args.methods.split(";")):
            built = kg.cluster(rebuild=args.rebuild_layers)
            layers = {"seconds": round(built.seconds, 1), "semantic": built.semantic, "fitted": built.fitted,
                      "clusters_per_level": built.clusters_per_level,
                      "stage_seconds": {k: round(v, 1) for k, v in built.stage_seconds.items()}}
        counts = kg.stats()["counts"]
        methods = {}
        for spec in filter(None, args.methods.split(";")):
            name, overrides = parse_spec(spec)
            with hippo.open(args.store, **overrides) as variant:
                methods[spec] = run_method(variant, name, recall_qs, all_gold_qs)
        if "hipporag" in methods:
            ppr = pagerank_ms(kg, [q["question"] for q in recall_qs[:200]])
            methods["hipporag"]["pagerank_ms_p50"] = round(percentile_ms(ppr, 50), 2)
            methods["hipporag"]["pagerank_ms_p95"] = round(percentile_ms(ppr, 95), 2)
        edges = kg.graph_state().graph.edge_counts() if counts["entities"] else {}
        settings = kg.settings.to_dict()
    words = sum(len(r["text"].split()) + len(r["title"].split()) for r in json.loads(corpus_path.read_text()))
    facts = {
        "corpus_passages": counts["passages"], "recall_questions": len(recall_qs),
        "all_gold_questions": len(all_gold_qs), "index_seconds": round(report.seconds, 1),
        "index_passages_per_s": round(counts["passages"] / report.seconds, 1),
        "index_stage_seconds": {k: round(v, 2) for k, v in report.stage_seconds.items()},
        "index_cpu_seconds": round(report.cpu_seconds, 1),
        "index_stage_cpu_seconds": {k: round(v, 2) for k, v in report.stage_cpu_seconds.items()},
        "index_load_average": {"before": [round(x, 2) for x in load_before],
                               "after": [round(x, 2) for x in load_after]},
        **embed_only,
        "index_to_embed_only": round(report.seconds / embed_only["embed_only_seconds"], 2) if embed_only else None,
        "parse_words_per_s": round(words / report.stage_seconds["extract"], 1) if "extract" in report.stage_seconds
        else None,
        "graph": {**{k: counts[k] for k in ("entities", "facts", "mentions", "synonyms")},
                  **{f"edges_{k}": v for k, v in edges.items()}},
        "embed_model": settings["embed_model"], "extractor": settings["extractor"], "machine": machine_info(),
    }
    if layers is not None:
        facts["layers"] = layers
    if args.index_from:
        built = json.loads((RESULTS / f"{args.index_from}.json").read_text())
        for key in ("index_seconds", "index_passages_per_s", "index_stage_seconds", "parse_words_per_s",
                    "index_cpu_seconds", "index_stage_cpu_seconds", "index_load_average", "embed_only_seconds",
                    "embed_only_cpu_seconds", "embed_only_load_average", "index_to_embed_only"):
            if key in built:
                facts[key] = built[key]
        facts["index_measured_in"] = args.index_from
    path = write_results(RESULTS, args.set, methods, facts,
                         notes="Recall@k on questions whose every evidence subject is a corpus title; "
                               "all_gold@8 on fast-graphrag's 101 questions. Produced by `make bench`.")
    print(path.with_suffix(".md").read_text())
    if {"dense", "hipporag"} <= set(methods):
        ratio = methods["hipporag"]["latency_ms_p50"] / methods["dense"]["latency_ms_p50"]
        print(f"hipporag/dense median latency ratio: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
