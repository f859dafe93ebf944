"""Extractive answers: the sentences of the top passages that best match the question.

Used whenever no LLM is configured. It never invents text: every sentence of the answer
is quoted from a retrieved passage and carries that passage as its source.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hippo.embed import Embedder
from hippo.model import Answer, Hit, Source
from hippo.text import count_tokens, split_sentences

__all__ = ["extractive_answer"]

MIN_SENTENCE_TOKENS = 4


def extractive_answer(question: str, hits: Sequence[Hit], embedder: Embedder, *, sentences: int = 2,
                      passages: int = 3) -> Answer:
    """The ``sentences`` best-matching sentences of the top ``passages`` hits.

    A sentence's score is its cosine similarity to the question plus a small bonus for
    the rank of its passage (0.05 for the first, shrinking as 1/rank), so that between
    two equally close sentences the better-retrieved evidence wins.
    """
    candidates: list[tuple[str, Hit, float]] = []
    for rank, hit in enumerate(hits[:passages], start=1):
        body = hit.text.split("\n", 1)[1] if hit.title and hit.text.startswith(hit.title + "\n") else hit.text
        for sentence in split_sentences(body):
            if count_tokens(sentence) >= MIN_SENTENCE_TOKENS:
                candidates.append((sentence, hit, 0.05 / rank))
    if not candidates:
        return Answer(question, "", "extractive", (), tuple(hits))
    vectors = embedder.encode([question] + [c[0] for c in candidates])
    scores = vectors[1:] @ vectors[0] + np.array([c[2] for c in candidates], dtype=np.float32)
    chosen = np.argsort(-scores, kind="stable")[:sentences]
    sources = tuple(
        Source(sentence=candidates[i][0], passage_id=candidates[i][1].passage_id, doc_id=candidates[i][1].doc_id,
               title=candidates[i][1].title, source=candidates[i][1].source, score=float(scores[i]))
        for i in chosen
    )
    return Answer(question, " ".join(s.sentence for s in sources), "extractive", sources, tuple(hits))
