"""Offline rule-based fact extractor (``Settings(extractor="spacy")``).

Runs a spaCy pipeline that predicts Universal Dependencies parses, UPOS tags, lemmas and
named entities (by default the bundled ``data/models/en_hippo_ewt``, trained on UD
English-EWT with PER/ORG/LOC/OTH entities; any installed spaCy pipeline name or folder works
through ``Settings.extra["spacy_model"]``), then reads facts off each sentence with the
dependency rules of :mod:`hippo.ingest.extract.spacy_rules`. No network, no LLM. Lemmas (and
XPOS tags, when a morphologizer gives UPOS) are not computed: the rules never read them.

Each line of a passage is parsed on its own, so a title line never fuses with the first
sentence. Entities are the fact arguments plus the named-entity spans; an entity keeps the
NER label of the span it covers. Displays are the original text (articles included: the graph's
:func:`~hippo.text.normalize_name` drops them).

Pronouns are resolved inside one passage only, by recency, with no gender or number check
beyond the pronoun class:

- he, him, his, himself, she, her, hers, herself -> the most recent PER (or PERSON) entity
  span that ends before the pronoun;
- it, its, itself -> the subject (not a person, not itself a pronoun) of the most recent
  fact whose subject comes before the pronoun;
- any other pronoun (they, we, this, someone...) is never resolved;
- as the object of a fact, a reflexive (himself, herself, itself) is the fact's subject, and a
  plain pronoun skips candidates equal to the subject ("Ada met Tom. Tom thanked her." -> Ada).

A fact whose subject or object is (or is possessed by, as in "his father") a pronoun that
the rule cannot resolve is dropped; a resolved one takes the referent's display and label
("his father" -> "Ada Lindqvist's father"). A possessive inside a name is left as written
("My Classical Way" is a title, not a pronoun).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span, Token
from threadpoolctl import threadpool_limits

from hippo.errors import ConfigError
from hippo.ingest.extract.base import Extraction, Mention, Triple
from hippo.ingest.extract.labels import COMMON, label_rank
from hippo.ingest.extract.shared_pass import attach_features, encode_passages
from hippo.ingest.extract.spacy_names import entity_tokens
from hippo.ingest.extract.spacy_parallel import CHUNKS_PER_PROCESS, PARALLEL_MIN_CHARS
from hippo.ingest.extract.spacy_pipeline import DEFAULT_MODEL, encoder_features, load_pipeline, unused_components
from hippo.ingest.extract.spacy_rules import PERSON_LABELS, Arg, sentence_facts
from hippo.parallel import SharedWork
from hippo.text import normalize_name

__all__ = ["DEFAULT_MODEL", "SpacyExtractor", "load_pipeline"]

PERSON_PRONOUNS = {"he", "him", "his", "himself", "she", "her", "hers", "herself"}
THING_PRONOUNS = {"it", "its", "itself"}
REFLEXIVES = {"himself", "herself", "itself"}

Position = tuple[int, int]  # (line number in the passage, token index in that line's doc)
Referent = tuple[str, str | None]  # (display, NER label)


class SpacyExtractor:
    """Facts from dependency parses; see the module docstring for the rules."""

    name = "spacy"

    def __init__(
        self,
        model: str | Path | None = None,
        batch_size: int = 64,
        *,
        keep_pronouns: bool = False,
        processes: int = 1,
    ) -> None:
        self.model = str(model) if model else str(DEFAULT_MODEL)
        self.batch_size = batch_size
        self.keep_pronouns = keep_pronouns  # sentence-level OpenIE scoring (CaRB) keeps "He", "It" as arguments
        self.helpers = SharedWork(processes)

    @property
    def nlp(self) -> Language:
        return load_pipeline(self.model)

    def passage_encoder(self) -> str | None:
        """The sentence encoder the NER reads (a model name), whose passage embeddings ``extract`` can
        give on the way (``extract(texts, embed=...)``); None when the pipeline's NER reads no encoder."""
        features = encoder_features(self.nlp)
        return features.attrs["encoder"] if features is not None else None

    def extract(self, texts: Sequence[str], *, embed: str | None = None) -> list[Extraction]:
        """One :class:`Extraction` per text; a large batch is parsed by ``processes`` processes at once.

        With ``embed`` (an ``embed_precision``: ``"auto"`` or ``"float32"``) each extraction also carries
        the passage's embedding by :meth:`passage_encoder`, taken from the pass the NER runs anyway
        (:mod:`.shared_pass`): the encoder runs once per passage.
        """
        here = partial(self._extract_here, embed=embed)
        if self.helpers.worth_sharing(sum(len(t) for t in texts), PARALLEL_MIN_CHARS):
            work = partial(_extract_in_helper, self.model, self.batch_size, self.keep_pronouns, embed)
            return self.helpers.run_by_length(work, texts, CHUNKS_PER_PROCESS * self.helpers.processes, here)
        return here(list(texts))

    def _extract_here(self, texts: Sequence[str], embed: str | None = None) -> list[Extraction]:
        """Extractions made in this process, parsing every line of every text in batches."""
        if not texts:
            return []
        nlp = self.nlp
        features = encoder_features(nlp) if embed else None
        if embed and features is None:
            raise ConfigError(f"the spaCy pipeline {self.model} reads no sentence encoder, so it cannot embed.")
        encoded = (encode_passages(texts, features.attrs["encoder"], features.attrs["layers"], embed)
                   if features is not None and embed is not None else None)
        results: list[Extraction | None] = [None] * len(texts)
        lines: list[Doc | str] = []
        owners: list[int] = []
        for index, text in enumerate(texts):
            text_lines = [(offset, line) for offset, line in _lines(text) if line.strip()]
            if any(len(line) > nlp.max_length for _, line in text_lines):
                results[index] = Extraction(failed=f"a line is longer than spaCy's max_length ({nlp.max_length})")
                continue
            for offset, line in text_lines:
                if encoded is not None:
                    doc = nlp.make_doc(line)
                    attach_features(doc, encoded[index], offset, features.attrs["layers"])
                    lines.append(doc)
                else:
                    lines.append(line)
            owners.extend([index] * len(text_lines))
        docs = nlp.pipe(lines, batch_size=self.batch_size, disable=unused_components(nlp))
        with threadpool_limits(limits=1, user_api="blas"):
            for index, passage_docs in _group(docs, owners):
                results[index] = passage_extraction(passage_docs, keep_pronouns=self.keep_pronouns)
        out = [result if result is not None else Extraction() for result in results]
        if encoded is not None:
            out = [replace(result, vector=e.vector) for result, e in zip(out, encoded)]
        return out


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """(offset of the line in ``text``, the line) for each line, as ``str.splitlines`` cuts them."""
    offset = 0
    for piece in text.splitlines(keepends=True):
        line = piece.splitlines()[0] if piece.splitlines() else ""
        yield offset, line
        offset += len(piece)


