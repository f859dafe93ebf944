"""Answer metrics: exact match and token F1 with SQuAD normalisation, the best over a question's aliases.

As HippoRAG 2 scores QA (``qa_eval.py``, MRQA/SQuAD style): lower case, punctuation removed, the
articles a/an/the removed, white space collapsed; EM is equality after that, F1 the token overlap;
both take the maximum over the gold answers, then the mean over questions.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable

__all__ = ["answer_em", "answer_f1", "normalize_answer"]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation.

    >>> normalize_answer("The  River Ondrel.")
    'river ondrel'
    """
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def answer_em(prediction: str, golds: Iterable[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer.

    >>> answer_em("Kettleby.", ["kettleby"])
    1.0
    """
    pred = normalize_answer(prediction)
    return max((float(pred == normalize_answer(g)) for g in golds), default=0.0)


def answer_f1(prediction: str, golds: Iterable[str]) -> float:
    """Token F1 of the normalised prediction against the best gold answer.

    >>> round(answer_f1("the Pellworth works", ["Pellworth Optical Works"]), 3)
    0.8
    """
    return max((_f1(normalize_answer(prediction).split(), normalize_answer(g).split()) for g in golds), default=0.0)


def _f1(pred: list[str], gold: list[str]) -> float:
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)
