"""Copy the trained pipeline (spacy train's model-best) into data/models/en_hippo_ewt.

Usage (from the repository root):
    .venv/bin/python ingest/extract/training/package.py [--src build/spacy/model/model-best]
        [--dest data/models/en_hippo_ewt] [--train-seconds N | --train-seconds-file F]

With ``--ner-src`` (``make model``: build/spacy/ner/model-best, trained by ner.cfg) the NER comes from
that pipeline. Replaces everything in the destination except README.md,
installs the EWT tokenizer rules (tokenizer_rules.py; serialized with the pipeline, no code needed at
load time), rewrites meta.json (name, version, description, sources, licence, training time) and copies the data
licence (CC BY-SA 4.0) to <dest>/LICENSE. The result loads with ``spacy.load("data/models/en_hippo_ewt")``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import spacy

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SHARED = REPO.parent / "shared" / "data"  # ../shared/data relative to the project root
sys.path.insert(0, str(HERE))
from tokenizer_rules import customize_tokenizer  # noqa: E402

MAX_BYTES = 30 * 1024 * 1024


def swap_ner(nlp, ner_nlp) -> None:
    """Replace ``nlp``'s NER by the one of ``ner_nlp`` (trained by ner.cfg).

    ner.cfg's NER has encoders of its own. A NER that listens to a ``tok2vec`` instead is linked to
    ``nlp``'s when the saved pipeline loads, so the two must hold the same weights: a NER trained on
    another encoder would get features it never saw.
    """
    if "tok2vec" in ner_nlp.pipe_names and (
        ner_nlp.get_pipe("tok2vec").model.to_bytes() != nlp.get_pipe("tok2vec").model.to_bytes()
    ):
        raise SystemExit("the NER was trained on a different tok2vec than the pipeline it would join")
    nlp.remove_pipe("ner")
    nlp.add_pipe("ner", source=ner_nlp)
    perf = nlp.meta.setdefault("performance", {})
    for k, v in ner_nlp.meta.get("performance", {}).items():
        if k.startswith("ents_") or k == "ner_loss":
            perf[k] = v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", type=Path, default=REPO / "build/spacy/model/model-best")
    ap.add_argument("--dest", type=Path, default=REPO / "data/models/en_hippo_ewt")
    ap.add_argument("--license", type=Path, default=SHARED / "ud-english-ewt" / "LICENSE.txt")
    ap.add_argument(
        "--ner-src",
        type=Path,
        default=None,
        help="optional: a pipeline whose 'ner' replaces the trained one (e.g. a stand-alone NER)",
    )
    ap.add_argument("--train-seconds", type=float, default=None)
    ap.add_argument("--train-seconds-file", type=Path, default=REPO / "build/spacy/train_seconds")
    args = ap.parse_args(argv)

    secs = args.train_seconds
    if secs is None and args.train_seconds_file.exists():
        secs = float(args.train_seconds_file.read_text().strip())

    dest = args.dest
    dest.mkdir(parents=True, exist_ok=True)
    for p in dest.iterdir():
        if p.name == "README.md":
            continue
        shutil.rmtree(p) if p.is_dir() else p.unlink()

    nlp = spacy.load(args.src)
    if args.ner_src and args.ner_src.exists():
        swap_ner(nlp, spacy.load(args.ner_src))
        print(f"NER taken from {args.ner_src}")
    customize_tokenizer(nlp)
    nlp.meta.update(
        {
            "name": "hippo_ewt",
            "version": "0.1.0",
            "description": (
                "hippo's offline English pipeline (CNN): UPOS+FEATS (morphologizer), XPOS "
                "(tagger), edit-tree lemmatizer, UD dependency parser (sentence boundaries), "
                "NER with PER/ORG/LOC/OTH reading its own CNN and the frozen all-MiniLM-L6-v2 "
                "sentence encoder that hippo ships (hippo.MiniLMFeatures.v1; needs hippo installed)."
            ),
            "author": "hippo",
            "license": "CC BY-SA 4.0",
            "sources": [
                {
                    "name": "UD English-EWT v2.15",
                    "url": "https://github.com/UniversalDependencies/UD_English-EWT",
                    "license": "CC BY-SA 4.0",
                },
                {
                    "name": "UNER English-EWT (Universal NER v1)",
                    "url": "https://www.universalner.org/",
                    "license": "CC BY-SA 4.0",
                },
            ],
        }
    )
    if secs is not None:
        nlp.meta.setdefault("hippo", {})["train_seconds"] = round(secs)
    nlp.to_disk(dest)
    shutil.copyfile(args.license, dest / "LICENSE")

    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    print(f"packaged {args.src} -> {dest} ({size / 1e6:.1f} MB)")
    if size > MAX_BYTES:
        raise SystemExit(f"model is {size / 1e6:.1f} MB, over the 30 MB budget")


if __name__ == "__main__":
    main()
