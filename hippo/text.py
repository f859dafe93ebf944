"""Plain-text helpers shared by chunking, answers and extraction: sentences, tokens, names.

These are deliberately cheap regular-expression rules: chunking must run on any input
before (and without) the NLP pipeline, and answers must work offline.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ALNUM", "RELATION_OF_NAME", "RELATIVE_CLAUSE", "count_tokens", "normalize_name", "relation_chain",
           "split_sentences", "split_tokens"]

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace
# and an opening capital, digit, quote or bracket. Common abbreviations do not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])")
_ABBREVIATIONS = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Mt|Ft|Gen|Col|Lt|Capt|Sgt|Rev|Hon|Inc|Ltd|Co|Corp|vs|etc|e\.g|i\.e|"
    r"No|Vol|pp|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|[A-Z])\.$"
)
_TOKEN = re.compile(r"\w+|[^\w\s]")
ALNUM = re.compile(r"[^\W_]", re.UNICODE)
_NAME = r"(?:#\d+|[A-Z0-9][^\s,?]*(?: (?:(?:of|the|and|de|la|von|van|du|del|in|on|for|to) )*[A-Z0-9(][^\s,?]*)*)"
RELATION_OF_NAME = re.compile(r"\bthe ((?:[a-z-]+ ){0,2}[a-z-]+) of ((?:the )?(?:[a-z]+ )?" + _NAME + ")")
"""'the founder of the Marren Observatory', 'the director of film Blood Street', 'the father of #1':
group 1 is the relation, group 2 the name (a capitalised run, or a hop's ``#n``)."""
RELATIVE_CLAUSE = re.compile(r"\bthe [a-z-]+ (?:that|which|who) ((?:(?!the )[a-z-]+ ){0,2}(?!the )[a-z-]+) ((?:the )?"
                             + _NAME + ")")
"""'the company that built the Lindqvist Refractor', 'the film that was directed by #1': group 1 is the
relation (the clause's verb), group 2 the name."""


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, split at line breaks between paragraphs and at sentence punctuation.

    >>> split_sentences("Dr. Vey arrived. He left!  Then: nothing")
    ['Dr. Vey arrived.', 'He left!', 'Then: nothing']
    """
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*#>]|\d+\.)\s)", text):
        block = " ".join(block.split())
        if not block:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(block):
            candidate = block[start:match.start()]
            if _ABBREVIATIONS.search(candidate):
                continue
            sentences.append(candidate.strip())
            start = match.end()
        tail = block[start:].strip()
        if tail:
            sentences.append(tail)
    return [s for s in sentences if s]


def split_tokens(text: str) -> list[str]:
    """Words and punctuation marks, the unit of the chunking budget."""
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    """Number of word and punctuation tokens in ``text`` (close to a word-piece count for English)."""
    return sum(1 for _ in _TOKEN.finditer(text))


def normalize_name(name: str) -> str:
    """The graph identity of an entity name.

    Case-folded, Unicode-normalised (NFKC), punctuation turned into spaces, whitespace
    collapsed, a leading article dropped. Letters outside ASCII are kept, unlike
    HippoRAG's normalisation, which erases them.

    >>> normalize_name("The  Marren-Observatory!")
    'marren observatory'
    >>> normalize_name("Sebastián Piñera")
    'sebastián piñera'
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    text = "".join(ch if (ch.isalnum() or ch.isspace()) else " " for ch in text)
    words = text.split()
    if len(words) > 1 and words[0] in {"the", "a", "an"}:
        words = words[1:]
    return " ".join(words)


def relation_chain(question: str, clauses: bool = False) -> list[tuple[str, str, str]]:
    """The question's "the <relation> of <name>" phrases as a chain of hops, innermost (rightmost) first.

    Each hop is (relation, name, rest): the name is a capitalised run or ``#n``, the answer of hop ``n``
    (the phrase a hop answers is replaced by its number in what is left, so "the father of the founder
    of X" reads as "the founder of X", then "the father of #1"); ``rest`` is the question with this hop's
    phrase so replaced. With ``clauses``, a relative clause on a name is a hop too ("the company that
    built X": relation "built", name X).

    >>> relation_chain("Which ship did the father of the founder of Salt Fair captain?")[1]
    ('father', '#1', 'Which ship did #2 captain?')
    >>> [hop[:2] for hop in relation_chain("Who founded the firm that built the Vey Refractor?", clauses=True)]
    [('built', 'the Vey Refractor')]
    """
    patterns = (RELATION_OF_NAME, RELATIVE_CLAUSE) if clauses else (RELATION_OF_NAME,)
    hops: list[tuple[str, str, str]] = []
    rest = question
    while found := [m for pattern in patterns for m in pattern.finditer(rest)]:
        match = max(found, key=lambda m: m.start())
        rest = f"{rest[:match.start()]}#{len(hops) + 1}{rest[match.end():]}"
        hops.append((match.group(1), match.group(2), rest))
    return hops
