"""QuALITY (dev) long-story multiple choice: dense, hipporag and comorag read by the same offline reader.

Reads ../shared/data/quality-dev/quality_dev.jsonl (7 stories, 79 four-option questions). Each story
is indexed as one document into its own store (as ComoRAG indexes each story apart), with the spaCy
extractor, and gets ComoRAG's layers (``kg.cluster()``). For each question and method, the top
``--k`` passages are retrieved for the question text with its four options (what ComoRAG's
multiple-choice prompts receive), and :func:`hippo.eval.reader.choose_option` picks the option best
supported by their sentences. Reports accuracy, latency p50/p95 and, for comorag, the probing cycles
used (mean) and why the loops stopped; ``reader_with_every_passage`` is the reader's accuracy when it
reads the whole story (what retrieval could at most help it to). ``index_seconds`` and
``cluster_seconds`` count only work done in this run (``stores_reused`` stores were already built).

Usage: python bench/quality.py [--methods "dense;hipporag;comorag"] [--k 5] [--query full|question] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import hippo
from hippo.eval import machine_info, percentile_ms, write_results
from hippo.eval.reader import choose_option, split_options
from hippo.model import Hit

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "quality-dev" / "quality_dev.jsonl"
RESULTS = ROOT / "bench" / "results"


def load_stories() -> list[dict]:
    """Stories with their questions: ``{"title", "text", "questions": [{"text", "question", "options", "gold"}]}``."""
    stories = []
    for line in DATA.read_text().splitlines():
        row = json.loads(line)
        text = row["input"]
        title = next(" ".join(t.split()) for t in text.splitlines() if t.strip() and not t.lstrip().startswith("<!--"))
        questions = []
        for instruction, output in zip(row["instructions"], row["outputs"]):
            question, options = split_options(instruction)
            questions.append({"text": " ".join(instruction.split()), "question": question, "options": options,
                              "gold": output.strip()[1]})
        stories.append({"title": title, "text": text, "questions": questions})
    return stories


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--methods", default="dense;hipporag;comorag", help="';'-separated methods")
    parser.add_argument("--k", type=int, default=5, help="passages read per question")
    parser.add_argument("--query", choices=("full", "question"), default="full",
                        help="retrieve with the question and its options (full) or the question alone")
    parser.add_argument("--store", default=str(ROOT / "build" / "bench" / "quality"), help="scratch folder")
    parser.add_argument("--fresh", action="store_true", help="re-index the stories from scratch")
    parser.add_argument("--set", default="quality-dev", help="results name (bench/results/<set>.json)")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"QuALITY data not found at {DATA}; it lives in ../shared/data.", file=sys.stderr)
        return 2
    if args.fresh:
        shutil.rmtree(args.store, ignore_errors=True)
    stories = load_stories()
    methods = args.methods.split(";")
    correct = Counter()
    latencies: dict[str, list[float]] = {m: [] for m in methods}
    cycles: list[int] = []
    stops: Counter[str] = Counter()
    index_seconds = cluster_seconds = 0.0
    passages = reused = every_passage = 0
    layers: Counter[str] = Counter()
    for number, story in enumerate(stories):
        with hippo.open(Path(args.store) / f"story-{number}", extractor="spacy") as kg:
            if not kg.stats()["counts"]["passages"]:
                report = kg.add_texts([story["text"]], [{"title": story["title"], "source": f"quality-{number}"}])
                index_seconds += report.seconds
            else:
                reused += 1
            layer_report = kg.cluster()
            cluster_seconds += layer_report.seconds
            layers.update({str(k): v for k, v in layer_report.clusters_per_level.items()})
            passages += kg.stats()["counts"]["passages"]
            whole = [Hit(p.passage_id, p.doc_id, p.text, 0.0, "all", p.title) for p in kg.store.iter_passages()]
            for q in story["questions"]:  # the reader's ceiling: every passage of the story
                every_passage += choose_option(q["question"], q["options"], whole, kg.embedder())[0] == q["gold"]
            for method in methods:
                kg.retrieve(story["questions"][0]["question"], k=args.k, method=method)  # warm caches
                kg.embedder().clear_cache()  # each method pays for embedding its own queries
                for q in story["questions"]:
                    query = q["text"] if args.query == "full" else q["question"]
                    started = time.perf_counter()
                    if method == "comorag":
                        result = kg.probe(query, k=args.k)
                        hits = list(result.hits)
                        cycles.append(len(result.cycles) - 1)
                        stops[result.stopped] += 1
                    else:
                        hits = kg.retrieve(query, k=args.k, method=method)
                    latencies[method].append(time.perf_counter() - started)
                    chosen, _ = choose_option(q["question"], q["options"], hits, kg.embedder())
                    correct[method] += chosen == q["gold"]
    total = sum(len(s["questions"]) for s in stories)
    results = {}
    for method in methods:
        results[method] = {"accuracy": round(correct[method] / total, 4),
                           "latency_ms_p50": round(percentile_ms(latencies[method], 50), 2),
                           "latency_ms_p95": round(percentile_ms(latencies[method], 95), 2)}
        if method == "comorag" and cycles:
            results[method]["cycles_mean"] = round(sum(cycles) / len(cycles), 3)
    facts = {"stories": len(stories), "questions": total, "passages": passages, "k": args.k, "query": args.query,
             "reader": "max cosine between 'question option' and the retrieved sentences (hippo.eval.reader)",
             "reader_with_every_passage": round(every_passage / total, 4), "stores_reused": reused,
             "index_seconds": round(index_seconds, 1), "cluster_seconds": round(cluster_seconds, 1),
             "clusters_per_level": dict(layers), "comorag_stopped": dict(stops.most_common()),
             "extractor": "spacy", "machine": machine_info()}
    path = write_results(RESULTS, args.set, results, facts,
                         notes="Each story is its own store; accuracy of the same offline reader over each "
                               "method's top-k passages. Produced by `python bench/quality.py`.")
    print(path.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
