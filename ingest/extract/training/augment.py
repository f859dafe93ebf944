"""Training-time data augmentation for the NER (``ner.cfg``): mention swaps, unseen-word simulation, case.

Used only by ``spacy train ... --code ingest/extract/training/augment.py``; the trained pipeline does not
need this module. Why: the UNER train split names ~8,000 entities, and the recogniser finds 89 % of the
test entities it saw in training but a third of the unseen ones -- it memorises names instead of reading
context and word shape. Each training example is, with probability ``prob``, rewritten as follows:

* every entity mention is, with probability ``swap``, replaced by another train mention of the same label
  (mention replacement, Dai & Adel 2020): the same contexts with other names;
* every token of the remaining mentions is, with probability ``scramble``, replaced by a pseudo-word with
  the same first letter, length and letter case but its other letters shuffled -- an "unseen" name whose
  only clues are its shape and context;
* every other word (annotated ``O``) is, with probability ``scramble_other``, scrambled the same way, so that
  an unknown capitalised word is not taken for a name on its shape alone;
* the whole text is, with probability ``lower``, lower-cased (web text often writes names in lower case).

Only words, spaces and entity annotation are kept (the NER trains alone); missing entity annotation stays
missing. The mention pool is read from the train corpus file itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import registry


def mention_pool(path: Path, vocab) -> dict[str, list[tuple[list[str], list[bool]]]]:
    """Label -> list of (words, spaces) of every entity mention in the corpus."""
    pool: dict[str, list[tuple[list[str], list[bool]]]] = {}
    for doc in DocBin().from_disk(path).get_docs(vocab):
        for ent in doc.ents:
            words = [t.text for t in ent]
            spaces = [bool(t.whitespace_) for t in ent[:-1]] + [False]
            pool.setdefault(ent.label_, []).append((words, spaces))
    return pool


def scramble_word(word: str, rng: random.Random) -> str:
    """Same first character, length and per-position case; the other letters shuffled."""
    if len(word) < 3 or not word.isalpha():
        return word
    rest = [c.lower() for c in word[1:]]
    rng.shuffle(rest)
    return word[0] + "".join(c.upper() if o.isupper() else c for c, o in zip(rest, word[1:]))


def augment_doc(
    doc: Doc, pool, rng: random.Random, swap: float, scramble: float, lower: float, scramble_other: float = 0.0
) -> Doc:
    """A new Doc with swapped/scrambled mentions (and maybe lower-cased); entity annotation carried over."""
    words: list[str] = []
    spaces: list[bool] = []
    tags: list[str] = []
    lowercase = rng.random() < lower
    i = 0
    starts = {ent.start: ent for ent in doc.ents}
    while i < len(doc):
        ent = starts.get(i)
        if ent is None:
            token = doc[i]
            outside = token.ent_iob == 2
            words.append(scramble_word(token.text, rng) if outside and rng.random() < scramble_other else token.text)
            spaces.append(bool(token.whitespace_))
            tags.append("O" if outside else "")  # ent_iob 0: missing annotation
            i += 1
            continue
        if rng.random() < swap and pool.get(ent.label_):
            new_words, new_spaces = rng.choice(pool[ent.label_])
            new_spaces = [*new_spaces[:-1], bool(ent[-1].whitespace_)]
        else:
            new_words = [scramble_word(t.text, rng) if rng.random() < scramble else t.text for t in ent]
            new_spaces = [bool(t.whitespace_) for t in ent]
        words.extend(new_words)
        spaces.extend(new_spaces)
        tags.extend([f"B-{ent.label_}"] + [f"I-{ent.label_}"] * (len(new_words) - 1))
        i = ent.end
    if lowercase:
        words = [w.lower() for w in words]
    return Doc(doc.vocab, words=words, spaces=spaces, ents=tags)


@registry.augmenters("hippo.ner_augment.v1")
def create_ner_augmenter(
    corpus: str, prob: float, swap: float, scramble: float, lower: float, scramble_other: float = 0.0, seed: int = 0
) -> Callable[[Language, Example], Iterator[Example]]:
    """Augmenter for ``[corpora.train.augmenter]``; ``corpus`` is the train .spacy file (the mention pool)."""
    rng = random.Random(seed)
    pools: dict[int, dict] = {}

    def augment(nlp: Language, example: Example) -> Iterator[Example]:
        if rng.random() >= prob:
            yield example
            return
        pool = pools.get(id(nlp.vocab))
        if pool is None:
            pool = pools[id(nlp.vocab)] = mention_pool(Path(corpus), nlp.vocab)
        ref = augment_doc(example.reference, pool, rng, swap, scramble, lower, scramble_other)
        yield Example(nlp.make_doc(ref.text), ref)

    return augment
