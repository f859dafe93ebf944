"""Offline summary and keyword units: what MemGAS asks an LLM for, made by extraction.

- :func:`extractive_summary`: the ``size`` pieces (turns of a session, or sentences of a document)
  nearest the centroid of all its pieces, kept in their original order. With piece vectors (a
  session's turn embeddings) "nearest" is by cosine in embedding space; without, by cosine of
  bag-of-words vectors, so a plain document costs no extra embedding.
- :func:`extract_keywords`: n-grams of 1-3 words ranked by TF-IDF, where the "documents" of the
  IDF are the pieces of the text itself (a term spread over every turn counts a little less than
  one concentrated where it is discussed; smoothed as scikit-learn does, ``ln((1+N)/(1+df)) + 1``).
  A phrase must not start or end with a stop word; phrases of 2-3 words must occur twice; a
  phrase overlapping a better one is dropped. Deterministic: ties go to the first occurrence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

__all__ = ["STOPWORDS", "extract_keywords", "extractive_summary", "strip_label", "words"]

_CHAT_FILLERS = (
    "hey", "hi", "hello", "yeah", "yes", "yep", "oh", "wow", "ok", "okay", "thanks", "thank", "really", "great",
    "good", "awesome", "amazing", "glad", "sure", "lol", "haha", "totally", "definitely", "also", "would", "could",
    "get", "got", "gonna", "one", "like", "know", "think", "lot", "much", "well", "even", "still", "always", "never",
    "way", "thing", "things", "something", "anything", "everything", "im", "i'm", "i've", "i'd", "i'll", "you're",
    "you've", "it's", "that's", "let's", "what's", "there's", "can't", "cant", "dont", "didnt", "going", "go", "make",
    "made", "see", "take", "let", "want", "feel", "us", "may", "might", "must", "shall", "many", "every", "another",
    "said", "says", "say", "maybe", "kind", "pretty", "bit", "right", "tell", "told", "new", "time", "times", "day",
    "days", "lately", "soon", "yesterday", "today", "tomorrow", "image", "photo", "picture",
)


def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS) | frozenset(_CHAT_FILLERS)


STOPWORDS = _stopwords()
"""English stop words (bm25s's list) plus everyday chat fillers; never the edge of a keyword."""

_WORD = re.compile(r"[^\W_](?:[\w'-]*[^\W_])?")
_CLAUSE_BREAK = re.compile(r"[.,!?;:()\[\]\"“”…—–/\n]+")
_LABEL = re.compile(r"^[^:\n]{1,40}:\s+")


def words(text: str) -> list[str]:
    """Lower-cased words of ``text``; curly apostrophes straightened, a possessive ``'s`` dropped.

    >>> words("Caroline’s LGBTQ support-group, again!")
    ['caroline', 'lgbtq', 'support-group', 'again']
    """
    out = []
    for word in _WORD.findall(text.replace("’", "'").casefold()):
        out.append(word[:-2] if word.endswith("'s") else word)
    return out


def strip_label(text: str) -> str:
    """A turn's text without its leading ``Speaker:`` label."""
    return _LABEL.sub("", text, count=1)


def extractive_summary(pieces: Sequence[str], vectors: np.ndarray | None = None, *, size: int = 3,
                       exclude: Sequence[str] = ()) -> str:
    """The ``size`` pieces nearest the centroid of all pieces, in their original order, joined by spaces.

    Parameters
    ----------
    pieces : sequence of str
        The turns of a session, or the sentences of a document.
    vectors : numpy.ndarray, shape (len(pieces), d), optional
        Unit-length piece embeddings; bag-of-words vectors are used when omitted.
    size : int, default 3
        Pieces kept (MemGAS's offline substitute: top 3).
    exclude : sequence of str
        Words left out of the bag-of-words vectors (a conversation's speaker names).

    Examples
    --------
    >>> extractive_summary(["Ann bakes bread.", "The weather is nice.", "Ann sells bread.", "Bread is good."], size=2)
    'Ann bakes bread. Ann sells bread.'
    """
    pieces = [p for p in pieces if p.strip()]
    if len(pieces) <= size:
        return " ".join(pieces)
    matrix = np.asarray(vectors, dtype=np.float64) if vectors is not None else _bag_of_words(pieces, exclude)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    closeness = matrix @ matrix.mean(axis=0)
    chosen = np.sort(np.argsort(-closeness, kind="stable")[:size])
    return " ".join(pieces[i] for i in chosen)


def _bag_of_words(pieces: Sequence[str], exclude: Sequence[str] = ()) -> np.ndarray:
    skip = STOPWORDS | {w for name in exclude for w in words(name)}
    counts = [Counter(w for w in words(p) if w not in skip) for p in pieces]
    vocabulary = {w: i for i, w in enumerate(dict.fromkeys(w for c in counts for w in c))}
    matrix = np.zeros((len(pieces), max(len(vocabulary), 1)))
    for row, count in enumerate(counts):
        for word, n in count.items():
            matrix[row, vocabulary[word]] = n
    return matrix


def extract_keywords(pieces: Sequence[str], *, top: int = 10, exclude: Sequence[str] = ()) -> list[str]:
    """Up to ``top`` key phrases of the text made of ``pieces``, best first (see the module docstring).

    Words of ``exclude`` (a conversation's speaker names) are never part of a phrase.

    Examples
    --------
    >>> extract_keywords(["I joined a pottery class.", "The pottery class meets on Fridays.", "Pottery is fun."], top=3)
    ['pottery class', 'joined', 'meets']
    """
    tf: Counter[tuple[str, ...]] = Counter()
    df: Counter[tuple[str, ...]] = Counter()
    first: dict[tuple[str, ...], int] = {}
    shown: dict[tuple[str, ...], str] = {}
    banned = {w for name in exclude for w in words(name)}
    for piece in pieces:
        seen: set[tuple[str, ...]] = set()
        for clause in _CLAUSE_BREAK.split(piece):
            tokens = words(clause)
            for n in (1, 2, 3):
                for i in range(len(tokens) - n + 1):
                    gram = tuple(tokens[i:i + n])
                    if not _candidate(gram) or banned.intersection(gram):
                        continue
                    tf[gram] += 1
                    seen.add(gram)
                    first.setdefault(gram, len(first))
                    shown.setdefault(gram, " ".join(gram))
        df.update(seen)
    n_pieces = len(pieces)
    scored = []
    for gram, count in tf.items():
        if len(gram) > 1 and count < 2:
            continue
        idf = math.log((1 + n_pieces) / (1 + df[gram])) + 1.0
        scored.append((-count * idf * len(gram), first[gram], gram))
    chosen: list[tuple[str, ...]] = []
    for _, _, gram in sorted(scored):
        if any(_overlaps(gram, other) for other in chosen):
            continue
        chosen.append(gram)
        if len(chosen) == top:
            break
    return [shown[g] for g in chosen]


def _candidate(gram: tuple[str, ...]) -> bool:
    if gram[0] in STOPWORDS or gram[-1] in STOPWORDS:
        return False
    if len(gram) == 1:
        return len(gram[0]) >= 3 and not gram[0].isdigit()
    return len(set(gram)) == len(gram)


def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """One phrase is a contiguous part of the other."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return any(long[i:i + len(short)] == short for i in range(len(long) - len(short) + 1))
