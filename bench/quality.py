"""QuALITY (dev) long-story multiple choice: dense, hipporag and comorag read by the same offline reader.

Reads ../shared/data/quality-dev/quality_dev.jsonl (7 stories, 79 four-option questions). Each story
is indexed as one document into its own store (as ComoRAG indexes each story apart), with the spaCy
extractor, and gets ComoRAG's layers (``kg.cluster()``). For each question and method, the top
``--k`` passages are retrieved for the question text with its four options (what ComoRAG's
multiple-choice prompts receive), and :func:`hippo.eval.reader.choose_option` picks the option best
supported by their sentences. Reports accuracy, latency p50/p95 and, for comorag, the probing cycles
used (mean) and why the loops stopped; ``reader_with_every_passage`` is the reader's accuracy when it
reads the whole story (what retrieval could at most help it to), and
``option_alone_with_every_passage`` the same with each option embedded without its question. ``index_seconds`` and
``cluster_seconds`` count only work done in this run (``stores_reused`` stores were already built).

``--reader llm`` reads with the configured LLM (``HIPPO_LLM_*``, see the README) instead of the
offline reader; results then go to ``quality-dev-llm`` unless ``--set`` says otherwise. ``paired``
counts the questions each method gets right where the other does not, with the two-sided sign-test
p-value, since on 79 questions one question is 1.3 points.

Usage: python bench/quality.py [--methods "dense;hipporag;comorag"] [--k 5] [--query full|question]
       [--reader offline|llm] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import hippo
from hippo.eval import machine_info, percentile_ms, write_results
from hippo.eval.reader import choose_option, choose_option_llm, split_options
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


READERS = {
    "offline": "max cosine between 'question option' and the retrieved sentences (hippo.eval.reader.choose_option)",
    "llm": "the configured LLM picks a letter after reading the retrieved passages (choose_option_llm)",
}


def paired(right: dict[str, list[bool]]) -> dict[str, dict[str, float]]:
    """For each pair of methods: questions only the first gets right, only the second, and the sign-test p."""
    out = {}
    names = list(right)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            wins = sum(a and not b for a, b in zip(right[first], right[second]))
            losses = sum(b and not a for a, b in zip(right[first], right[second]))
            out[f"{first} vs {second}"] = {"only_first": wins, "only_second": losses,
                                           "sign_test_p": round(sign_test(wins, losses), 3)}
    return out


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign-test p-value of ``wins`` against ``losses`` (ties left out)."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, j) for j in range(min(wins, losses) + 1)) / 2**n
    return min(1.0, 2 * tail)


def write_partial(args: argparse.Namespace, done: list[dict], methods: list[str], right: dict[str, list[bool]],
                  latencies: dict[str, list[float]], cycles: list[int], stops: Counter[str],
                  counts: dict) -> Path:
    """Write the results of the stories read so far, so a run cut short (an LLM reader takes hours) keeps them."""
    total = sum(len(s["questions"]) for s in done)
    results = {}
    for method in methods:
        results[method] = {"accuracy": round(sum(right[method]) / total, 4),
                           "latency_ms_p50": round(percentile_ms(latencies[method], 50), 2),
                           "latency_ms_p95": round(percentile_ms(latencies[method], 95), 2)}
        if method == "comorag" and cycles:
            results[method]["cycles_mean"] = round(sum(cycles) / len(cycles), 3)
    facts = {"stories": len(done), "questions": total, "passages": counts["passages"], "k": args.k,
             "query": args.query, "reader": READERS[args.reader], "paired": paired(right),
             "reader_with_every_passage": round(counts["every_passage"] / total, 4),
             "option_alone_with_every_passage": round(counts["option_alone"] / total, 4),
             "stores_reused": counts["reused"], "index_seconds": round(counts["index_seconds"], 1),
             "cluster_seconds": round(counts["cluster_seconds"], 1), "clusters_per_level": counts["layers"],
             "comorag_stopped": dict(stops.most_common()), "extractor": "spacy", "machine": machine_info()}
    return write_results(RESULTS, args.set, results, facts,
                         notes="Each story is its own store; accuracy of the same reader over each "
                               "method's top-k passages. Produced by `python bench/quality.py`.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--methods", default="dense;hipporag;comorag", help="';'-separated methods")
    parser.add_argument("--k", type=int, default=5, help="passages read per question")
    parser.add_argument("--query", choices=("full", "question"), default="full",
                        help="retrieve with the question and its options (full) or the question alone")
    parser.add_argument("--store", default=str(ROOT / "build" / "bench" / "quality"), help="scratch folder")
    parser.add_argument("--fresh", action="store_true", help="re-index the stories from scratch")
    parser.add_argument("--reader", choices=("offline", "llm"), default="offline",
                        help="the offline cosine reader, or the configured LLM")
    parser.add_argument("--set", default=None, help="results name (default quality-dev, quality-dev-llm)")
    args = parser.parse_args()
    args.set = args.set or ("quality-dev" if args.reader == "offline" else "quality-dev-llm")
    if not DATA.exists():
        print(f"QuALITY data not found at {DATA}; it lives in ../shared/data.", file=sys.stderr)
        return 2
    if args.fresh:
        shutil.rmtree(args.store, ignore_errors=True)
    stories = load_stories()
    methods = args.methods.split(";")
    right: dict[str, list[bool]] = {m: [] for m in methods}
    latencies: dict[str, list[float]] = {m: [] for m in methods}
    cycles: list[int] = []
    stops: Counter[str] = Counter()
    index_seconds = cluster_seconds = 0.0
    passages = reused = every_passage = option_alone = 0
    layers: Counter[str] = Counter()
    for number, story in enumerate(stories):
        with hippo.open(Path(args.store) / f"story-{number}", extractor="spacy", fact_filter=False) as kg:
            if args.reader == "llm" and kg.llm() is None:
                print("--reader llm needs an LLM: set HIPPO_LLM_BASE_URL and HIPPO_LLM_MODEL.", file=sys.stderr)
                return 2
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
            for q in story["questions"]:  # the offline reader's ceiling: every passage of the story
                every_passage += choose_option(q["question"], q["options"], whole, kg.embedder())[0] == q["gold"]
                option_alone += choose_option(q["question"], q["options"], whole, kg.embedder(),
                                              with_question=False)[0] == q["gold"]
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
                    if args.reader == "llm":
                        chosen = choose_option_llm(q["question"], q["options"], hits, kg.llm())
                    else:
                        chosen, _ = choose_option(q["question"], q["options"], hits, kg.embedder())
                    right[method].append(chosen == q["gold"])
        path = write_partial(args, stories[:number + 1], methods, right, latencies, cycles, stops, {
            "passages": passages, "every_passage": every_passage, "option_alone": option_alone, "reused": reused,
            "index_seconds": index_seconds, "cluster_seconds": cluster_seconds, "layers": dict(layers)})
    print(path.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