def _extract_in_helper(model: str, batch_size: int, keep_pronouns: bool, embed: str | None,
                       texts: list[str]) -> list[Extraction]:
    """What a helper process runs (``spacy_parallel``); the pipeline loads once per process (no texts: it
    loads and parses one word, so the helper is ready; see :mod:`hippo.parallel`)."""
    extractor = SpacyExtractor(model, batch_size, keep_pronouns=keep_pronouns)
    return extractor._extract_here(texts or ["Ready."], embed=embed)[:len(texts)]


def _group(docs: Iterator[Doc], owners: list[int]) -> Iterator[tuple[int, list[Doc]]]:
    """Consecutive docs of the same text as (text index, docs), so only one passage is held at a time."""
    current: list[Doc] = []
    owner = -1
    for doc, doc_owner in zip(docs, owners):
        if current and doc_owner != owner:
            yield owner, current
            current = []
        owner = doc_owner
        current.append(doc)
    if current:
        yield owner, current


@dataclass
class _Mentions:
    """Candidate referents of one pronoun class, in passage order (positions sorted)."""

    positions: list[Position] = field(default_factory=list)
    referents: list[Referent] = field(default_factory=list)

    def add(self, position: Position, referent: Referent) -> None:
        at = bisect.bisect_right(self.positions, position)
        self.positions.insert(at, position)
        self.referents.insert(at, referent)

    def before(self, position: Position, avoid: str | None = None) -> Referent | None:
        """The last candidate strictly before ``position`` whose display is not ``avoid``."""
        at = bisect.bisect_left(self.positions, position)
        for referent in reversed(self.referents[:at]):
            if referent[0] != avoid:
                return referent
        return None


