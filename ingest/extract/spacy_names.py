"""What a fact argument names: the entity node it becomes, and whether that node is a name.

A fact's argument keeps its determiners and modifiers ("the third director of the Marren
Observatory"): that is the readable fact text, and what Open IE scoring expects. The *entity*
the argument becomes in the graph is narrower, because PageRank joins passages through it:

- a name (the head is a proper noun, a capitalised noun with a proper-noun compound, or sits
  in an NER span) becomes the unbroken run of name words around its head: determiners,
  possessive tails and trailing modifiers are cut ("the Marren Observatory" -> "Marren
  Observatory"), a run glued to another by a preposition or a verb stops there ("Counting
  Crows with Adam Duritz" -> "Counting Crows"), and proper-noun compounds the NER split are
  merged back ("Comet" + "Vey"); its label is the NER label, or ``PROPN`` without one;
- a date or a number keeps its words and is labelled ``DATE`` or ``NUM``; a common noun with a
  number ("forty years") is a ``QUANTITY``;
- anything else is a common-noun phrase (``NOUN``): it stays a node for its facts, without its
  leading determiner, but it is never a name. A single capitalised word after "the" or "a" with
  no NER label ("the Duke", "the Reign") is one too: the determiner says it is a description.

The labels are those of :mod:`hippo.ingest.extract.labels`.
"""

from __future__ import annotations

from spacy.tokens import Doc, Token

from hippo.ingest.extract.labels import COMMON, DATE, MONTHS, NUM, PROPN, QUANTITY, YEAR

__all__ = ["entity_tokens"]

CONNECTORS = {"of", "and", "&", "de", "del", "della", "da", "di", "du", "des", "la", "le", "von", "van", "der",
              "den", "y", "-", "–", "'", "’", ".", "on", "upon", "for", "the"}
"""Words that may sit inside a name between name words ("Bank of England", "Farrant and Hale",
"Stratford-upon-Avon"); never at its edges. Outside an NER span only "of", "and", "-" and "." may."""
LOOSE_CONNECTORS = {"of", "-", "–", ".", "and", "&"}  # "and" is in an argument only inside a name
INNER = {"-", "–", "/", "'", "’"}
LEADING = {"det", "det:predet", "nmod:poss", "case", "cc", "punct"}
GLUE_POS = {"ADP", "VERB", "AUX", "SCONJ", "PRON", "DET", "PART", "INTJ", "CCONJ", "PUNCT"}


def _is_number(token: Token) -> bool:
    return token.pos_ == "NUM" or token.like_num or token.lower_ in MONTHS


def _numeric_label(doc: Doc, tokens: list[int]) -> str:
    words = [doc[i] for i in tokens]
    if any(t.lower_ in MONTHS for t in words) or any(YEAR.match(t.text) for t in words):
        return DATE
    return NUM


def _capitalised(token: Token) -> bool:
    return token.text[:1].isupper() and token.pos_ not in GLUE_POS


def _name_head(head: Token) -> bool:
    """A proper noun, a word in an NER span, or a capitalised noun with a proper-noun compound
    ("Marren Observatory" tagged PROPN NOUN)."""
    if head.pos_ == "PROPN" or head.ent_type_:
        return True
    return _capitalised(head) and any(c.dep_ in ("compound", "flat") and (c.pos_ == "PROPN" or c.ent_type_)
                                      for c in head.children)


def _name_word(token: Token, span: range) -> bool:
    """A word that may continue a name: a proper noun, a capitalised noun or adjective, or any
    word of the head's NER span that is not glue (a preposition, a verb)."""
    if token.i in span and token.pos_ not in GLUE_POS:
        return True
    if token.pos_ == "PROPN":
        return True
    return _capitalised(token) and token.pos_ in ("NOUN", "ADJ", "NUM", "X", "SYM")


def _ner_span(head: Token) -> range:
    if not head.ent_type_:
        return range(0)
    doc = head.doc
    start, end = head.i, head.i + 1
    while start > 0 and doc[start].ent_iob_ == "I":
        start -= 1
    while end < len(doc) and doc[end].ent_iob_ == "I":
        end += 1
    return range(start, end)


