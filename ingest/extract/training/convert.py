"""Convert UD English-EWT (CoNLL-U) + UNER English-EWT (IOB2) into spaCy DocBin files.

Usage:
    python ingest/extract/training/convert.py [--ud DIR] [--uner DIR] [--out DIR] [--n-sents N]

For each split (train/dev/test) this writes ``<out>/<split>.spacy``. Every Doc holds up to
``--n-sents`` consecutive sentences of one UD document (``# newdoc``), so the parser learns
sentence boundaries. Per token it carries: ORTH + whitespace (from ``SpaceAfter=No`` and
multiword-token ranges), UPOS (``pos_``), XPOS (``tag_``), FEATS (``morph``), LEMMA, HEAD and
DEPREL (``root`` -> ``ROOT``), sentence starts, and -- where the UNER sentence aligns --
the named entities (PER, ORG, LOC, OTH). Sentences without an aligned UNER sentence keep
their entity annotation *missing* (not ``O``), so they don't teach the NER anything.

Alignment: UNER lines are matched to UD sentences by ``# sent_id`` (the UNER dev/test files list
the sentences in a different order than UD). A match is exact when the UNER token sequence equals
the UD *syntactic word* sequence (multiword-token range lines ``1-2`` and empty nodes ``8.1`` are
skipped on the UD side). When only the tokenisation differs (UNER was built on an older EWT
release, e.g. ``#audiobooks`` vs ``# audiobooks``) but the characters agree, the entities are
projected onto the UD words by character offsets; otherwise the sentence's entities are missing.
The UNER train file uses the (invalid) tag ``B-O``; it is read as ``O``.

Writes ``<out>/convert_report.json`` with the alignment statistics.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import spacy
from spacy.tokens import Doc, DocBin, Span

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SHARED = REPO.parent / "shared" / "data"  # ../shared/data relative to the project root
SPLITS = ("train", "dev", "test")
LABELS = ("PER", "ORG", "LOC", "OTH")


def read_conllu(path: Path) -> list[dict]:
    """Return sentences as dicts: sent_id, doc_id, par_start, text, words[list of dict]."""
    sents = []
    doc_id = None
    cur = None

    def flush():
        nonlocal cur
        if cur is not None and cur["words"]:
            sents.append(cur)
        cur = None

    with path.open(encoding="utf8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                flush()
                continue
            if cur is None:
                cur = {"sent_id": None, "doc_id": doc_id, "par_start": False, "text": None, "words": [], "mwt_end": {}}
            if line.startswith("#"):
                key, _, val = line[1:].partition("=")
                key, val = key.strip(), val.strip()
                if key == "newdoc id" or key == "newdoc":
                    doc_id = val
                    cur["doc_id"] = val
                    cur["par_start"] = True
                elif key == "newpar id" or key == "newpar":
                    cur["par_start"] = True
                elif key == "sent_id":
                    cur["sent_id"] = val
                elif key == "text":
                    cur["text"] = val
                continue
            cols = line.split("\t")
            if len(cols) != 10:
                raise ValueError(f"{path}: bad line {line!r}")
            tid = cols[0]
            if "." in tid:  # empty node (enhanced deps only)
                continue
            misc = cols[9]
            no_space = "SpaceAfter=No" in misc.split("|")
            if "-" in tid:  # multiword token: spacing of the surface token
                start, end = (int(x) for x in tid.split("-"))
                cur["mwt_end"][end] = no_space
                for i in range(start, end):
                    cur.setdefault("mwt_inner", set()).add(i)
                continue
            cur["words"].append(
                {
                    "id": int(tid),
                    "form": cols[1],
                    "lemma": cols[2],
                    "upos": cols[3],
                    "xpos": cols[4],
                    "feats": cols[5],
                    "head": int(cols[6]),
                    "deprel": cols[7],
                    "no_space": no_space,
                }
            )
    flush()
    # resolve spaces: inside a multiword token there is never a space; the token's last
    # word takes the SpaceAfter of the range line.
    for s in sents:
        inner = s.pop("mwt_inner", set())
        mwt_end = s.pop("mwt_end")
        for w in s["words"]:
            if w["id"] in inner:
                w["space"] = False
            elif w["id"] in mwt_end:
                w["space"] = not mwt_end[w["id"]]
            else:
                w["space"] = not w["no_space"]
    return sents


def new_stats() -> dict:
    """Counters ``build_docs`` fills: sentences, words, alignment outcomes (with ids) and entities by label."""
    return {
        "sents": 0,
        "words": 0,
        "docs": 0,
        "aligned": 0,
        "no_uner": 0,
        "token_mismatch": 0,
        "no_uner_ids": [],
        "mismatch_ids": [],
        "projected": 0,
        "projected_ids": [],
        "ents": Counter(),
    }


def read_iob2(path: Path) -> dict[str, list[tuple[str, str]]]:
    """sent_id -> [(form, tag)]; B-O is read as O."""
    out: dict[str, list[tuple[str, str]]] = {}
    order = []
    sid = None
    toks: list[tuple[str, str]] = []

    def flush():
        nonlocal sid, toks
        if sid is not None and toks:
            if sid in out:
                raise ValueError(f"{path}: duplicate sent_id {sid}")
            out[sid] = toks
            order.append(sid)
        sid, toks = None, []

    with path.open(encoding="utf8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                flush()
                continue
            if line.startswith("#"):
                key, _, val = line[1:].partition("=")
                if key.strip() == "sent_id":
                    sid = val.strip()
                continue
            cols = line.split("\t")
            tag = cols[2]
            if tag in ("B-O", "I-O"):
                tag = "O"
            toks.append((cols[1], tag))
    flush()
    return out


def iob_to_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """IOB2 -> [(start, end, label)]; a stray I- starts a new entity (conlleval style)."""
    spans = []
    start = label = None
    for i, t in enumerate([*tags, "O"]):
        if t == "O" or t.startswith("B-") or (t.startswith("I-") and t[2:] != label):
            if start is not None:
                spans.append((start, i, label))
                start = label = None
            if t != "O":
                start, label = i, t[2:]
    return spans


def project_spans(uner_toks: list[tuple[str, str]], forms: list[str]):
    """Project UNER entities onto UD words when only the tokenisation differs.

    Works when both token sequences spell the same characters (ignoring whitespace); an
    entity covers every UD word that overlaps its characters. Returns None otherwise.
    """
    if "".join(f for f, _ in uner_toks) != "".join(forms):
        return None
    tags = [t for _, t in uner_toks]
    for t in tags:
        if t != "O" and (t[:2] not in ("B-", "I-") or t[2:] not in LABELS):
            raise ValueError(f"unexpected tag {t}")
    u_off, pos = [], 0
    for f, _ in uner_toks:
        u_off.append((pos, pos + len(f)))
        pos += len(f)
    char2word, pos = [], 0
    for i, f in enumerate(forms):
        char2word.extend([i] * len(f))
    spans = []
    for a, b, lab in iob_to_spans(tags):
        start = char2word[u_off[a][0]]
        end = char2word[u_off[b - 1][1] - 1] + 1
        if spans and start < spans[-1][1]:  # two entities inside one UD word: keep the first
            continue
        spans.append((start, end, lab))
    return spans


def build_docs(vocab, sents, uner, n_sents, stats) -> list[Doc]:
    """Group sentences into Docs of <= n_sents sentences within one UD document."""
    docs: list[Doc] = []
    chunk: list[dict] = []

    def emit():
        if not chunk:
            return
        words, spaces, pos, tags, lemmas, morphs, heads, deps, starts = ([] for _ in range(9))
        ents: list[tuple[int, int, str]] = []
        known = []  # token ranges of sentences with an aligned UNER annotation
        offset = 0
        for s in chunk:
            n = len(s["words"])
            for j, w in enumerate(s["words"]):
                words.append(w["form"])
                spaces.append(w["space"])
                pos.append(w["upos"])
                tags.append(w["xpos"] if w["xpos"] != "_" else "")
                lemmas.append(w["lemma"])
                morphs.append(w["feats"] if w["feats"] != "_" else "")
                if w["head"] == 0:
                    heads.append(offset + j)
                    deps.append("ROOT")
                else:
                    heads.append(offset + w["head"] - 1)
                    deps.append(w["deprel"])
                starts.append(j == 0)
            if s.get("ents") is not None:
                known.append((offset, offset + n))
                ents.extend((offset + a, offset + b, lab) for a, b, lab in s["ents"])
            offset += n
        spaces[-1] = False
        doc = Doc(
            vocab,
            words=words,
            spaces=spaces,
            pos=pos,
            tags=tags,
            lemmas=lemmas,
            morphs=morphs,
            heads=heads,
            deps=deps,
            sent_starts=starts,
        )
        in_ent = set()
        for a, b, _ in ents:
            in_ent.update(range(a, b))
        outside = [doc[k : k + 1] for a, b in known for k in range(a, b) if k not in in_ent]
        doc.set_ents([Span(doc, a, b, label=lab) for a, b, lab in ents], outside=outside, default="missing")
        docs.append(doc)
        chunk.clear()

    prev_doc = object()
    for s in sents:
        if s["doc_id"] != prev_doc or len(chunk) >= n_sents:
            emit()
            prev_doc = s["doc_id"]
        u = uner.get(s["sent_id"])
        forms = [w["form"] for w in s["words"]]
        if u is None:
            stats["no_uner"] += 1
            stats["no_uner_ids"].append(s["sent_id"])
        elif [f for f, _ in u] != forms:
            spans = project_spans(u, forms)
            if spans is None:
                stats["token_mismatch"] += 1
                stats["mismatch_ids"].append(s["sent_id"])
            else:
                s["ents"] = spans
                stats["projected"] += 1
                stats["projected_ids"].append(s["sent_id"])
                for _, _, lab in spans:
                    stats["ents"][lab] += 1
        else:
            tags = [t for _, t in u]
            bad = [t for t in tags if t != "O" and (t[:2] not in ("B-", "I-") or t[2:] not in LABELS)]
            if bad:
                raise ValueError(f"unexpected tags {bad} in {s['sent_id']}")
            s["ents"] = iob_to_spans(tags)
            stats["aligned"] += 1
            for _, _, lab in s["ents"]:
                stats["ents"][lab] += 1
        stats["sents"] += 1
        stats["words"] += len(forms)
        chunk.append(s)
    emit()
    stats["docs"] = len(docs)
    return docs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ud", type=Path, default=SHARED / "ud-english-ewt")
    ap.add_argument("--uner", type=Path, default=SHARED / "uner-english-ewt")
    ap.add_argument("--out", type=Path, default=REPO / "build" / "spacy")
    ap.add_argument("--n-sents", type=int, default=10, help="sentences per Doc (within one UD document)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    nlp = spacy.blank("en")
    report = {}
    for split in SPLITS:
        sents = read_conllu(args.ud / f"en_ewt-ud-{split}.conllu")
        uner = read_iob2(args.uner / f"en_ewt-ud-{split}.iob2")
        stats = new_stats()
        ud_ids = {s["sent_id"] for s in sents}
        docs = build_docs(nlp.vocab, sents, uner, args.n_sents, stats)
        stats["uner_sents"] = len(uner)
        stats["uner_not_in_ud"] = sorted(set(uner) - ud_ids)
        # sentence order check: UNER order equals UD order on the shared ids
        uner_order = [sid for sid in uner if sid in ud_ids]
        ud_order = [s["sent_id"] for s in sents if s["sent_id"] in uner]
        stats["same_order"] = uner_order == ud_order
        stats["ents"] = dict(stats["ents"])
        DocBin(store_user_data=False, docs=docs).to_disk(args.out / f"{split}.spacy")
        report[split] = stats
        print(
            f"{split}: {stats['sents']} UD sentences, {stats['words']} words, {stats['docs']} docs; "
            f"UNER sentences {stats['uner_sents']}, aligned {stats['aligned']} exactly "
            f"+ {stats['projected']} projected over tokenisation differences, "
            f"no UNER sentence {stats['no_uner']}, token mismatch {stats['token_mismatch']} "
            f"{stats['mismatch_ids'][:5]}, UNER ids not in UD {stats['uner_not_in_ud'][:5]}, "
            f"same order {stats['same_order']}, entities {stats['ents']}",
            file=sys.stderr,
        )
    (args.out / "convert_report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