@dataclass
class _Passage:
    """A parsed passage and what pronoun resolution needs: where persons and subjects appear."""

    docs: list[Doc]
    persons: _Mentions = field(default_factory=_Mentions)
    subjects: _Mentions = field(default_factory=_Mentions)

    def referent(self, pronoun: Token, line: int, subject: Mention | None = None) -> Referent | None:
        """The mention a pronoun stands for under the module's recency rule, if any.

        ``subject`` is the resolved subject when the pronoun is its clause's object: a reflexive
        is that subject, a plain object pronoun is anyone but ("Tom married her" is not Tom).
        """
        word = pronoun.lower_
        if subject is not None and word in REFLEXIVES:
            return subject.display, subject.label
        avoid = subject.display if subject is not None else None
        if word in PERSON_PRONOUNS:
            return self.persons.before((line, pronoun.i), avoid)
        if word in THING_PRONOUNS:
            return self.subjects.before((line, pronoun.i), avoid)
        return None


def passage_extraction(docs: list[Doc], *, keep_pronouns: bool = False) -> Extraction:
    """Entities and facts of one passage (its lines parsed as ``docs``), pronouns resolved.

    With ``keep_pronouns`` an unresolved pronoun stays as the argument instead of dropping the fact:
    right for scoring isolated sentences (CaRB), wrong for a graph, where "he" would join strangers.
    """
    facts = [(line, fact) for line, doc in enumerate(docs) for sent in doc.sents for fact in sentence_facts(sent)]
    passage = _Passage(docs)
    for line, doc in enumerate(docs):
        for ent in doc.ents:
            if ent.label_ in PERSON_LABELS:
                passage.persons.add((line, ent.end - 1), (ent.text, ent.label_))
    for line, fact in facts:
        doc = docs[line]
        label = arg_label(doc, fact.subject)
        if doc[fact.subject.head].pos_ != "PRON" and label not in PERSON_LABELS:
            passage.subjects.add((line, fact.subject.head), (render(doc, fact.subject), label))
    entities: dict[str, Mention] = {}
    triples: dict[Triple, None] = {}
    covered: set[tuple[int, int]] = set()  # (line, token) of every token of a kept argument
    heads: set[tuple[int, int]] = set()  # (line, token) of every kept argument's head
    in_names: set[tuple[int, int]] = set()  # (line, token) of every argument's entity ("Hale" in "Farrant and Hale")
    for line, fact in facts:
        subject = resolve_arg(passage, line, fact.subject, keep_pronouns=keep_pronouns)
        obj = (
            resolve_arg(passage, line, fact.object, subject, keep_pronouns=keep_pronouns)
            if subject is not None
            else None
        )
        if subject is None or obj is None:
            continue
        doc = docs[line]
        (subject_entity, subject_tokens), (obj_entity, obj_tokens) = (entity_mention(doc, fact.subject, subject),
                                                                      entity_mention(doc, fact.object, obj))
        if not _distinct_names(subject_entity, obj_entity):
            continue
        _add_entity(entities, subject_entity)
        _add_entity(entities, obj_entity)
        triples[Triple(subject.display, fact.predicate, obj.display, _narrower(subject_entity, subject),
                       _narrower(obj_entity, obj))] = None
        covered.update((line, i) for arg in (fact.subject, fact.object) for i in arg.tokens)
        in_names.update((line, i) for i in (*subject_tokens, *obj_tokens))
        heads.update((line, arg.head) for arg in (fact.subject, fact.object))
    for line, doc in enumerate(docs):
        for ent in doc.ents:
            inside_name = all((line, i) in in_names for i in range(ent.start, ent.end))
            if not inside_name and not _inside_argument(covered, heads, line, ent):
                _add_entity(entities, span_mention(doc, ent))
    return Extraction(entities=tuple(entities.values()), triples=tuple(triples))


def entity_mention(doc: Doc, arg: Arg, resolved: Mention) -> tuple[Mention, list[int]]:
    """The entity an argument is (see :mod:`hippo.ingest.extract.spacy_names`), given its resolved mention,
    and the tokens it covers (none for a pronoun's referent).

    A pronoun stands for its referent's entity; an argument with a substituted possessor ("Ada
    Lindqvist's father") is a common-noun phrase as rendered.
    """
    head = doc[arg.head]
    if head.pos_ == "PRON":
        return (resolved if resolved.label else Mention(resolved.display, COMMON)), []
    if any(doc[i].pos_ == "PRON" and doc[i].dep_ == "nmod:poss" and doc[i].head.i == arg.head and not _in_name(doc[i])
           for i in arg.tokens):
        return Mention(resolved.display, COMMON), []
    tokens, label = entity_tokens(doc, arg.head, arg.tokens)
    return Mention(render(doc, Arg(arg.head, tuple(tokens))), label), tokens


