"""The retrieval methods in plain words: what each does, when to choose it, what its score means.

The Ask page shows these instead of the modules' docstrings, which are written for developers.
A method registered later without an entry here is still offered, under its own name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["METHOD_INFO", "MethodInfo", "label", "method_help", "score_meaning"]


class MethodInfo(NamedTuple):
    label: str
    does: str
    choose: str
    score: str


METHOD_INFO: dict[str, MethodInfo] = {
    "dense": MethodInfo(
        "Meaning (dense)", "finds passages whose meaning is closest to the question",
        "a fast first try; questions about one fact stated in one place",
        "cosine similarity between the question and the passage, from -1 to 1"),
    "bm25": MethodInfo(
        "Keywords (bm25)", "finds passages that share the question's rarer words",
        "exact names, codes or phrases that must appear in the text",
        "BM25 keyword score; grows with matching rare words, no upper bound"),
    "hipporag": MethodInfo(
        "Graph walk (hipporag)", "starts at the entities named in the question and walks the graph of facts to "
        "the passages linked to them",
        "questions that need two or more facts joined (\"the village where the founder of X was born\")",
        "share of a random walk (PageRank) that ends at the passage; the scores of one answer sum to at most 1"),
    "comorag": MethodInfo(
        "Probing (comorag)", "asks follow-up questions about what the first passages mention and merges "
        "everything found",
        "long stories or questions whose missing piece is only named in another passage; slower",
        "agreement of several rankings (reciprocal-rank fusion); only the order means something"),
    "memgas": MethodInfo(
        "Memory (memgas)", "ranks conversation turns through sessions, summaries and keywords",
        "chat logs and conversations indexed as sessions",
        "share of a random walk over memory units and passages"),
}


def label(name: str) -> str:
    """What the method list shows for ``name``: its plain label, else the name itself."""
    info = METHOD_INFO.get(name)
    return info.label if info else name


def method_help(names: Sequence[str]) -> str:
    """The method list's help: one line per method, what it does and when to choose it."""
    lines = []
    for name in names:
        info = METHOD_INFO.get(name)
        lines.append(f"- **{info.label}** {info.does}. Choose it for {info.choose}." if info else f"- **{name}**")
    return "\n".join(lines)


def score_meaning(name: str) -> str:
    """What a raw score of method ``name`` measures (scores of different methods are not comparable)."""
    info = METHOD_INFO.get(name)
    return info.score if info else f"{name} score"
