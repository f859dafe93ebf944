"""Where an index's work goes: CPU seconds of each part of indexing 2Wiki passages, against embedding them alone.

Issue 19 asks that a whole index cost at most 1.5x embedding the corpus's passages alone (``embed_only``).
On two busy cores both take all the CPU they get (bench/results/2wiki.json: 847 s of CPU in 451 s of wall
for the index), so the ratio of their wall times is the ratio of their work. This benchmark measures that
work part by part, each part alone on one thread in this process (no helpers, so nothing is counted twice
or hidden in another process), on one seeded sample of the corpus's passages:

- ``passages (e5)``: the default store's passage vectors, the whole of ``embed_only``;
- ``NER encoder pass``: all-MiniLM-L6-v2 over every passage for the NER's word features
  (:func:`hippo.ingest.extract.shared_pass.encode_passages`);
- ``spaCy <component>``: each pipeline component the extractor runs, on docs carrying those features;
- ``fact rules``: facts, entities and pronouns from the parses (``passage_extraction``);
- ``graph records``: :func:`hippo.ingest.graph_batch.graph_batch` on a fresh store with the default split
  embedder: entity names and fact texts embedded by MiniLM, synonymy; ``entity names`` and ``fact texts``
  re-embed its texts alone to say how much of it each is.

Each part reports CPU seconds, seconds per 1,000 passages, its multiple of ``passages (e5)``, and the word
pieces it encodes where it encodes. ``index_without`` says what the ratio would be if a part cost nothing.

Usage: python bench/index_work.py [--passages 1000] [--seed 19]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

from hippo.config import DEFAULT_EMBED_MODEL, Settings
from hippo.embed import load_backend, load_embedder, split_name
from hippo.eval import machine_info, write_results
from hippo.ingest.extract.shared_pass import attach_features, encode_passages
from hippo.ingest.extract.spacy import SpacyExtractor, _group, _lines, passage_extraction
from hippo.ingest.extract.spacy_pipeline import encoder_features, unused_components
from hippo.ingest.graph_batch import graph_batch
from hippo.model import Passage
from hippo.stores import open_store

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CORPUS = ROOT.parent / "shared" / "data" / "2wikimultihopqa" / "2wikimultihopqa_corpus.json"


def cpu_seconds(run: Callable[[], object]) -> tuple[float, object]:
    """CPU seconds of this process spent in ``run()`` (one thread, so CPU and wall agree), and its result."""
    started = time.process_time()
    result = run()
    return time.process_time() - started, result


def sample(n: int, seed: int) -> list[str]:
    """``n`` passages of the 2Wiki corpus ("title\\ntext", as bench/twowiki.py indexes them), seeded."""
    records = json.loads(CORPUS.read_text())
    return [f"{r['title']}\n{r['text']}" for r in random.Random(seed).sample(records, n)]


def pieces(model: str, texts: list[str], role: str) -> int:
    """Word pieces ``model`` encodes for ``texts`` as ``role`` (prefix and special tokens included, cut at its
    window; the NER's pass also reads a passage's pieces past the window, which this leaves out)."""
    return sum(map(len, load_backend(model, 64, 1).encoder.token_ids(texts, role)))


def parse_parts(texts: list[str]) -> dict[str, tuple[float, int | None]]:
    """The extract stage's parts, each timed alone: the NER's encoder pass, each spaCy component, the rules."""
    extractor = SpacyExtractor()
    nlp = extractor.nlp
    features = encoder_features(nlp)
    extractor._extract_here(texts[:4], embed="auto")  # models loaded and warm
    encoder, layers = features.attrs["encoder"], features.attrs["layers"]
    parts: dict[str, tuple[float, int | None]] = {}
    seconds, encoded = cpu_seconds(lambda: encode_passages(texts, encoder, layers, "auto"))
    parts["NER encoder pass"] = (seconds, pieces(encoder, texts, "passage"))
    docs, owners = [], []
    for index, text in enumerate(texts):
        for offset, line in _lines(text):
            if line.strip():
                doc = nlp.make_doc(line)
                attach_features(doc, encoded[index], offset, layers)
                docs.append(doc)
                owners.append(index)
    disabled = unused_components(nlp)
    with threadpool_limits(limits=1, user_api="blas"):
        for name, component in nlp.pipeline:
            if name not in disabled:
                seconds, docs = cpu_seconds(lambda c=component, d=docs: list(c.pipe(d, batch_size=64)))
                parts[f"spaCy {name}"] = (seconds, None)
        seconds, _ = cpu_seconds(lambda: [passage_extraction(d) for _, d in _group(iter(docs), owners)])
    parts["fact rules"] = (seconds, None)
    return parts


def graph_parts(texts: list[str], folder: Path) -> dict[str, tuple[float, int | None]]:
    """The graph stage on a fresh store with the default embedder, then its names and facts re-embedded alone."""
    extractions = SpacyExtractor()._extract_here(texts)
    passages = [Passage(f"p{i}", f"d{i}", 0, text, f"h{i}") for i, text in enumerate(texts)]
    store = open_store(str(folder / "store"), {"embed_model": DEFAULT_EMBED_MODEL})
    embedder = load_embedder(DEFAULT_EMBED_MODEL)
    embedder.encode(["warm"], "entity")
    seconds, batch = cpu_seconds(lambda: graph_batch(store, embedder, passages, extractions, "spacy", Settings()))
    graph_model = split_name(DEFAULT_EMBED_MODEL)[1]
    backend = load_backend(graph_model, 64, 1)
    parts = {"graph records": (seconds, None)}
    kinds = {"entity names": [e.display for e in batch.entities], "fact texts": [f.text for f in batch.facts]}
    for name, kind in kinds.items():
        seconds, _ = cpu_seconds(lambda k=kind: backend.encode_here(k, "entity", 1))
        parts[name] = (seconds, pieces(graph_model, kind, "entity"))
    return parts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    torch.set_num_threads(1)
    texts = sample(args.passages, args.seed)
    passage_model = split_name(DEFAULT_EMBED_MODEL)[0]
    backend = load_backend(passage_model, 64, 1)
    backend.encode_here(texts[:4], "passage", 1)
    seconds, _ = cpu_seconds(lambda: backend.encode_here(texts, "passage", 1))
    parts = {"passages (e5)": (seconds, pieces(passage_model, texts, "passage")), **parse_parts(texts)}
    with tempfile.TemporaryDirectory() as folder:
        parts.update(graph_parts(texts, Path(folder)))
    base = parts["passages (e5)"][0]
    index_parts = [name for name in parts if name not in ("entity names", "fact texts")]
    index = sum(parts[name][0] for name in index_parts)
    methods = {}
    for name, (seconds, count) in parts.items():
        methods[name] = {"cpu_s": round(seconds, 2), "cpu_s_per_1000": round(seconds * 1000 / len(texts), 2),
                         "x_embed_only": round(seconds / base, 3)}
        if count is not None:
            methods[name]["word_pieces"] = count
        if name in index_parts and name != "passages (e5)":
            methods[name]["index_without"] = round((index - seconds) / base, 2)
        print(name, methods[name], flush=True)
    run = {"passages": len(texts), "seed": args.seed, "threads": 1, "embed_model": DEFAULT_EMBED_MODEL,
           "index_to_embed_only": round(index / base, 2), "machine": machine_info()}
    print("index / embed-only:", run["index_to_embed_only"])
    write_results(RESULTS, "index-work", methods, run,
                  notes="CPU seconds of each part alone, one thread, one process; index_to_embed_only sums the parts "
                        "that index runs (entity names and fact texts are inside graph records). "
                        "Produced by `python bench/index_work.py`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
