"""Questions that choose between two named things by a date, decided by comparing the dates in code.

"Which film came out first, A or B?", "Was A or B born first?", "Who was born later out of A and B?",
"Which film has the director who is older, A or B?" name their two candidates and a direction; "Who
lived longer, A or B?" asks for the longer life. A small reader answers them at about chance, shown
both articles or not: it names whichever candidate its passages mention first, and given the two dates
it cannot say which is earlier (the 1.5B model, shown "1961" and "1946", said the 1961 film came out
first). So the reader is asked one thing at a time, which it does well: the question is rewritten for
the first candidate ("When was the director of A born?") and the other's name put in for the second
(a life's length is asked as two questions, when each was born and when each died), each is answered
from that candidate's own passages, and the dates are compared here. Anything that does not parse
leaves the question to the ordinary reader.

This module only reads questions and dates; :func:`hippo.llm.qa.llm_answer` asks the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DateChoice", "Date", "date_choice", "life_questions", "lifespan", "parse_date", "pick"]

_CANDIDATES = (
    re.compile(r"^(?P<head>[^,]*),\s*(?P<a>.+?)\s+or\s+(?P<b>.+?)\s*\?\s*$"),
    # "Was A or B born first?", "Did A or B die later?"
    re.compile(r"^(?:was|were|is|are|did)\s+(?P<a>.+?)\s+or\s+(?P<b>.+?)\s+"
               r"(?P<head>(?:born|die|died|released|founded|established|published|made|formed|opened|built"
               r"|come out|came out)\s+\w+)\s*\?\s*$", re.IGNORECASE),
    # "Who was born first out of A and B?", "Who died later between A and B?"
    re.compile(r"^(?P<head>.+?)\s+(?:out of|between|among)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s*\?\s*$",
               re.IGNORECASE),
)
"""Where a question names its candidates: after the head's first comma ("..., A or B?"; A may hold commas,
as titles do), around "or" before the verb, or after "out of"/"between" joined by "and"."""
_EARLIER = frozenset({"first", "earlier", "earliest", "older", "oldest", "sooner", "before"})
_LATER = frozenset({"later", "latest", "last", "younger", "youngest", "recent", "recently", "after"})
_LONGER = re.compile(r"\blived\s+(longer|shorter)\b", re.IGNORECASE)
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
    """A question's two candidates, as written, and whether it asks for the one with the smaller value:
    the earlier date, or with ``lifespan`` the shorter life."""

    candidates: tuple[str, str]
    earliest: bool
    lifespan: bool = False


def date_choice(question: str) -> DateChoice | None:
    """The candidates and direction of a question that asks which of two is first or later, or lived longer.

    >>> date_choice("Which film came out first, Dying God or 3 Dots?")
    DateChoice(candidates=('Dying God', '3 Dots'), earliest=True, lifespan=False)
    >>> date_choice("Which film has the director who is younger, Salad By The Roots or Phalitamsha?").earliest
    False
    >>> date_choice("Which film's director died later, Love, Honor And Oh-Baby! or I Cover The Underworld?").candidates
    ('Love, Honor And Oh-Baby!', 'I Cover The Underworld')
    >>> date_choice("Was Sammy Hagar or Renaud Garcia-Fons born first?").candidates
    ('Sammy Hagar', 'Renaud Garcia-Fons')
    >>> date_choice("Who was born first out of Aivar Kuusmaa and Andy Summers?").candidates
    ('Aivar Kuusmaa', 'Andy Summers')
    >>> date_choice("Who lived longer, Ludwig Elsbett or Pamela Ann Rymer?")
    DateChoice(candidates=('Ludwig Elsbett', 'Pamela Ann Rymer'), earliest=False, lifespan=True)
    >>> date_choice("Which river is longer, the Ondrel or the Imber?") is None  # no date in it
    True
    """
    for pattern in _CANDIDATES:
        match = pattern.search(question)
        if match is None:
            continue
        first, second = match.group("a").strip(), match.group("b").strip()
        if first.lower() == second.lower():
            return None
        if life := _LONGER.search(match.group("head")):
            return DateChoice((first, second), earliest=life.group(1).lower() == "shorter", lifespan=True)
        words = set(re.findall(r"[a-z]+", match.group("head").lower()))
        earlier, later = bool(words & _EARLIER), bool(words & _LATER)
        return DateChoice((first, second), earliest=earlier) if earlier != later else None
    return None


def life_questions(candidate: str) -> tuple[str, str]:
    """The two questions whose dates measure ``candidate``'s life."""
    return f"When was {candidate} born?", f"When did {candidate} die?"


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


def lifespan(born: Date, died: Date) -> tuple[float, float] | None:
    """The shortest and longest a life from ``born`` to ``died`` can have been, in days; ``None`` when it
    ends before it starts. A month or day the dates leave out widens the range.

    >>> lifespan((1900, 5, 1), (1960, 5, 1))
    (21915.0, 21915.0)
    >>> [round(d / 365.25, 1) for d in lifespan((1900, 0, 0), (1960, 0, 0))]
    [59.0, 61.0]
    """
    low, high = _day(died, first=True) - _day(born, first=False), _day(died, first=False) - _day(born, first=True)
    return (max(low, 0.0), high) if high >= 0 else None


def _day(date: Date, *, first: bool) -> float:
    """Days from year 0 to ``date``, or to the first or last day it may mean when its month or day is unknown."""
    year, month, day = date
    month = month or (1 if first else 12)
    day = day or (1 if first else 31)
    return year * 365.25 + (month - 1) * 30.4375 + day - 1


def pick(choice: DateChoice, values: tuple[Date, Date] | tuple[tuple[float, float], tuple[float, float]]
         ) -> int | None:
    """The index of the candidate whose date (or life's length) the question asks for; ``None`` when the
    values cannot tell.

    Dates are compared as far as both give them: "1934" against "April 1934" cannot tell. Lives are
    (shortest, longest) ranges from :func:`lifespan`; ranges that overlap cannot tell.

    >>> pick(DateChoice(("A", "B"), earliest=True), ((1961, 0, 0), (1946, 5, 2)))
    1
    >>> pick(DateChoice(("A", "B"), earliest=False), ((1934, 4, 0), (1934, 0, 0))) is None
    True
    >>> pick(DateChoice(("A", "B"), earliest=False, lifespan=True), ((20000.0, 20400.0), (25000.0, 25400.0)))
    1
    """
    a, b = values
    if choice.lifespan:
        if a[1] < b[0] or b[1] < a[0]:
            return int((a[0] < b[0]) != choice.earliest)
        return None
    for x, y in zip(a, b, strict=True):
        if not x or not y:
            return None
        if x != y:
            return int((y < x) == choice.earliest)
    return None
