"""Short answers written by the LLM from the top passages, with numbered citations.

An endpoint's model writes a short thought first, as HippoRAG 2's reader does (a sentence per hop,
each citing the passage it comes from), then the answer alone (a name, place, date or number); the
local models are asked for the answer alone, which measured better for them (``answers_with_thought``).
hippo cites the passages the thought cites, else those that contain the answer, renumbered in order of
first use so that ``[1]`` is ``Answer.sources[0]``.

What can go wrong, and what happens then (``Answer.notes`` says which):

- the prompt does not fit the model's context: the lowest-ranked passages are dropped, whole,
  until it fits;
- the model says the passages do not hold the answer: ``found`` is false and the text says
  "Not found in the indexed documents.";
- the reply is empty or cut at the token limit: :class:`UnusableReply` is raised, and the caller
  answers extractively instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence

from hippo.errors import LLMError
from hippo.llm.client import ChatRequest, LLMClient, Reply, step_on
from hippo.llm.compare import Date, DateChoice, date_choice, life_questions, lifespan, parse_date, pick
from hippo.llm.hops import fill, of_plan, parse_plan
from hippo.llm.local import ContextOverflowError
from hippo.llm.prompts import answer_example_text, answer_messages, date_question_messages, hops_messages
from hippo.llm.replies import strip_reasoning
from hippo.model import Answer, Hit, Source
from hippo.text import normalize_name

__all__ = ["ANSWER_MAX_TOKENS", "NOT_FOUND", "THOUGHT_MAX_TOKENS", "UnusableReplyError", "answers_with_thought",
           "llm_answer", "read_answer", "reader_text", "renumber_citations", "strip_citations"]

logger = logging.getLogger(__name__)

ANSWER_MAX_TOKENS = 48
THOUGHT_MAX_TOKENS = 160
"""Room for a thought of a sentence per hop and the answer (the demo's thoughts took 26-132 tokens)."""
NOT_FOUND = "Not found in the indexed documents."
_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SOURCE_CHARS = 300
_NOT_FOUND_REPLY = re.compile(r"^\W*(not found|unknown|none|n/?a|no answer|the passages do not)\b", re.IGNORECASE)
_LEAD = re.compile(r"^\s*(answer|final answer)\s*[:\-]\s*", re.IGNORECASE)
_ANSWER_MARK = re.compile(r"\b(?:final\s+)?answer\s*:", re.IGNORECASE)
_THOUGHT_MARK = re.compile(r"^\s*thought\s*:", re.IGNORECASE)
_EXAMPLE_NAMES = f" {normalize_name(answer_example_text())} "

Retrieve = Callable[[str], Sequence[Hit]]
"""The passages for a question of the reader's own (a candidate's date), retrieved as the question's were."""
Reading = tuple[str, list[Hit], bool, list[str]]
"""(answer text with citations, the passages cited, whether an answer was found, notes)."""


class UnusableReplyError(LLMError):
    """The model's reply holds no answer that can be read (empty, or cut off at the token limit)."""


def llm_answer(question: str, hits: Sequence[Hit], client: LLMClient, *, passages: int = 5,
               thought: bool | None = None, compare: bool = True, hops: bool = True,
               retrieve: Retrieve | None = None) -> Answer:
    """The model's short, cited answer from the top ``passages`` hits (``Answer.mode`` is the client's mode).

    ``thought`` asks the model to reason before answering; ``None`` leaves it to the model
    (:func:`answers_with_thought`). ``compare`` answers a question that chooses between two
    candidates by a date ("Which came out first, A or B?", "Who lived longer, A or B?") by asking
    each candidate's date and comparing them (:mod:`hippo.llm.compare`). ``hops`` has the model split
    any other question into one-fact questions and answers them in turn, each naming the answer
    before it (:mod:`hippo.llm.hops`). When a date or a hop cannot be read, the question is answered
    as a whole. ``retrieve`` finds the passages of those questions of the reader's own (a candidate's
    date, a later hop) from the store, as the question's were; without it they are read from ``hits``.

    Raises :class:`~hippo.errors.LLMError` when the model or endpoint fails, and
    :class:`UnusableReplyError` when its reply cannot be read; the caller decides whether to
    answer extractively instead.
    """
    shown = list(hits[:passages])
    if not shown:
        return Answer(question, NOT_FOUND, client.mode, (), tuple(hits), found=False, model=client.config.model)
    choice = date_choice(question) if compare else None
    read = None
    if choice is not None:
        read = _choose_by_date(question, choice, shown, client, retrieve)
    elif hops:
        read = _read_by_hops(question, shown, client, retrieve)
    if read is None:
        read = _read_question(question, shown, client, step_on(thought, client))
    text, cited, found, notes = read
    known = {h.passage_id for h in hits}
    hits = [*hits, *(h for h in cited if h.passage_id not in known)]  # passages retrieved for a part's question
    return Answer(question, text, client.mode, tuple(_source(h) for h in cited), tuple(hits), found=found,
                  notes=tuple(notes), model=client.config.model)


def _read_by_hops(question: str, shown: list[Hit], client: LLMClient, retrieve: Retrieve | None) -> Reading | None:
    """The answer to the last of the one-fact questions ``question`` splits into, each answered in turn;
    ``None`` when it is one fact, the plan cannot be read, or a hop's answer is not found in its passages.

    The first hop reads the question's own passages (they name what it asks about); a later hop,
    which names an earlier answer, reads the passages ``retrieve`` finds for it. When the model writes
    no plan, one is read from the question's "the <relation> of <name>" phrases. A hop answered without
    a citation (the 1.5B model may name "Dunmoor School" for a passage's "Kirk School in Dunmoor") is
    read once more with a thought, so the sentence that holds the answer is quoted before it is named.
    """
    reply = strip_reasoning(client.chat(ChatRequest(hops_messages(question), max_tokens=128)).text)
    plan = parse_plan(reply, question) or of_plan(question)
    if plan is None:
        return None
    answers: list[str] = []
    cited: list[Hit] = []
    notes: list[str] = []
    for n, step in enumerate(plan, start=1):
        asked = fill(step, answers)
        passages = (list(retrieve(asked))[:len(shown)] if retrieve and n > 1 else None) or shown
        text, used, found, more = _read_question(asked, passages, client, False)
        if found and not used:  # an answer no passage is cited for: read again, the sentence that holds it first
            text, used, found, again = _read_question(asked, passages, client, True)
            more = [*more, f"hop {n}: no passage cited, read again with a thought", *again]
        if not found or not used:  # a hop's answer is quoted from a passage; one no passage holds is a guess
            return None
        answers.append(strip_citations(text))
        cited += used
        notes += [*more, f"hop {n}: {asked} {answers[-1]}"]
    cited = _distinct(cited)
    return _with_marks(answers[-1], len(cited)), cited, True, notes


def _distinct(hits: Iterable[Hit]) -> list[Hit]:
    """``hits`` once per passage, in order of first appearance (the last hit of a passage stands for it)."""
    return list({h.passage_id: h for h in hits}.values())


def _read_question(question: str, shown: list[Hit], client: LLMClient, thought: bool) -> Reading:
    """The :data:`Reading` of one request for the answer."""
    reply, shown, notes = _ask(client, question, shown, thought)
    try:
        text, cited, found = _read(reply, shown)
    except UnusableReplyError as exc:
        if not thought:
            raise
        # A small model sometimes copies passages into its thought until the token limit: ask again
        # for the answer alone rather than give up on the model.
        reply, shown, more = _ask(client, question, shown, False)
        notes = [*notes, f"{exc}; asked again for the answer alone", *more]
        text, cited, found = _read(reply, shown)
    return text, [shown[n - 1] for n in cited], found, notes


def _read(reply: Reply, shown: list[Hit]) -> tuple[str, list[int], bool]:
    """:func:`read_answer` of ``reply`` to a request that showed ``shown``."""
    return read_answer(strip_reasoning(reply.text), [reader_text(h) for h in shown], reply.truncated)


def _ask(client: LLMClient, question: str, shown: list[Hit], thought: bool) -> tuple[Reply, list[Hit], list[str]]:
    """The model's reply to the answer prompt, with the passages that fit its context and notes of those left out."""
    notes: list[str] = []
    while True:
        try:
            messages = answer_messages(question, [reader_text(h) for h in shown], thought=thought)
            limit = THOUGHT_MAX_TOKENS if thought else ANSWER_MAX_TOKENS
            return client.chat(ChatRequest(messages, max_tokens=limit)), shown, notes
        except ContextOverflowError as exc:
            if len(shown) == 1:
                raise
            keep = max(1, min(len(shown) - 1, int(len(shown) * exc.n_ctx * 0.9 / max(exc.prompt_tokens, 1))))
            notes.append(f"{len(shown) - keep} lowest-ranked passage(s) left out to fit the model's context "
                         f"({exc.prompt_tokens:,} prompt tokens for {exc.n_ctx:,})")
            shown = shown[:keep]


def _choose_by_date(question: str, choice: DateChoice, shown: list[Hit], client: LLMClient,
                    retrieve: Retrieve | None) -> Reading | None:
    """The chosen candidate with citations of the passages holding the dates, and notes of them; ``None``
    when the date question cannot be written, a date cannot be read as one date, or the values tie.

    The model rewrites the question for the first candidate only; the second candidate's question is
    the same with its name put in, so that both ask for the same date (asked separately, a small
    model asked when one film's director was born and when the other film was made). A life's
    length needs no rewrite: each candidate is asked when they were born and when they died.
    """
    first, second = choice.candidates
    if choice.lifespan:
        asked = [life_questions(first), life_questions(second)]
    else:
        rewritten = client.chat(ChatRequest(date_question_messages(question, first), max_tokens=48)).text
        one = _first_line(strip_reasoning(rewritten))
        name = re.compile(re.escape(first), re.IGNORECASE)
        if not one.endswith("?") or not name.search(one):
            return None
        asked = [(one,), (name.sub(lambda _: second, one),)]
    read = []
    for candidate, other, questions in ((first, second, asked[0]), (second, first, asked[1])):
        for one in questions:
            if (dated := _date_of(one, candidate, other, shown, client, retrieve)) is None:
                return None
            read.append(dated)
    dates = [date for date, _, _ in read]
    if choice.lifespan:
        values = (lifespan(*dates[:2]), lifespan(*dates[2:]))
        if None in values:
            return None
    else:
        values = (dates[0], dates[1])
    if (index := pick(choice, values)) is None:
        return None
    cited = _distinct(h for _, used, _ in read for h in used)
    notes = [note for *_, noted in read for note in noted]
    return _with_marks(choice.candidates[index], len(cited)), cited, True, notes


def _date_of(asked: str, candidate: str, other: str, shown: list[Hit], client: LLMClient,
             retrieve: Retrieve | None) -> tuple[Date, list[Hit], list[str]] | None:
    """(the date the reader answers ``asked`` with, the passages holding it, notes), or ``None``.

    The passages are those ``retrieve`` finds for ``asked`` followed by ``shown``. The reader is shown
    the candidate's own passages among them (its article: the passages titled with its name; else
    those naming it and not the other candidate) and then the passages whose titles they name (the
    film's director's article) unless they belong to the other candidate; with no own passages,
    every passage that does not name the other. A small reader otherwise answers with the first date
    it meets, often the other candidate's.
    """
    def names(hit: Hit, name: str) -> bool:
        return name.lower() in reader_text(hit).lower()

    def titled(hit: Hit, name: str) -> bool:
        return (hit.title or "").strip().lower() == name.lower()

    pool = _distinct([*(retrieve(asked) if retrieve else ()), *shown])
    own = ([h for h in pool if titled(h, candidate)]
           or [h for h in pool if names(h, candidate) and not names(h, other)])
    linked = [h for h in pool if h not in own and h.title and not titled(h, other) and not names(h, other)
              and any(names(o, h.title) for o in own)]
    chosen = own + linked if own else [h for h in pool if not names(h, other)] or pool
    reply, used, notes = _ask(client, asked, chosen, False)
    try:
        text, numbers, found = _read(reply, used)
    except UnusableReplyError:
        return None
    date = parse_date(strip_citations(text)) if found else None
    if date is None:
        return None
    return date, [used[n - 1] for n in numbers], [*notes, f"compared by date: {asked} {strip_citations(text)}"]


def answers_with_thought(client: LLMClient) -> bool:
    """Whether ``client``'s model writes a thought before its answer when ``reader_thought`` is null.

    An endpoint does (HippoRAG 2's reader). The local models do not: with a thought the 1.5B model
    answered 12 of the demo's 15 questions instead of 10, but on 2WikiMultihopQA's held-out questions
    it lost six it had answered and gained none (bench/results/qa-*-thought.json), copying long
    passages into its thought; the 0.5B model rambles the same way.
    """
    return step_on(None, client)


def read_answer(reply: str, passages: Sequence[str], truncated: bool = False) -> tuple[str, list[int], bool]:
    """(answer text with ``[n]`` citations, passage numbers cited in order, whether an answer was found).

    ``reply`` is "Thought: ... Answer: ..." (HippoRAG 2's reader format; the answer is the text after
    the first "Answer:") or the answer alone. The passages the thought cites are the answer's
    citations; a thought without citations leaves the passages whose text contains the answer.

    >>> read_answer("Thought: Ada was born in Kettleby [3].\\nAnswer: Kettleby", ["Ada", "Marren", "Ada: Kettleby"])
    ('Kettleby [1]', [3], True)
    >>> read_answer("Kettleby", ["Ada was born in Kettleby.", "Marren", "Kettleby is a village."])
    ('Kettleby [1][2]', [1, 3], True)
    >>> read_answer("Thought: nothing on Ada.\\nAnswer: not found.", ["Ada"])
    ('Not found in the indexed documents.', [], False)

    A name copied from the prompt's one-shot example that no shown passage holds is no answer:

    >>> read_answer("The Corran Burn", ["Ada was born in Kettleby."])
    ('Not found in the indexed documents.', [], False)
    """
    thought, answer_part = _split_thought(reply)
    first = _first_line(answer_part)
    if not first or _THOUGHT_MARK.match(first) or (truncated and len(first.split()) > 24):
        raise UnusableReplyError(f"the model's reply holds no readable answer: {reply[:80]!r}")
    if _NOT_FOUND_REPLY.match(first):
        return NOT_FOUND, [], False
    if _CITATION.search(first):
        text, cited = renumber_citations(first, len(passages))
        return text, cited, True
    answer = first.strip(" \"'`*").rstrip(".").strip()
    key = normalize_name(answer).strip()
    containing = [n for n, text in enumerate(passages, start=1) if key and f" {key} " in f" {normalize_name(text)} "]
    if not containing and _copied_from_example(key):
        return NOT_FOUND, [], False
    cited = renumber_citations(thought, len(passages))[1] or containing
    return _with_marks(answer, len(cited)), cited, True


def _first_line(text: str) -> str:
    """The first non-blank line of a reply, without an "Answer:" lead."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _LEAD.sub("", lines[0]).strip() if lines else ""


def _with_marks(answer: str, cited: int) -> str:
    """``answer`` followed by the citations ``[1]``...``[cited]``."""
    return " ".join([answer, "".join(f"[{i}]" for i in range(1, cited + 1))]) if cited else answer


def _split_thought(reply: str) -> tuple[str, str]:
    """(the thought, the answer part) of a reply; no "Answer:" mark leaves the whole reply as the answer."""
    mark = _ANSWER_MARK.search(reply)
    if mark is None:
        return "", reply.strip()
    rest = reply[mark.end():]
    again = _ANSWER_MARK.search(rest)
    return reply[:mark.start()], (rest[:again.start()] if again else rest).strip()


def _copied_from_example(key: str) -> bool:
    """Whether the answer names something only the prompt's example holds (a small model, finding no
    answer in the passages, sometimes replies with the example's entity instead of "not found")."""
    return bool(key) and f" {key} " in _EXAMPLE_NAMES


def strip_citations(text: str) -> str:
    """``text`` without its ``[n]`` citations.

    >>> strip_citations("Kettleby [1][2]")
    'Kettleby'
    """
    return " ".join(_CITATION.sub(" ", text).split())


def renumber_citations(text: str, shown: int) -> tuple[str, list[int]]:
    """``text`` with citations renumbered by first use, and the passage numbers cited, in that order.

    Citations of passages that were not shown are removed (and logged).

    >>> renumber_citations("Kettleby [3], by the lake [1][3]. Also [9].", 5)
    ('Kettleby [1], by the lake [2][1]. Also.', [3, 1])
    >>> renumber_citations("See [2, 4].", 5)
    ('See [1, 2].', [2, 4])
    """
    order: list[int] = []

    def replace(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(1))]
        valid = [n for n in numbers if 1 <= n <= shown]
        if len(valid) < len(numbers):
            logger.info("LLM answer cites passage(s) %s that were not shown; dropped",
                        sorted(set(numbers) - set(valid)))
        for n in valid:
            if n not in order:
                order.append(n)
        return f"[{', '.join(str(order.index(n) + 1) for n in valid)}]" if valid else "\x00"

    renumbered = re.sub(r"[ \t]*\x00", "", _CITATION.sub(replace, text))
    return renumbered.strip(), order


def reader_text(hit: Hit) -> str:
    """The passage as the reader is shown it: headed by its title when its text does not begin with it.

    An article's passages begin with their title already; a conversation turn's does not, and its
    title holds the session's date, without which no question about when something happened can be
    answered (HippoRAG 2 heads every passage with its title too).

    >>> reader_text(Hit("p", "d", "Mel: I ran a race last Saturday.", 1.0, "dense", title="session 4 · 2023-07-03"))
    'session 4 · 2023-07-03\\nMel: I ran a race last Saturday.'
    """
    title = (hit.title or "").strip()
    return hit.text if not title or hit.text.lstrip().startswith(title) else f"{title}\n{hit.text}"


def _source(hit: Hit) -> Source:
    return Source(sentence=_excerpt(hit.text), passage_id=hit.passage_id, doc_id=hit.doc_id, title=hit.title,
                  source=hit.source, score=hit.score)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SOURCE_CHARS else flat[: _SOURCE_CHARS - 1] + "…"
