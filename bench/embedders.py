"""Embedders side by side: calibration of the cosine-scale settings, encoding speed, and merged result sets.

- ``calibrate``: per-model defaults of the settings that depend on the cosine scale, without any gold
  labels, so no benchmark question is tuned on. The synonym threshold keeps MiniLM's *rate*: the share
  of 2Wiki title pairs (titles are entity names) at or above 0.8 under MiniLM fixes the cosine the other
  model needs for the same share. The router temperature keeps MiniLM's *sharpness*: 0.05 scaled by the
  ratio of the per-question spread (standard deviation) of question-to-turn cosines on the LoCoMo dev
  conversations (26, 30).
- ``speed``: texts per second (wall and CPU) of each model on the same 2Wiki passages, interleaved: one
  thread, two processes (a batch of 512 or more is shared with a helper), and for e5 two threads.
- ``demo``: every method on the demo corpus (data/demo, 15 multi-hop questions with gold titles) with
  each embedder: recall@2/@5 of gold titles, all-gold@5, index seconds, query latency.
- ``merge``: several result sets (one run per embedder of bench/twowiki.py or bench/locomo.py) into one
  set whose methods are named ``<method> [<model>]``, with each run's facts kept by model.

Writes bench/results/embedders-calibration.json / embedders-speed.json, or the merged set.

Usage: python bench/embedders.py calibrate | speed [--passages 800] | demo [--models A;B] | merge --into NAME SET...
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import hippo
from hippo.embed import load_embedder
from hippo.embed_batches import PARALLEL_MIN_TEXTS
from hippo.eval import all_gold_at_k, machine_info, percentile_ms, recall_at_k, write_results

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
MINILM, E5 = "all-MiniLM-L6-v2", "multilingual-e5-small"
REFERENCE = {"synonym_threshold": 0.8, "memgas_temperature": 0.05}
DEV_CONVERSATIONS = ("26", "30")
SPLIT = f"{E5}+{MINILM}"
DEMO_METHODS = ("dense", "bm25", "hipporag", "memgas", "comorag")


def titles() -> list[str]:
    """The 2Wiki corpus titles: entity names (people, films, places), each once."""
    corpus = json.loads((DATA / "2wikimultihopqa" / "2wikimultihopqa_corpus.json").read_text())
    return sorted({r["title"] for r in corpus})


def pair_cosines(vectors: np.ndarray, block: int = 1024) -> np.ndarray:
    """Cosines of every unordered pair of rows (upper triangle), as float32; shape (n (n - 1) / 2,)."""
    out = []
    for start in range(0, len(vectors), block):
        sims = vectors[start:start + block] @ vectors.T
        rows = np.arange(start, min(start + block, len(vectors)))[:, None]
        out.append(sims[np.arange(len(vectors))[None, :] > rows])
    return np.concatenate(out)


def synonym_calibration() -> dict:
    """The e5 cosine whose share of title pairs at or above it equals MiniLM's share at 0.8."""
    names = titles()
    shares = {}
    minilm = pair_cosines(load_embedder(MINILM).encode(names, "entity"))
    share = float((minilm >= REFERENCE["synonym_threshold"]).mean())
    e5 = pair_cosines(load_embedder(E5).encode(names, "entity"))
    threshold = float(np.quantile(e5, 1.0 - share))
    for name, cosines in ((MINILM, minilm), (E5, e5)):
        shares[name] = {"pairs": int(cosines.size), "mean": round(float(cosines.mean()), 4),
                        "p50": round(float(np.median(cosines)), 4), "p99": round(float(np.quantile(cosines, 0.99)), 4)}
    return {"titles": len(names), "minilm_share_at_0.8": round(share, 6), "e5_threshold": round(threshold, 3),
            "cosines": shares}


