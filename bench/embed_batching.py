"""How the embedder's batching pays: sentence-transformers' own batches against batches by word pieces.

Reads 2Wiki's passages (../shared/data/2wikimultihopqa) and the entity names and fact texts of an indexed
2Wiki store (``bench/twowiki.py`` builds one at build/bench/2wiki), a seeded sample of each, and embeds
them with all-MiniLM-L6-v2 on one thread, two rounds, the two ways interleaved within each round:

- ``sentence-transformers``: ``SentenceTransformer.encode`` as hippo called it before session 12 (texts
  sorted by characters, 64 per pass, entity names and facts 256 per pass);
- ``word pieces``: hippo's ``TransformerBackend`` (:func:`hippo.embed_batches.token_batches`: texts of
  equal piece counts together, at most ``BATCH_TOKENS`` pieces per pass).

Reports the median seconds of each, their ratio, and the largest difference between the two ways' vectors.
Writes bench/results/embed-batching.json and .md.

Usage: python bench/embed_batching.py [--store build/bench/2wiki] [--texts 3000] [--passages 300]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import time
from pathlib import Path

import numpy as np

from hippo.embed import load_embedder
from hippo.embed_batches import BATCH_TOKENS, threads_for
from hippo.embed_e5 import encodable
from hippo.eval import machine_info, write_results

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "2wikimultihopqa" / "2wikimultihopqa_corpus.json"
RESULTS = ROOT / "bench" / "results"
OLD_BATCH, OLD_SHORT_BATCH = 64, 256  # what hippo passed to sentence-transformers before session 12


def samples(store: Path, texts: int, passages: int) -> dict[str, list[str]]:
    """Seeded samples of the store's entity names and fact texts, and of the corpus's passages."""
    rng = random.Random(1)
    with sqlite3.connect(store / "hippo.db") as db:
        names = [row[0] for row in db.execute("SELECT display FROM entities")]
        facts = [f"{s} {p} {o}" for s, p, o in db.execute(
            "SELECT s.display, f.predicate, o.display FROM facts f JOIN entities s ON s.id = f.subject_id "
            "JOIN entities o ON o.id = f.object_id")]
    corpus = [f"{r['title']}\n{r['text']}" for r in json.loads(DATA.read_text())]
    return {"entity names": rng.sample(names, texts), "fact texts": rng.sample(facts, texts),
            "passages": rng.sample(corpus, passages)}


def sample_arguments(description: str) -> argparse.Namespace:
    """The command line of a benchmark over :func:`samples`: --store, --texts, --passages, --rounds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--store", default=str(ROOT / "build" / "bench" / "2wiki"))
    parser.add_argument("--texts", type=int, default=3000)
    parser.add_argument("--passages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    return parser.parse_args()


def main() -> int:
    args = sample_arguments(__doc__.splitlines()[0])
    backend = load_embedder("all-MiniLM-L6-v2", OLD_BATCH, 1, 1)._backends["passage"]
    model = backend.encoder.model
    methods: dict[str, dict[str, float]] = {}
    for kind, texts in samples(Path(args.store), args.texts, args.passages).items():
        size = OLD_BATCH if kind == "passages" else OLD_SHORT_BATCH
        ways = {"sentence-transformers": lambda t=texts, s=size: model.encode(
                    [encodable(x) for x in t], batch_size=s, normalize_embeddings=True, show_progress_bar=False),
                "word pieces": lambda t=texts: backend.encode(t, "passage", 1)}
        seconds: dict[str, list[float]] = {way: [] for way in ways}
        vectors: dict[str, np.ndarray] = {}
        for _ in range(args.rounds):
            for way, run in ways.items():
                started = time.perf_counter()
                with threads_for(len(texts), 1):  # one torch thread, as hippo embeds (both ways)
                    vectors[way] = run()
                seconds[way].append(time.perf_counter() - started)
        old, new = (statistics.median(seconds[w]) for w in ways)
        methods[kind] = {"texts": len(texts), "sentence_transformers_s": round(old, 2), "word_pieces_s": round(new, 2),
                         "speedup": round(old / new, 2),
                         "max_abs_difference": float(np.abs(vectors["sentence-transformers"]
                                                            - vectors["word pieces"]).max())}
        print(kind, methods[kind], flush=True)
    write_results(RESULTS, "embed-batching", methods,
                  {"model": "all-MiniLM-L6-v2", "threads": 1, "rounds": args.rounds, "batch_tokens": BATCH_TOKENS,
                   "machine": machine_info()},
                  notes="Median seconds of the rounds, the two ways interleaved within each round. "
                        "Produced by `python bench/embed_batching.py`.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
