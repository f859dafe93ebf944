"""Questions that choose between two named things by a date, decided by comparing the dates in code.

"Which film came out first, A or B?", "Who was born later, A or B?", "Which film has the director who
is older, A or B?" name their two candidates and a direction. A small reader answers them at about
chance, shown both articles or not: it names whichever candidate its passages mention first, and
given the two dates it cannot say which is earlier (the 1.5B model, shown "1961" and "1946", said the
1961 film came out first). So the reader is asked one thing at a time, which it does well: the
question is rewritten for the first candidate ("When was the director of A born?") and the other's name
put in for the second, each is answered from that candidate's own passages, and the two dates are
compared here. Anything that does not parse leaves the question to the ordinary reader.

This module only reads questions and dates; :func:`hippo.llm.qa.llm_answer` asks the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DateChoice", "Date", "date_choice", "parse_date", "pick"]

_CANDIDATES = re.compile(r"^[^,]*,\s*(.+?)\s+or\s+([^?]+?)\s*\?\s*$")
"""The head of the question up to its first comma, then "A or B?" (A may hold commas, as titles do)."""
_EARLIER = frozenset({"first", "earlier", "earliest", "older", "oldest", "sooner", "before"})
_LATER = frozenset({"later", "latest", "last", "younger", "youngest", "recent", "after"})
_MONTHS = {m: n for n, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                        "september", "october", "november", "december"), start=1)}
_MONTHS.update({m[:3]: n for m, n in list(_MONTHS.items())})
_YEAR = re.compile(r"(?<![\d.])(\d{3,4})(?![\d.])(\s*(?:BC|BCE)\b)?", re.IGNORECASE)
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([A-Za-z]{3,9})\b\.?")
_MONTH_DAY = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?!\d)")
_MONTH = re.compile(r"\b([A-Za-z]{3,9})\b")

Date = tuple[int, int, int]
"""(year, month, day); 0 for a month or day the text does not give."""


@dataclass(frozen=True)
class DateChoice:
    """A question's two candidates, as written, and whether it asks for the one with the earlier date."""

    candidates: tuple[str, str]
    earliest: bool


def date_choice(question: str) -> DateChoice | None:
    """The candidates and direction of a question that ends ", A or B?" and asks which is first or later.

    >>> date_choice("Which film came out first, Dying God or 3 Dots?")
    DateChoice(candidates=('Dying God', '3 Dots'), earliest=True)
    >>> date_choice("Which film has the director who is younger, Salad By The Roots or Phalitamsha?").earliest
    False
    >>> date_choice("Which film's director died later, Love, Honor And Oh-Baby! or I Cover The Underworld?")
    DateChoice(candidates=('Love, Honor And Oh-Baby!', 'I Cover The Underworld'), earliest=False)
    >>> date_choice("Who lived longer, Ludwig Elsbett or Pamela Ann Rymer?") is None  # not a date order
    True
    """
    match = _CANDIDATES.search(question)
    if match is None:
        return None
    words = set(re.findall(r"[a-z]+", question[:match.start(1)].lower()))
    earlier, later = bool(words & _EARLIER), bool(words & _LATER)
    if earlier == later:
        return None
    first, second = match.group(1).strip(), match.group(2).strip()
    return DateChoice((first, second), earliest=earlier) if first.lower() != second.lower() else None


def parse_date(text: str) -> Date | None:
    """The one date ``text`` states: a year, with its month and day when given; ``None`` for none or two.

    >>> parse_date("20 March 851"), parse_date("March 28, 2003"), parse_date("October 1934")
    ((851, 3, 20), (2003, 3, 28), (1934, 10, 0))
    >>> parse_date("born in 1833"), parse_date("44 BC"), parse_date("1928-2003"), parse_date("not found")
    ((1833, 0, 0), (-44, 0, 0), None, None)
    """
    years = {(int(m.group(1)), bool(m.group(2))) for m in _YEAR.finditer(text)}
    bc = re.search(r"\b(\d{1,4})\s*(?:BC|BCE)\b", text, re.IGNORECASE)
    if bc and not years:
        years = {(int(bc.group(1)), True)}
    if len(years) != 1:
        return None
    (year, before_christ), = years
    month, day = _month_day(text)
    return (-year if before_christ else year), month, day


def _month_day(text: str) -> tuple[int, int]:
    for pattern, month_at, day_at in ((_DAY_MONTH, 2, 1), (_MONTH_DAY, 1, 2)):
        for match in pattern.finditer(text):
            month = _MONTHS.get(match.group(month_at).lower())
            if month and 1 <= int(match.group(day_at)) <= 31:
                return month, int(match.group(day_at))
    months = [_MONTHS[w.lower()] for w in _MONTH.findall(text) if w.lower() in _MONTHS]
    return (months[0], 0) if len(months) == 1 else (0, 0)


def pick(choice: DateChoice, dates: tuple[Date, Date]) -> int | None:
    """The index of the candidate whose date the question asks for; ``None`` when the dates cannot tell.

    Dates are compared as far as both give them: "1934" against "April 1934" cannot tell.

    >>> pick(DateChoice(("A", "B"), earliest=True), ((1961, 0, 0), (1946, 5, 2)))
    1
    >>> pick(DateChoice(("A", "B"), earliest=False), ((1934, 4, 0), (1934, 0, 0))) is None
    True
    """
    a, b = dates
    for x, y in zip(a, b, strict=True):
        if not x or not y:
            return None
        if x != y:
            return int((y < x) == choice.earliest)
    return None
