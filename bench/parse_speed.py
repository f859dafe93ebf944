"""Parsing throughput of the spaCy extractor: words per second, in one or two processes, for one or two pipelines.

Why: the bundled pipeline's NER reads the sentence encoder (``ingest/extract/minilm_features.py``), which
costs parsing speed; absolute times on these shared machines are noisy, so each setting is timed in the
same run, rounds interleaved, and the ratios are reported beside the figures.

Texts: the first ``--passages`` passages of the 2WikiMultihopQA corpus (../shared/data), title line and
text, as ``hippo index`` parses them. A warm-up call loads each pipeline (and starts the helper process)
before timing. Words are whitespace-separated tokens of the input.

Writes bench/results/parse-speed.json and .md.

Usage: python bench/parse_speed.py [--passages 600] [--rounds 2] [--other PIPELINE_DIR --other-name NAME]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hippo.eval.results import write_results  # noqa: E402
from hippo.ingest.extract import spacy as spacy_extract  # noqa: E402
from hippo.ingest.extract.spacy import DEFAULT_MODEL, SpacyExtractor  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "2wikimultihopqa"


def corpus_texts(limit: int) -> list[str]:
    """Title line + text of the first ``limit`` passages of the 2Wiki corpus."""
    path = CORPUS / "2wikimultihopqa_corpus.json"
    if not path.exists():
        raise SystemExit(f"the 2Wiki corpus is missing: {path}")
    rows = json.loads(path.read_text())
    return [f"{r['title']}\n{r['text']}" for r in rows[:limit]]


def words_per_second(extractor: SpacyExtractor, texts: list[str]) -> float:
    words = sum(len(t.split()) for t in texts)
    started = time.perf_counter()
    extractor.extract(texts)
    return words / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--other", type=Path, help="a second pipeline folder, e.g. an earlier model")
    parser.add_argument("--other-name", default="other")
    args = parser.parse_args(argv)

    texts = corpus_texts(args.passages)
    spacy_extract.PARALLEL_MIN_CHARS = 1  # every call is a large batch here
    settings = {"bundled, 1 process": SpacyExtractor(processes=1), "bundled, 2 processes": SpacyExtractor(processes=2)}
    if args.other:
        settings[f"{args.other_name}, 1 process"] = SpacyExtractor(args.other, processes=1)
    for extractor in settings.values():
        extractor.extract(texts[:20])  # load the pipeline, start the helper
    speeds: dict[str, list[float]] = {name: [] for name in settings}
    for _ in range(args.rounds):
        for name, extractor in settings.items():
            speeds[name].append(words_per_second(extractor, texts))
            print(f"{name}: {speeds[name][-1]:,.0f} words/s", file=sys.stderr)
    base = statistics.median(speeds["bundled, 1 process"])
    methods = {
        name: {
            "words_per_s": round(statistics.median(v)),
            "ratio_to_bundled_1_process": round(statistics.median(v) / base, 2),
        }
        for name, v in speeds.items()
    }
    facts = {
        "passages": len(texts),
        "words": sum(len(t.split()) for t in texts),
        "rounds": args.rounds,
        "bundled_model": str(DEFAULT_MODEL.relative_to(ROOT)),
        "other_model": str(args.other) if args.other else None,
    }
    path = write_results(
        ROOT / "bench" / "results",
        "parse-speed",
        methods,
        facts,
        notes="Median of the rounds; settings interleaved within each round.",
    )
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
