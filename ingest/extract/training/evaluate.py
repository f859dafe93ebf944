"""Score the bundled English pipeline on UD English-EWT test + UNER English-EWT test.

Usage (from the repository root):
    .venv/bin/python ingest/extract/training/evaluate.py [--model data/models/en_hippo_ewt]
        [--tokenization predicted|gold] [--out bench/results/model.json]

Three input modes are always scored; ``--tokenization`` picks the one reported as the headline
figures in ``methods`` (all of them go to ``details``):

* ``predicted``: every UD document (``# newdoc``) of the test file is one raw text (the sentences'
  text joined as in the treebank, by the ``SpaceAfter`` information) and goes through
  ``nlp(text)``: the pipeline's own tokenizer and the parser's sentence boundaries. Scoring
  follows the CoNLL 2018 shared-task evaluation: predicted and gold words are aligned by
  character span; UPOS/XPOS/lemma/UAS/LAS/sentence figures are F1 over words (precision over
  predicted words, recall over gold words; equal to accuracy when the tokenization matches).
* ``gold_words``: every UD document becomes one Doc built from the gold words and spaces (no
  sentence starts); sentence boundaries are predicted.
* ``gold`` (default headline): gold tokenization as in UDPipe's published "gold tok" figures --
  each gold sentence is one Doc built from its gold words, i.e. gold word *and* sentence
  segmentation. ``sents_f`` is then trivially 1, so the reported ``sents_f`` comes from the
  ``gold_words`` run. Every figure is a plain accuracy over gold words.

UAS/LAS count every word including punctuation; LAS compares the universal part of the
relation (``nmod:poss`` -> ``nmod``), as in CoNLL 2018. Lemma: exact string match.
Sentence F1: a sentence counts as correct when its first and last word match exactly.
NER: micro P/R/F1 over exact (start, end, label) character spans on the UNER test split.
UNER English-EWT dev/test only annotate PER, ORG and LOC (OTH occurs only in train), so the
headline ``ner_f1`` ignores predicted OTH spans (the UNER paper likewise leaves OTHER out of
its evaluation); ``ner_f1_strict`` counts them as false positives.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import spacy
from spacy.tokens import Doc

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SHARED = REPO.parent / "shared" / "data"  # ../shared/data relative to the project root
sys.path.insert(0, str(HERE))
import convert  # noqa: E402

NER_EVAL_LABELS = ("PER", "ORG", "LOC")


def gold_docs(vocab, ud_dir: Path, uner_dir: Path, split: str = "test"):
    sents = convert.read_conllu(ud_dir / f"en_ewt-ud-{split}.conllu")
    uner = convert.read_iob2(uner_dir / f"en_ewt-ud-{split}.iob2")
    stats = convert.new_stats()
    docs = convert.build_docs(vocab, sents, uner, n_sents=10**9, stats=stats)  # whole documents
    return docs, stats


def _ud_rel(dep: str) -> str:
    dep = dep.lower()
    return "root" if dep == "root" else dep.split(":")[0]


def _deps(doc):
    """Per token: index of head (-1 for root) and universal relation."""
    out = []
    for t in doc:
        if t.dep_.lower() == "root" or t.head.i == t.i:
            out.append((-1, "root"))
        else:
            out.append((t.head.i, _ud_rel(t.dep_)))
    return out


class Counts:
    def __init__(self):
        self.c = Counter()

    def add(self, key, correct, n_pred, n_gold):
        self.c[key + "_tp"] += correct
        self.c[key + "_p"] += n_pred
        self.c[key + "_g"] += n_gold

    def prf(self, key):
        tp, p, g = self.c[key + "_tp"], self.c[key + "_p"], self.c[key + "_g"]
        prec = tp / p if p else 0.0
        rec = tp / g if g else 0.0
        f = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        return prec, rec, f


def train_mentions(uner_dir: Path) -> set[str]:
    """Lower-cased text of every entity mention in the UNER train split (for seen/unseen recall)."""
    mentions: set[str] = set()
    for tokens in convert.read_iob2(uner_dir / "en_ewt-ud-train.iob2").values():
        words: list[str] = []
        for form, tag in [*tokens, ("", "O")]:
            if words and not tag.startswith("I-"):
                mentions.add(" ".join(words).lower())
                words = []
            if tag.startswith("B-"):
                words = [form]
            elif tag.startswith("I-") and words:
                words.append(form)
    return mentions


def score_doc(pred: Doc, gold: Doc, counts: Counts, seen: frozenset[str] = frozenset()):
    assert pred.text == gold.text, "pipeline changed the text"
    gspan = {(t.idx, t.idx + len(t)): t.i for t in gold}
    p2g = {}
    for t in pred:
        k = (t.idx, t.idx + len(t))
        if k in gspan:
            p2g[t.i] = gspan[k]
    n_p, n_g = len(pred), len(gold)
    counts.add("tokens", len(p2g), n_p, n_g)
    pdeps, gdeps = _deps(pred), _deps(gold)
    c = Counter()
    for pi, gi in p2g.items():
        pt, gt = pred[pi], gold[gi]
        c["upos"] += pt.pos_ == gt.pos_
        c["xpos"] += pt.tag_ == gt.tag_
        c["ufeats"] += str(pt.morph) == str(gt.morph)
        c["lemma"] += pt.lemma_ == gt.lemma_
        ph, pr = pdeps[pi]
        gh, gr = gdeps[gi]
        head_ok = (ph == -1 and gh == -1) or (ph != -1 and p2g.get(ph, -2) == gh)
        c["uas"] += head_ok
        c["las"] += head_ok and pr == gr
    for k in ("upos", "xpos", "ufeats", "lemma", "uas", "las"):
        counts.add(k, c[k], n_p, n_g)
    # sentences: (start char, end char) of the first/last word
    ps = {(s[0].idx, s[-1].idx + len(s[-1])) for s in pred.sents}
    gs = {(s[0].idx, s[-1].idx + len(s[-1])) for s in gold.sents}
    counts.add("sents", len(ps & gs), len(ps), len(gs))
    # entities (gold test docs are fully annotated: every sentence aligns with UNER)
    gents = {(e.start_char, e.end_char, e.label_) for e in gold.ents}
    pents_all = {(e.start_char, e.end_char, e.label_) for e in pred.ents}
    pents = {e for e in pents_all if e[2] in NER_EVAL_LABELS}
    counts.add("ner", len(pents & gents), len(pents), len(gents))
    counts.add("ner_strict", len(pents_all & gents), len(pents_all), len(gents))
    # recall on gold mentions whose text was (not) an entity in train: memorised names vs. generalisation
    found = pents & gents
    for key, in_train in (("ner_seen", True), ("ner_unseen", False)):
        part = {e for e in gents if (_words(gold, e).lower() in seen) == in_train}
        counts.add(key, len(found & part), 0, len(part))
    for lab in NER_EVAL_LABELS:
        counts.add(
            "ner_" + lab,
            len({e for e in pents & gents if e[2] == lab}),
            len({e for e in pents if e[2] == lab}),
            len({e for e in gents if e[2] == lab}),
        )


def _words(doc: Doc, span: tuple[int, int, str]) -> str:
    return " ".join(t.text for t in doc.char_span(span[0], span[1]))


def run(nlp, golds, mode: str, seen: frozenset[str] = frozenset()):
    counts = Counts()
    if mode == "gold":  # one Doc per gold sentence, as in CoNLL-U input
        golds = [s.as_doc() for g in golds for s in g.sents]
    t0 = time.perf_counter()
    if mode == "predicted":
        preds = nlp.pipe((g.text for g in golds), batch_size=16)
    else:
        preds = nlp.pipe(
            (Doc(nlp.vocab, words=[t.text for t in g], spaces=[bool(t.whitespace_) for t in g]) for g in golds),
            batch_size=16,
        )
    for pred, gold in zip(preds, golds):
        score_doc(pred, gold, counts, seen)
    secs = time.perf_counter() - t0
    res = {}
    for k in ("tokens", "upos", "xpos", "ufeats", "lemma", "uas", "las", "sents"):
        res[k] = round(counts.prf(k)[2], 4)
    for k in ("ner", "ner_strict", *("ner_" + lab for lab in NER_EVAL_LABELS)):
        p, r, f = counts.prf(k)
        res[k + "_p"], res[k + "_r"], res[k + "_f1"] = round(p, 4), round(r, 4), round(f, 4)
    for k in ("ner_seen", "ner_unseen"):
        res[k + "_r"] = round(counts.prf(k)[1], 4)
    res["words_per_second"] = round(sum(len(g) for g in golds) / secs)
    return res


def machine() -> str:
    import os

    cpu = ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores {cpu} ({platform.machine()}), CPU only".replace("  ", " ")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="data/models/en_hippo_ewt")
    ap.add_argument("--ud", type=Path, default=SHARED / "ud-english-ewt")
    ap.add_argument("--uner", type=Path, default=SHARED / "uner-english-ewt")
    ap.add_argument("--split", default="test", choices=("dev", "test"))
    ap.add_argument(
        "--tokenization",
        default="gold",
        choices=("predicted", "gold"),
        help="which mode is reported in 'methods' (all modes are computed)",
    )
    ap.add_argument(
        "--train-seconds", type=float, default=None, help="default: hippo.train_seconds from the model's meta.json"
    )
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "model.json", help="'-' to skip writing")
    args = ap.parse_args(argv)

    model_path = Path(args.model)
    if not model_path.is_absolute() and not model_path.exists():
        model_path = REPO / model_path
    nlp = spacy.load(model_path)
    golds, stats = gold_docs(nlp.vocab, args.ud, args.uner, args.split)
    print(
        f"{args.split}: {stats['sents']} sentences, {stats['words']} words in {len(golds)} documents; "
        f"UNER aligned {stats['aligned']} + projected {stats['projected']}, "
        f"unaligned {stats['no_uner'] + stats['token_mismatch']}",
        file=sys.stderr,
    )
    if stats["no_uner"] + stats["token_mismatch"]:
        raise SystemExit("NER gold incomplete on this split; the scorer assumes full UNER coverage")
    seen = frozenset(train_mentions(args.uner))
    results = {mode: run(nlp, golds, mode, seen) for mode in ("predicted", "gold_words", "gold")}
    # with gold sentences the sentence score is trivially 1: take it from the gold-words run
    results["gold"]["sents"] = results["gold_words"]["sents"]

    for mode, r in results.items():
        print(
            f"[{mode} tokenization] tokens F1 {r['tokens']:.4f}  UPOS {r['upos']:.4f}  "
            f"XPOS {r['xpos']:.4f}  UFeats {r['ufeats']:.4f}  lemma {r['lemma']:.4f}  "
            f"UAS {r['uas']:.4f}  LAS {r['las']:.4f}  sents F1 {r['sents']:.4f}  "
            f"NER P/R/F1 {r['ner_p']:.4f}/{r['ner_r']:.4f}/{r['ner_f1']:.4f} "
            f"(strict, OTH counted: {r['ner_strict_f1']:.4f}; recall of names seen / unseen in train "
            f"{r['ner_seen_r']:.2f} / {r['ner_unseen_r']:.2f})  "
            f"{r['words_per_second']} words/s"
        )

    meta = nlp.meta
    train_seconds = args.train_seconds
    if train_seconds is None:
        train_seconds = (meta.get("hippo") or {}).get("train_seconds")
    main_r = results[args.tokenization]
    out = {
        "set": f"ud-english-ewt-{args.split}",
        "methods": {
            "spacy-en_hippo_ewt": {
                "upos": main_r["upos"],
                "uas": main_r["uas"],
                "las": main_r["las"],
                "ner_f1": main_r["ner_f1"],
                "lemma_acc": main_r["lemma"],
                "sents_f": main_r["sents"],
            }
        },
        "model": str(args.model),
        "tokenization": args.tokenization,
        "units": "fractions 0-1",
        "train_seconds": train_seconds,
        "machine": machine(),
        "notes": (
            "tokenization 'gold': gold words and gold sentences (one Doc per sentence, like "
            "UDPipe's gold-tok figures), sents_f from the gold-words run on whole documents; "
            "'predicted': raw document text, the pipeline's tokenizer and sentence splits "
            "(details.predicted). UAS/LAS include punctuation, LAS on universal relations (CoNLL 2018 style). "
            "With predicted tokenization, word-level figures are F1 over words aligned by "
            "character span. ner_f1: micro F1, exact spans, UNER English-EWT test, labels "
            "PER/ORG/LOC (the test split has no OTH annotation; predicted OTH spans ignored, "
            "see details.*.ner_strict_f1 for the figure that counts them as errors)."
        ),
        "details": {**results, "spacy_version": spacy.__version__, "pipeline": nlp.pipe_names},
    }
    if str(args.out) != "-":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