def locomo_dev() -> list[tuple[list[str], list[str]]]:
    """(questions, turns) of each dev conversation."""
    out = []
    for conv in DEV_CONVERSATIONS:
        raw = json.loads((DATA / "locomo" / f"{conv}.json").read_text())
        turns = [f"{t['speaker']}: {t['text']}" for k, v in raw.items() if k.startswith("session_")
                 and isinstance(v, list) for t in v]
        out.append(([qa["question"] for qa in raw["qa"]], turns))
    return out


def temperature_calibration() -> dict:
    """0.05 times the ratio of e5's to MiniLM's mean per-question cosine spread over its conversation's turns."""
    conversations = locomo_dev()
    spreads = {}
    for name in (MINILM, E5):
        embedder = load_embedder(name)
        values = []
        for questions, turns in conversations:
            values.extend((embedder.query(questions) @ embedder.encode(turns).T).std(axis=1).tolist())
        spreads[name] = statistics.fmean(values)
    ratio = spreads[E5] / spreads[MINILM]
    return {"questions": sum(len(q) for q, _ in conversations), "spread": {k: round(v, 4) for k, v in spreads.items()},
            "ratio": round(ratio, 3), "e5_temperature": round(REFERENCE["memgas_temperature"] * ratio, 4)}


def calibrate() -> int:
    out = {"synonym_threshold": synonym_calibration(), "memgas_temperature": temperature_calibration(),
           "machine": machine_info()}
    (RESULTS / "embedders-calibration.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


def timed(name: str, texts: list[str], threads: int, processes: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) to embed ``texts`` fresh with ``name``."""
    embedder = load_embedder(name, threads=threads, processes=processes)
    embedder.clear_cache()
    wall, cpu = time.perf_counter(), time.process_time()
    embedder.encode(texts)
    return time.perf_counter() - wall, time.process_time() - cpu


def speed(passages: int, rounds: int) -> int:
    corpus = json.loads((DATA / "2wikimultihopqa" / "2wikimultihopqa_corpus.json").read_text())
    texts = [f"{r['title']}\n{r['text']}" for r in corpus[:passages]]
    runs = {f"{MINILM} 1 thread": (MINILM, 1, 1), f"{MINILM} 2 processes": (MINILM, 1, 2),
            f"{E5} 1 thread": (E5, 1, 1), f"{E5} 2 threads": (E5, 2, 1), f"{E5} 2 processes": (E5, 1, 2)}
    warm_up = [f"warm up {i}" for i in range(PARALLEL_MIN_TEXTS)]  # a batch this large starts the helper
    for name, threads, processes in runs.values():  # load, and start the helper process, outside the timing
        load_embedder(name, threads=threads, processes=processes).encode(warm_up)
    totals = {label: [0.0, 0.0] for label in runs}
    for _ in range(rounds):
        for label, (name, threads, processes) in runs.items():
            wall, cpu = timed(name, texts, threads, processes)
            totals[label][0] += wall
            totals[label][1] += cpu
    queries = [r["title"] + "?" for r in corpus[-50:]]
    methods = {}
    for label, (wall, cpu) in totals.items():
        name, threads, processes = runs[label]
        embedder = load_embedder(name, threads=threads, processes=processes)
        embedder.clear_cache()
        started = time.perf_counter()
        for query in queries:
            embedder.query([query])
        methods[label] = {"passages_per_s": round(passages * rounds / wall, 1),
                          "passages_per_cpu_s": round(passages * rounds / cpu, 1),
                          "query_ms": round(1000 * (time.perf_counter() - started) / len(queries), 1)}
    facts = {"passages": passages, "rounds": rounds, "interleaved": True, "machine": machine_info()}
    path = write_results(RESULTS, "embedders-speed", methods, facts,
                         notes="2Wiki records 'title\\ntext', embedded fresh each round, the runs interleaved; CPU "
                               "seconds are this process's (both threads, not a helper process's); the machine is "
                               "shared, so compare rows, not absolute figures. "
                               "Produced by `python bench/embedders.py speed`.")
    print(path.with_suffix(".md").read_text())
    return 0


def demo(models: list[str], store_root: Path) -> int:
    """Every method with each embedder on the demo corpus, one fresh store per embedder."""
    import shutil

    questions = json.loads((ROOT / "data" / "demo" / "questions.qa").read_text())
    methods, runs = {}, {}
    for model in models:
        store = store_root / model.replace("+", "_")
        shutil.rmtree(store, ignore_errors=True)
        with hippo.open(store, embed_model=model, comorag_llm=False, fact_filter=False) as kg:
            report = kg.index(ROOT / "data" / "demo")
            runs[model] = {"index_seconds": round(report.seconds, 1),
                           "stage_seconds": {k: round(v, 2) for k, v in report.stage_seconds.items()},
                           **{k: kg.settings.to_dict()[k] for k in ("synonym_threshold", "memgas_temperature")}}
            for method in DEMO_METHODS:
                kg.retrieve(questions[0]["question"], k=5, method=method)  # warm caches outside timing
                kg.embedder().clear_cache()
                scores, latencies = {"recall@2": 0.0, "recall@5": 0.0, "all_gold@5": 0.0}, []
                for q in questions:
                    started = time.perf_counter()
                    titles = [h.title for h in kg.retrieve(q["question"], k=5, method=method)]
                    latencies.append(time.perf_counter() - started)
                    gold = set(q["gold_titles"])
                    scores["recall@2"] += recall_at_k(titles, gold, 2)
                    scores["recall@5"] += recall_at_k(titles, gold, 5)
                    scores["all_gold@5"] += all_gold_at_k(titles, gold, 5)
                methods[f"{method} [{model}]"] = {**{k: round(v / len(questions), 4) for k, v in scores.items()},
                                                  "latency_ms_p50": round(percentile_ms(latencies, 50), 2)}
    facts = {"questions": len(questions), "runs": runs, "machine": machine_info()}
    path = write_results(RESULTS, "demo-embedders", methods, facts,
                         notes="data/demo, spaCy extractor, comorag offline (no LLM); recall of gold titles. "
                               "Produced by `python bench/embedders.py demo`.")
    print(path.with_suffix(".md").read_text())
    return 0


def merge(into: str, sets: list[str]) -> int:
    """One result set from runs that differ only in embedder: methods ``<method> [<model>]``, facts by model."""
    methods, facts = {}, {"runs": {}}
    for name in sets:
        data = json.loads((RESULTS / f"{name}.json").read_text())
        model = data.get("embed_model", name)
        for method, values in data.pop("methods").items():
            methods[f"{method} [{model}]"] = values
        facts["runs"][model] = {k: v for k, v in data.items() if k not in ("set", "machine", "by_category")}
        facts["machine"] = data.get("machine")
    path = write_results(RESULTS, into, methods, facts,
                         notes=f"Merged from {', '.join(sets)} by `python bench/embedders.py merge`.")
    print(path.with_suffix(".md").read_text())
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("calibrate")
    fast = sub.add_parser("speed")
    fast.add_argument("--passages", type=int, default=800)
    fast.add_argument("--rounds", type=int, default=2)
    small = sub.add_parser("demo")
    small.add_argument("--models", default=f"{MINILM};{SPLIT};{E5}")
    small.add_argument("--store-root", default=str(ROOT / "build" / "bench" / "demo-embedders"))
    joined = sub.add_parser("merge")
    joined.add_argument("--into", required=True)
    joined.add_argument("sets", nargs="+")
    args = parser.parse_args()
    if args.command == "calibrate":
        return calibrate()
    if args.command == "demo":
        return demo(args.models.split(";"), Path(args.store_root))
    if args.command == "speed":
        return speed(args.passages, args.rounds)
    return merge(args.into, args.sets)


if __name__ == "__main__":
    sys.exit(main())