def _ner_label(doc: Doc, tokens: list[int]) -> str | None:
    """The label of the first NER span lying wholly inside ``tokens`` ("Celine" in "Celine Dion": PER)."""
    inside = set(tokens)
    for i in tokens:
        span = _ner_span(doc[i])
        if span and all(j in inside or doc[j].pos_ == "DET" for j in span):  # "[The Farrant Transit Circle]"
            return doc[i].ent_type_
    return None


def _grow(doc: Doc, head: Token, allowed: set[int], span: range) -> list[int]:
    """The unbroken run of name words (with inner connectors) around ``head`` inside ``allowed``."""
    def joins(i: int, step: int) -> bool:
        token = doc[i]
        if _name_word(token, span):
            return True
        connectors = CONNECTORS if i in span else LOOSE_CONNECTORS
        following = i + step
        return token.lower_ in connectors and following in allowed and _name_word(doc[following], span)

    start = end = head.i
    while start - 1 in allowed and joins(start - 1, -1):
        start -= 1
    while end + 1 in allowed and joins(end + 1, 1):
        end += 1
    tokens = list(range(start, end + 1))
    while len(tokens) > 1 and tokens[0] != head.i and not _name_word(doc[tokens[0]], span):
        tokens = tokens[1:]
    while len(tokens) > 1 and tokens[-1] != head.i and not _name_word(doc[tokens[-1]], span):
        tokens = tokens[:-1]
    return tokens


def entity_tokens(doc: Doc, head_index: int, tokens: tuple[int, ...]) -> tuple[list[int], str]:
    """(token indices, label) of the entity an argument (``tokens`` around ``head_index``) becomes."""
    head = doc[head_index]
    allowed = set(tokens)
    if _is_number(head) and head.pos_ in ("NUM", "PROPN", "NOUN", "X"):
        run = _grow_numeric(doc, head, allowed)
        if run is not None:
            return run, _numeric_label(doc, run)
    if _name_head(head):
        span = _ner_span(head)
        name = _grow(doc, head, allowed, span)
        if all(_is_number(doc[i]) or doc[i].is_punct for i in name):
            return name, _numeric_label(doc, name)
        described = name[0] - 1 in allowed and doc[name[0] - 1].lower_ in ("the", "a", "an")
        if len(name) == 1 and not head.ent_type_ and described:
            return _common(doc, tokens, head.i), COMMON  # "the Duke": a description, not a name
        return name, _ner_label(doc, name) or PROPN
    common = _common(doc, tokens, head.i)
    if any(c.dep_ == "nummod" for c in head.children):
        return common, QUANTITY
    return common, COMMON


def _grow_numeric(doc: Doc, head: Token, allowed: set[int]) -> list[int] | None:
    """A date or number argument ("3 August 1871", "September 20", "the 1890s"); None when other words
    stay in it ("the 1916 film" is about a film)."""
    def numeric(i: int) -> bool:
        return i in allowed and (_is_number(doc[i]) or doc[i].text in (",", "-", "–"))

    start = end = head.i
    while numeric(start - 1):
        start -= 1
    while numeric(end + 1):
        end += 1
    run = list(range(start, end + 1))
    while len(run) > 1 and not _is_number(doc[run[0]]):
        run = run[1:]
    while len(run) > 1 and not _is_number(doc[run[-1]]):
        run = run[:-1]
    if any(i not in run and doc[i].dep_ not in LEADING for i in allowed):
        return None
    return run


def _common(doc: Doc, tokens: tuple[int, ...] | list[int], head: int) -> list[int]:
    """A common-noun phrase cut to its head's own words: from after the last determiner, possessive
    or preposition before the head ("Ada Lindqvist a degree" -> "degree", "Ada Lindqvist's work" ->
    "work") up to the first preposition, clause or punctuation after it ("later life in Harrowgate"
    -> "later life")."""
    kept = list(tokens)
    before = [k for k, i in enumerate(kept) if i < head and doc[i].text not in INNER
              and (doc[i].dep_ in LEADING or doc[i].pos_ in ("DET", "ADP", "PART"))]
    if before:
        kept = kept[before[-1] + 1:]
    after = [k for k, i in enumerate(kept) if i > head and doc[i].pos_ in GLUE_POS and doc[i].text not in INNER]
    if after:
        kept = kept[:after[0]]
    return kept or [head]
