"""Entity labels beyond the NER's, shared by every extractor and the graph.

An entity's label says what kind of node it is. NER labels (PER, ORG, LOC, OTH; OntoNotes'
PERSON, GPE, ...) and ``PROPN`` (a proper noun the NER did not label) are names; ``DATE``,
``NUM`` and ``QUANTITY`` are numbers; ``NOUN`` marks a common-noun phrase, a node for facts that
is never a name. Retrieval seeds names from facts, numbers only when the question writes them
(see :mod:`hippo.retrieval.hipporag`), and never common nouns.
"""

from __future__ import annotations

import re

__all__ = ["COMMON", "DATE", "NUM", "QUANTITY", "PROPN", "NAMED_LABELS", "NUMERIC_LABELS", "MONTHS", "YEAR",
           "MAX_TITLE_WORDS", "label_rank", "title_label"]

COMMON, DATE, NUM, QUANTITY, PROPN = "NOUN", "DATE", "NUM", "QUANTITY", "PROPN"
NUMERIC_LABELS = frozenset({DATE, NUM, QUANTITY})
NAMED_LABELS = frozenset({"PER", "ORG", "LOC", "OTH", "PERSON", "GPE", "NORP", "FAC", "PRODUCT", "EVENT",
                          "WORK_OF_ART", "LAW", "LANGUAGE", "MISC", PROPN})
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
          "dec"}
YEAR = re.compile(r"^(1[0-9]{3}|20[0-9]{2})s?$")
MAX_TITLE_WORDS = 10
"""A longer title is a sentence or a headline, not a name: the title rule skips it."""


def label_rank(label: str | None) -> int:
    """How much a label says: an NER label beats PROPN, which beats a number class, then a common noun.

    When one name is mentioned several times with different labels the graph keeps the highest.
    """
    if label is None:
        return 0
    if label == COMMON:
        return 1
    if label in NUMERIC_LABELS:
        return 2
    return 3 if label == PROPN else 4


def title_label(title: str) -> str | None:
    """``PROPN`` when a document title reads as a name; None for a date, a number or a non-name.

    >>> [title_label(t) for t in ("Jung Eun-ji", "1871", "March 3, 1999", "the weather", "The Marren Observatory")]
    ['PROPN', None, None, None, 'PROPN']
    """
    words = title.split()
    if words and words[0].casefold() in ("the", "a", "an") and len(words) > 1:
        words = words[1:]
    if not words or len(words) > MAX_TITLE_WORDS or not words[0][:1].isupper():
        return None
    if all(w.strip(",.").casefold() in MONTHS or w.strip(",.").isdigit() or YEAR.match(w.strip(",."))
           for w in words):
        return None
    return PROPN
