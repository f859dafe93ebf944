"""Linking the names written in a query to entity nodes, by exact normalised match.

HippoRAG 2 reaches entities only through query-to-fact similarity, so an entity named in the
question is missed whenever no extracted fact about it resembles the question (for instance when
the parser mangled the sentence that states it). HippoRAG 2's own ablation (Table 4, "NER to
node") shows linking the query's names directly helps on 2Wiki. hippo keeps the fact route and
adds this one: every run of query words that equals a *named* entity's normalised name (the
longest match wins, left to right) seeds that entity, when the match is at least two words or
the whole name as the query writes it (its whole run of capitalised words): "Jiménez" in "Who
directed Juan Jiménez's film?" is part of a name, and linking it alone would seed every other
Jiménez. Named means the entity's label is a name's (:data:`~hippo.ingest.extract.labels.NAMED_LABELS`)
or, for entities without a label (other extractors, older stores), that its display form starts
with an upper-case letter; dates and numbers link too, since the query writes them, but
:attr:`NameIndex.named` leaves them out of the entities seeded from facts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from hippo.ingest.extract.labels import COMMON, NAMED_LABELS, NUMERIC_LABELS
from hippo.text import ALNUM

__all__ = ["NameIndex", "build_name_index", "link_names", "is_named", "name_kind"]

MAX_WORDS = 10
WORD = re.compile(r"[^\W_]+", re.UNICODE)
QUESTION_WORDS = {"who", "whom", "whose", "what", "when", "where", "which", "why", "how", "is", "are", "was",
                  "were", "did", "does", "do", "in", "on", "the", "a", "an", "of", "and", "or", "to", "for", "from",
                  "by", "at", "with", "as", "between", "both", "if", "has", "have", "had", "can", "could", "would",
                  "will", "name", "tell", "list", "give", "find"}


def is_named(display: str) -> bool:
    """Whether an entity's display form is a name (or a date or number), not a generic noun phrase.

    >>> [is_named(d) for d in ("the University of Coldbrook", "1871", "part", "an astronomical observatory")]
    [True, True, False, False]
    """
    words = display.split(maxsplit=1)
    if len(words) == 2 and words[0].casefold() in ("the", "a", "an"):
        display = words[1]
    return display[:1].isupper() or display[:1].isdigit()


def name_kind(label: str | None, display: str) -> str:
    """``"name"``, ``"number"`` or ``"common"`` for an entity (see the module docstring)."""
    if label in NUMERIC_LABELS:
        return "number"
    if label == COMMON:
        return "common"
    if label in NAMED_LABELS or (label is None and display[:1].isupper()):
        return "name"
    return "number" if label is None and display[:1].isdigit() else "common"


@dataclass(frozen=True)
class NameIndex:
    """Normalised names of linkable entities (names, dates, numbers) mapped to their entity rows, and the
    rows of the names among them (the only entities seeded from facts)."""

    rows: dict[str, int]
    named: frozenset[int] = frozenset()


def build_name_index(ids: list[str], names: list[str], displays: list[str], row_of: dict[str, int],
                     labels: dict[str, str | None] | None = None) -> NameIndex:
    """The index over named (and numeric) entities whose name has more than two letters or digits.

    ``labels`` maps entity ids to their labels; without it (or for an id it lacks) the display
    form decides, as :func:`is_named` does.
    """
    labels = labels or {}
    rows, named = {}, set()
    for entity_id, name, display in zip(ids, names, displays):
        row = row_of.get(entity_id)
        if row is None or len(ALNUM.findall(name)) <= 2:
            continue
        kind = name_kind(labels.get(entity_id), display) if entity_id in labels else (
            "name" if is_named(display) else "common")
        if kind == "common":
            continue
        rows[name] = row
        if kind == "name":
            named.add(row)
    return NameIndex(rows, frozenset(named))


def _query_words(query: str) -> tuple[list[str], list[int]]:
    """The query's words case-folded, and for each the id of the capitalised run it is in (-1: none)."""
    words = WORD.findall(unicodedata.normalize("NFKC", query))
    runs, run, previous = [], 0, False
    for word in words:
        capital = (word[:1].isupper() or word[:1].isdigit()) and word.casefold() not in QUESTION_WORDS
        if capital and not previous:
            run += 1
        runs.append(run if capital else -1)
        previous = capital
    return [w.casefold() for w in words], runs


def link_names(query: str, index: NameIndex) -> np.ndarray:
    """Entity rows named in ``query``: longest matches first, left to right, without overlap.

    A one-word match counts only when it is the whole capitalised name the query writes there.

    >>> link_names("When did Lothair II's mother die?", NameIndex({"lothair ii": 7, "lothair": 3}))
    array([7])
    >>> link_names("Who is the father of Juan Jiménez?", NameIndex({"jiménez": 3}))
    array([], dtype=int64)
    >>> link_names("Where was Ada born?", NameIndex({"where": 1, "ada": 2, "born": 3}))
    array([2])
    """
    words, runs = _query_words(query)
    found: list[int] = []
    start = 0
    while start < len(words):
        for length in range(min(MAX_WORDS, len(words) - start), 0, -1):
            row = index.rows.get(" ".join(words[start:start + length]))
            if row is not None and (length > 1 or _whole_run(runs, start)):
                found.append(row)
                start += length
                break
        else:
            start += 1
    return np.array(list(dict.fromkeys(found)), dtype=np.int64)


def _whole_run(runs: list[int], at: int) -> bool:
    """Whether the word at ``at`` is a capitalised run on its own.

    A lower-case word or a question word never links alone: the graph holds junk entities named
    "where", "who" or "born" (a parser's misreadings), and linking them from every "Where was X
    born?" seeded the same unrelated articles at the top of every such question's hits.
    """
    run = runs[at]
    if run < 0:
        return False
    return (at == 0 or runs[at - 1] != run) and (at + 1 == len(runs) or runs[at + 1] != run)