def span_mention(doc: Doc, ent: Span) -> Mention:
    """An NER span as an entity, cut like an argument (a span glued to a preposition phrase stops there)."""
    tokens, label = entity_tokens(doc, ent.root.i, tuple(range(ent.start, ent.end)))
    return Mention(render(doc, Arg(ent.root.i, tuple(tokens))), label)


def _narrower(entity: Mention, argument: Mention) -> str:
    """The entity's display when it differs from the argument's ("" when they are the same)."""
    return "" if entity.display == argument.display else entity.display


def _distinct_names(subject: Mention, obj: Mention) -> bool:
    """Both arguments name something ("#" does not), and not the same thing."""
    subject_name, obj_name = normalize_name(subject.display), normalize_name(obj.display)
    return bool(subject_name) and bool(obj_name) and subject_name != obj_name


def _inside_argument(covered: set[tuple[int, int]], heads: set[tuple[int, int]], line: int, ent: Span) -> bool:
    """An entity span that holds an argument's head and lies inside it is that argument ("University" in
    "the University of Coldbrook"); one off the head ("England" in "the Bank of England") is an entity of its own."""
    inside = all((line, i) in covered for i in range(ent.start, ent.end))
    return inside and any((line, i) in heads for i in range(ent.start, ent.end))


def _add_entity(entities: dict[str, Mention], mention: Mention) -> None:
    """Keep the first display of each name, and the most telling label any of its mentions had."""
    key = normalize_name(mention.display)
    if not key:
        return
    known = entities.get(key)
    if known is None:
        entities[key] = mention
    elif label_rank(mention.label) > label_rank(known.label):
        entities[key] = Mention(known.display, mention.label)


def arg_label(doc: Doc, arg: Arg) -> str | None:
    """The NER label of the entity span at the argument's head, when the argument covers all of it."""
    head = doc[arg.head]
    if not head.ent_type_:
        return None
    for ent in doc.ents:
        if ent.start <= head.i < ent.end:
            covered = set(arg.tokens)
            return ent.label_ if all(i in covered for i in range(ent.start, ent.end)) else None
    return None


def resolve_arg(
    passage: _Passage, line: int, arg: Arg, subject: Mention | None = None, *, keep_pronouns: bool = False
) -> Mention | None:
    """The argument as a mention, with pronouns (as head or possessor) replaced by their referent.

    ``subject`` is given for an object argument (see :meth:`_Passage.referent`).
    """
    doc = passage.docs[line]
    head = doc[arg.head]
    if head.pos_ == "PRON":
        referent = passage.referent(head, line, subject)
        if referent is None and keep_pronouns:
            return Mention(render(doc, arg), None)
        return Mention(*referent) if referent else None
    substitutions: dict[int, str] = {}
    for i in arg.tokens:
        token = doc[i]
        if token.pos_ == "PRON" and token.dep_ == "nmod:poss" and token.head.i == arg.head and not _in_name(token):
            referent = passage.referent(token, line)
            if referent is None and keep_pronouns:
                continue
            if referent is None:
                return None
            substitutions[i] = referent[0] + "'s"
    display = render(doc, arg, substitutions)
    return Mention(display, arg_label(doc, arg)) if display else None


def _in_name(possessive: Token) -> bool:
    """ "My Classical Way", "Our Lady of Lourdes": a first/second-person possessive in a name is a word of it."""
    return possessive.lower_ in {"my", "our", "your"} and possessive.head.pos_ == "PROPN"


def render(doc: Doc, arg: Arg, substitutions: dict[int, str] | None = None) -> str:
    """The argument's original text (gaps closed, edge punctuation dropped)."""
    tokens = [doc[i] for i in arg.tokens]
    while tokens and tokens[0].pos_ == "PUNCT":
        tokens.pop(0)
    while tokens and tokens[-1].pos_ == "PUNCT":
        tokens.pop()
    parts: list[str] = []
    for position, token in enumerate(tokens):
        text = substitutions.get(token.i, token.text) if substitutions else token.text
        adjacent = position + 1 < len(tokens) and tokens[position + 1].i == token.i + 1
        parts.append(text + (token.whitespace_ if adjacent else " "))
    return "".join(parts).strip()
