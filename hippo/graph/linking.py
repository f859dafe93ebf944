"""Linking the names written in a query to entity nodes, by exact normalised match.

HippoRAG 2 reaches entities only through query-to-fact similarity, so an entity named in the
question is missed whenever no extracted fact about it resembles the question (for instance when
the parser mangled the sentence that states it). HippoRAG 2's own ablation (Table 4, "NER to
node") shows linking the query's names directly helps on 2Wiki. hippo keeps the fact route and
adds this one: every run of query words that equals a *named* entity's normalised name (the
longest match wins, left to right) seeds that entity. Named means its display form starts with
an upper-case letter or a digit, so generic noun phrases ("the film", "a director") never link.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hippo.text import ALNUM, normalize_name

__all__ = ["NameIndex", "build_name_index", "link_names", "is_named"]

MAX_WORDS = 10


def is_named(display: str) -> bool:
    """Whether an entity's display form is a name (or a date or number), not a generic noun phrase.

    >>> [is_named(d) for d in ("the University of Coldbrook", "1871", "part", "an astronomical observatory")]
    [True, True, False, False]
    """
    words = display.split(maxsplit=1)
    if len(words) == 2 and words[0].casefold() in ("the", "a", "an"):
        display = words[1]
    return display[:1].isupper() or display[:1].isdigit()


@dataclass(frozen=True)
class NameIndex:
    """Normalised names of named entities mapped to their entity rows, and the set of those rows."""

    rows: dict[str, int]
    named: frozenset[int] = frozenset()


def build_name_index(ids: list[str], names: list[str], displays: list[str], row_of: dict[str, int]) -> NameIndex:
    """The index over entities that are named and whose name has more than two letters or digits."""
    rows = {}
    for entity_id, name, display in zip(ids, names, displays):
        row = row_of.get(entity_id)
        if row is None or len(ALNUM.findall(name)) <= 2:
            continue
        if is_named(display):
            rows[name] = row
    return NameIndex(rows, frozenset(rows.values()))


def link_names(query: str, index: NameIndex) -> np.ndarray:
    """Entity rows named in ``query``: longest matches first, left to right, without overlap.

    >>> link_names("When did Lothair II's mother die?", NameIndex({"lothair ii": 7, "lothair": 3}))
    array([7])
    """
    words = normalize_name(query).split()
    found: list[int] = []
    start = 0
    while start < len(words):
        for length in range(min(MAX_WORDS, len(words) - start), 0, -1):
            row = index.rows.get(" ".join(words[start:start + length]))
            if row is not None:
                found.append(row)
                start += length
                break
        else:
            start += 1
    return np.array(list(dict.fromkeys(found)), dtype=np.int64)
