"""Dependency rules that read subject-predicate-object facts off one UD-parsed sentence.

The rules assume Universal Dependencies v2 labels (UD English-EWT, as the bundled
``en_hippo_ewt`` pipeline predicts them) and UPOS tags in ``token.pos_``. They work on token
indices, not strings, so that the caller can resolve pronouns and attach NER labels after
the fact (see :mod:`hippo.ingest.extract.spacy`).

Clauses
    A verb with a subject gives one fact per object: ``obj`` keeps the verb as predicate,
    ``obl`` adds its preposition ("born in", "founded by"), an unmarked ``obl`` that holds a
    number or a name (a date) keeps the bare verb. Particles join the verb ("set up"),
    negation is kept in front ("not attend"), auxiliaries are dropped (tense is not a fact).
Copulas, appositions, titles
    A nominal with a ``cop`` child links its subject to it (X, "is", Y); an adjective gives
    facts only through its prepositional objects ("is famous for", Z): adjectives are not
    entities. A copula over a prepositional phrase gives (X, "is in", Z). Appositions give
    (X, "is", Y), or (X, "is in", Y) between two places ("Kettleby, Marrshire"); nominal
    ``xcomp`` links too ("became", president). When one side is a name and the other is not,
    the name is the subject ("the winner was Ada" -> (Ada, "was", the winner)). A title
    written before a person's name is split off: "author Bill Bryson" -> (Bill Bryson, "is",
    author), so the person is one entity wherever the title varies.
Of-phrases
    An of-phrase (or possessor) of a common noun is a relation, not part of the argument: it
    becomes a fact with the noun in the predicate, wherever the noun is an argument:
    "X was the director of Y" -> (X, "was", the director) and (X, "was director of", Y);
    "X launched a series of raids" -> (X, "launched series of", raids). Other prepositional
    modifiers stay in a common noun's phrase; a name's become (name, "is in", Z).
Subjects that are not written
    Coordinated verbs share the first verb's subject (and an object that follows them all:
    "founded and directed the observatory"); relative clauses and post-nominal participles
    take the noun they modify ("Ada, who founded X" -> (Ada, "founded", X); "the book that
    Ada wrote" -> (Ada, "wrote", the book)); a controlled ``xcomp`` verb takes the controller
    and chains the predicate ("wanted to build"); a participial or infinitival adverbial
    clause takes its governor's subject.
Arguments
    Noun phrases with their determiners, compounds, flat names, adjectives, numbers, dates
    and possessors; never clauses, appositions or conjuncts. A named entity stays whole, an
    of-phrase stays only inside a proper name ("University of Coldbrook", "Bank of England").
    Conjoined subjects and objects are distributed over the fact. Both arguments must be
    nominal (a mis-tagged adjective or verb is not an entity).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

__all__ = ["PERSON_LABELS", "Arg", "Fact", "noun_phrase", "sentence_facts"]

PERSON_LABELS = {"PER", "PERSON"}  # UD-EWT NER and OntoNotes (en_core_web_*) person labels
VERBAL_ONLY = {"obj", "iobj", "aux:pass", "compound:prt", "nsubj:pass"}
SUBJECTS = {"nsubj", "nsubj:pass", "nsubj:outer"}
NEGATIONS = {"not": "not", "n't": "not", "never": "never"}
NOMINAL = {"NOUN", "PROPN", "NUM", "PRON", "X", "SYM"}
PLACE_PREPOSITIONS = {"in", "at", "near", "inside", "outside", "within"}
RELATIVE_PRONOUNS = {"who", "whom", "which", "that"}
# children that stay inside a noun phrase, with their whole subtree
PHRASE_KEEP = {"det", "det:predet", "compound", "flat", "fixed", "amod", "nummod", "nmod:poss", "nmod:unmarked",
               "goeswith", "nmod:desc"}
CLAUSE_KEEP = {"acl:relcl", "acl"}
"""Clauses that stay in a common noun's argument text ("an animal that cares for its young"): the fact reads
as the sentence says; the entity the argument becomes is cut to its head noun (see spacy_names). A name
is identified already ("Ada Lindqvist, who founded X," is Ada Lindqvist), so its clauses are left out."""
Raw = tuple[Token, str, Token]  # (subject head, predicate, object head) before phrases are built
HONORIFICS = {"mr", "mrs", "ms", "miss", "messrs", "dr", "mme", "mlle", "sir", "dame", "madam", "madame"}
"""Titles of address ("Mr. Baker"): split off a name like any title, but they state nothing about the person."""
EDGE_DROP = {"case", "cc", "mark", "punct"}  # never the first or last word of an argument
PHRASE_INNER_PUNCT = {"-", "–", "'", "/", "&", ".", "’"}


@dataclass(frozen=True)
class Arg:
    """A noun phrase: the doc index of its head and of every token it keeps, in order."""

    head: int
    tokens: tuple[int, ...]


@dataclass(frozen=True)
class Fact:
    """One extracted fact before rendering: arguments are token sets, the predicate is text."""

    subject: Arg
    predicate: str
    object: Arg


# ---------------------------------------------------------------- noun phrases


def is_name_part(nmod: Token) -> bool:
    """An of-phrase inside a proper name ("University of Coldbrook", "Fire of 1897"), not a relation."""
    cases = [c.lower_ for c in nmod.children if c.dep_ == "case"]
    capitalised = nmod.pos_ in ("NOUN", "ADJ") and nmod.text[:1].isupper()  # "Reign of Terror": a mis-tagged name
    return (cases == ["of"] and nmod.head.pos_ == "PROPN" and (nmod.pos_ in ("PROPN", "NUM") or capitalised)
            and nmod.i > nmod.head.i)


def keeps_modifier(nmod: Token) -> bool:
    """A prepositional modifier other than "of" stays in a common noun's phrase ("a feud with Jillian
    Hall"). An of-phrase is a relation and becomes its own fact (see :func:`relational_facts`), and a
    name stays a name: "Tok Pisin in Papua New Guinea" is Tok Pisin, "is in" Papua New Guinea."""
    return case_text(nmod) not in ("of", "") and not is_name(nmod.head)


def entity_range(token: Token) -> range:
    """Doc indices of the named-entity span ``token`` is in (empty when it is in none)."""
    if not token.ent_type_:
        return range(0)
    doc = token.doc
    start, end = token.i, token.i + 1
    while start > 0 and doc[start].ent_iob_ == "I":
        start -= 1
    while end < len(doc) and doc[end].ent_iob_ == "I":
        end += 1
    return range(start, end)


def noun_phrase(head: Token, source: Token | None = None, *, subject: bool = False) -> Arg:
    """The noun phrase headed by ``head``: modifiers that name it, not clauses or relations.

    A named entity the head is in stays whole ("Delta & Pine Land Co.", "Bank of England"), even
    where the parse coordinates or attaches its parts, as long as it lies inside the head's subtree.
    A person's name drops the title written before it ("author Bill Bryson" -> "Bill Bryson"), so
    that one person is one entity; :func:`title_phrase` turns the title into a fact. A common-noun
    ``subject`` keeps its of-phrases (see :func:`phrase_tokens`).
    """
    name, _ = split_title(head, phrase_tokens(head, of_phrases=subject))
    if source is not None and source.i != head.i and source.i in name:
        inside = {t.i for t in source.subtree}  # the clause the fact comes from is not part of its argument
        name = _trim(head.doc, [i for i in name if i not in inside], head.i)
    return Arg(head.i, tuple(name))


def title_phrase(head: Token) -> Arg | None:
    """The title before a person's name ("former U.S. Attorney" Todd Graves), if it has a noun."""
    _, title = split_title(head, phrase_tokens(head))
    doc = head.doc
    nouns = [i for i in title if doc[i].pos_ in ("NOUN", "PROPN") and doc[i].head.i not in title]
    if all(doc[i].lower_.rstrip(".") in HONORIFICS for i in title if doc[i].pos_ != "PUNCT"):
        return None  # "Mr." is how the sentence addresses Baker, not what Baker is
    return Arg(nouns[-1], tuple(_trim(doc, title, nouns[-1]))) if nouns else None


def split_title(head: Token, tokens: list[int]) -> tuple[list[int], list[int]]:
    """(name, title) tokens of a PER name right after a description with a noun; (tokens, []) otherwise."""
    name = entity_range(head)
    if not name or head.ent_type_ not in PERSON_LABELS or tokens[0] >= name.start:
        return tokens, []
    doc, kept = head.doc, set(tokens)
    start = name.start
    while start - 1 in kept and doc[start - 1].pos_ != "PUNCT":
        start -= 1  # the title is the unbroken run of words right before the name
    title = list(range(start, name.start))
    if not any(doc[i].pos_ in ("NOUN", "PROPN") for i in title):
        return tokens, []  # "the young Ada Lindqvist" keeps its words: no title to state
    return [i for i in tokens if i >= name.start], title


def phrase_tokens(head: Token, nested: bool = False, of_phrases: bool = False) -> list[int]:
    """Sorted doc indices of the noun phrase headed by ``head`` (see :func:`noun_phrase`).

    A kept prepositional modifier is itself cut to its noun phrase, without further modifiers
    (``nested``): "a feud with Jillian Hall", not a chain of every attached phrase.

    With ``of_phrases`` a common noun keeps its chain of of-phrases ("The majority of the population
    of Leigh", "300 soldiers of the 1st SS Battalion"). This is for subjects: an object's of-phrase
    becomes a relational fact of the clause's subject ("X was the director of Y"), but a subject's has
    no other fact to go to, and without it "The majority" or "A series" says nothing. The entity the
    argument becomes is still cut to the head noun's words (spacy_names), so no node is added.
    """
    keep = {head.i}
    keep.update(i for i in entity_range(head) if head.left_edge.i <= i <= head.right_edge.i)
    for child in head.children:
        if child.dep_ == "conj" and firm_name(head, child):
            keep.update((head.i + 1, child.i))
        elif child.dep_ in PHRASE_KEEP:
            keep.update(t.i for t in child.subtree if t.dep_ not in ("punct", "cc") or t.text in PHRASE_INNER_PUNCT)
        elif child.dep_ in CLAUSE_KEEP and not nested and child.i > head.i and not is_name(head):
            keep.update(t.i for t in child.subtree)
        elif child.dep_ == "nmod" and of_phrases and case_text(child) == "of" and not is_name(head):
            keep.update(phrase_tokens(child, nested=True, of_phrases=True))
            keep.update(t.i for c in child.children if c.dep_ == "case" for t in (c, *c.children) if t.dep_ != "punct")
        elif child.dep_ == "nmod" and (is_name_part(child) or (not nested and keeps_modifier(child))):
            keep.update(phrase_tokens(child, nested=True))
            keep.update(t.i for c in child.children if c.dep_ == "case" for t in (c, *c.children) if t.dep_ != "punct")
    low, high = min(keep), max(keep)
    keep.update(c.i for c in head.children if c.dep_ == "punct" and c.text in PHRASE_INNER_PUNCT and low < c.i < high)
    return _trim(head.doc, sorted(keep), head.i)


def _trim(doc: Doc, tokens: list[int], head: int) -> list[int]:
    """Drop prepositions, conjunctions and punctuation from the edges of a phrase (never its head)."""
    while len(tokens) > 1 and tokens[0] != head and doc[tokens[0]].dep_ in EDGE_DROP:
        tokens = tokens[1:]
    while len(tokens) > 1 and tokens[-1] != head and doc[tokens[-1]].dep_ in EDGE_DROP:
        tokens = tokens[:-1]
    return tokens


def conjuncts(token: Token) -> list[Token]:
    """``token`` and the nominals coordinated with it ("Ada and Tom"), clauses excluded."""
    found = [token]
    name = entity_range(token)
    for child in token.children:
        if child.i in name or firm_name(token, child):
            continue  # "Delta & Pine Land Co.", "Farrant and Hale" are one name, not two
        if child.dep_ == "conj" and child.pos_ in NOMINAL and not has_child(child, SUBJECTS | {"cop"}):
            found.extend(conjuncts(child))
    return found


def firm_name(first: Token, second: Token) -> bool:
    """"Farrant and Hale" as the NER reads it: a one-word organisation (or other non-person name)
    coordinated with one more word is the organisation's name (a firm named after its founders), not two
    things; "Ada and Tom" (persons) and "Kettleby and Lanmere" (places) stay two."""
    if second.dep_ != "conj" or first.ent_type_ not in ("ORG", "OTH") or second.i != first.i + 2:
        return False
    if first.doc[first.i + 1].lower_ not in ("and", "&"):
        return False
    single = not any(c.dep_ in ("compound", "flat") and c.pos_ == "PROPN" for t in (first, second) for c in t.children)
    return single and is_name(second) and first.pos_ in ("PROPN", "NOUN")


def has_child(token: Token, deps: set[str]) -> bool:
    """Whether ``token`` has a dependent with one of these relations."""
    return any(c.dep_ in deps for c in token.children)


def case_text(token: Token) -> str:
    """The preposition(s) of an oblique or nominal modifier ("in", "because of")."""
    words = []
    for child in token.children:
        if child.dep_ == "case" and child.i < token.i:
            words.extend(t.lower_ for t in [child, *child.children] if t is child or t.dep_ == "fixed")
    return " ".join(words)


# ---------------------------------------------------------------- predicates and subjects


def negation(token: Token) -> str | None:
    """"not"/"never" when the clause headed by ``token`` is negated."""
    for child in token.children:
        if child.dep_ == "advmod" and child.lower_ in NEGATIONS:
            return NEGATIONS[child.lower_]
    return None


def verb_text(verb: Token) -> str:
    """The verb as written, with its auxiliaries, particle and negation: "was set up", "did not attend".

    Auxiliaries stay because they carry tense and voice ("was founded by" is not "founded"), and the
    fact text is embedded and shown as a readable clause; infinitive "to" belongs to the controller.
    """
    auxiliaries = [c for c in verb.children if c.dep_ in ("aux", "aux:pass") and c.lower_ != "to" and c.i < verb.i]
    words = [t.lower_ for t in auxiliaries]
    neg = negation(verb)
    if neg:
        words.insert(min(1, len(words)), neg)
    words.append(verb.lower_)
    words.extend(c.lower_ for c in verb.children if c.dep_ == "compound:prt")
    return " ".join(words)


def controller(verb: Token) -> Token | None:
    """The verb whose subject (or object) controls an ``xcomp`` verb without its own subject."""
    if verb.dep_ == "xcomp" and not has_child(verb, SUBJECTS) and is_predicate(verb.head):
        return verb.head
    return None


def own_text(token: Token) -> str:
    """The predicate words a clause head contributes itself: the verb, or the copula (+ adjective)."""
    cop = next((c for c in token.children if c.dep_ == "cop"), None)
    if cop is None:
        return verb_text(token)
    neg = negation(token)
    words = [cop.lower_, neg] if neg else [cop.lower_]
    return " ".join([*words, token.lower_] if token.pos_ == "ADJ" else words)


def predicate_text(token: Token) -> str:
    """Predicate words of a clause; controlled clauses chain their controller's ("wanted to build")."""
    own = own_text(token)
    head = controller(token)
    if head is None or has_child(head, {"obj"}):
        return own
    marks = [c.lower_ for c in token.children if c.dep_ == "mark"]
    return " ".join([predicate_text(head), *marks, own])


def is_predicate(token: Token) -> bool:
    """A verb heading a clause, or a nominal/adjective with a copula."""
    if token.dep_ in ("aux", "aux:pass", "cop", "compound"):
        return False
    if token.pos_ == "VERB" and token.dep_ != "amod":
        return True
    if token.pos_ not in ("NOUN", "PROPN", "PRON", "NUM") and has_child(token, VERBAL_ONLY):
        return True  # a verb mistagged as something else still has verb-only dependents
    return has_child(token, {"cop"})


def relative_antecedent(token: Token) -> Token | None:
    """The noun a relative pronoun stands for ("Ada, who ..." -> Ada)."""
    if token.lower_ not in RELATIVE_PRONOUNS or token.pos_ not in ("PRON", "DET"):
        return None
    for ancestor in token.ancestors:
        if ancestor.dep_ in ("acl:relcl", "advcl:relcl"):
            return ancestor.head
    return None


def resolve(token: Token) -> Token:
    """Relative pronouns become their antecedent; everything else stays."""
    return relative_antecedent(token) or token


def described(nominal: Token) -> list[Token]:
    """What a descriptive nominal describes, so that its participle modifiers are about that.

    "X is a 1916 film directed by Y" and "X, a film directed by Y, ..." are about X: the facts of
    "directed by Y" get X as subject, not the generic "film" (the commonest pattern of encyclopedic
    text). Only copular predicates and appositions qualify.
    """
    if has_child(nominal, {"cop"}):
        return [resolve(c) for c in nominal.children if c.dep_ in SUBJECTS]
    if nominal.dep_ == "appos" and nominal.head.pos_ in NOMINAL:
        return [nominal.head]
    return []


def subjects(pred: Token) -> list[Token]:
    """Who or what the clause headed by ``pred`` is about, written or inherited."""
    own = [resolve(c) for c in pred.children if c.dep_ in SUBJECTS]
    if own:
        return [t for s in own for t in conjuncts(s)]
    if has_child(pred, {"expl", "csubj"}):
        return []
    head = pred.head
    if pred.dep_ == "conj" and head.i != pred.i and is_predicate(head):
        return subjects(head)
    if pred.dep_ == "xcomp" and controller(pred) is not None:
        objects = [c for c in head.children if c.dep_ == "obj"]
        return conjuncts(objects[0]) if objects else subjects(head)
    if (pred.dep_ == "acl:relcl" or (pred.dep_ == "acl" and pred.i > head.i)) and head.pos_ in NOMINAL:
        if pred.dep_ == "acl":
            return described(head) or conjuncts(head)
        return [head]
    if pred.dep_ == "advcl" and {"Ger", "Part", "Inf"} & set(pred.morph.get("VerbForm")):
        return subjects(head) if is_predicate(head) else []
    return []


# ---------------------------------------------------------------- facts


def is_name(token: Token) -> bool:
    """A proper noun, or a word the NER put in an entity span (the tagger may call a name a NOUN)."""
    return token.pos_ == "PROPN" or bool(token.ent_type_)


def is_place(token: Token) -> bool:
    """A name the NER calls a location (LOC, or GPE/LOC in OntoNotes pipelines)."""
    return token.ent_type_ in ("LOC", "GPE")


def name_first(described: Token, description: Token) -> tuple[Token, Token]:
    """Put the name first: "the director, Ada" and "the winner was Ada" say that Ada is the director/winner."""
    if not is_name(described) and is_name(description):
        return description, described
    return described, description


def link_facts(subject: Token, nominal: Token, link: str) -> Iterator[Raw]:
    """(X, "link N of", Z) for each relational modifier or possessor Z of a common noun N, else (X, link, N).

    "X was the director of Y" says one thing, that X directed Y: (X, "was the director of", Y)
    states it, and a separate (X, "was", the director) would only repeat half of it.
    """
    for noun in conjuncts(nominal):
        relations = list(relational_facts(subject, link, noun))
        yield from relations or [(subject, link, noun)]


def relational_words(noun: Token) -> str:
    """The relational noun as the predicate writes it, with its determiner and modifiers but not its
    possessor: "the third director" (of Y), as the sentence says it."""
    possessor = {t.i for c in noun.children if c.dep_ == "nmod:poss" for t in c.subtree}
    tokens = [noun.doc[i] for i in phrase_tokens(noun, nested=True) if i not in possessor and i <= noun.i]
    words = [t.lower_ if t.pos_ == "DET" or (t.i == noun.i and noun.pos_ != "PROPN") else t.text for t in tokens]
    return " ".join(words) or noun.lower_


def relational_facts(subject: Token, link: str, noun: Token) -> Iterator[Raw]:
    """(X, "link N of", Z) for each of-phrase or possessor Z of a noun N that is not part of a name.

    A relational noun's complement is the fact ("X was the director of Y", "X launched a series of
    Z"): the of-phrase is left out of the argument (see :func:`noun_phrase`) and linked here.
    """
    word = relational_words(noun)
    for child in noun.children:
        if child.dep_ == "nmod" and case_text(child) == "of" and not is_name_part(child):
            for target in conjuncts(child):
                yield subject, f"{link} {word} of", target
        elif child.dep_ == "nmod:poss" and child.pos_ != "PRON":
            yield subject, f"{link} {word} of", child


def shared_objects(verb: Token) -> list[Token]:
    """Objects a coordinated verb shares with the first conjunct ("founded and directed the observatory").

    UD attaches a shared object to the first conjunct; it is shared when it stands after the later verb.
    """
    if verb.dep_ != "conj" or has_child(verb, {"obj", "ccomp", "xcomp"}) or not is_predicate(verb.head):
        return []
    return [c for c in verb.head.children if c.dep_ == "obj" and c.i > verb.i]


def verbal_facts(verb: Token) -> Iterator[Raw]:
    """Facts of a verb clause: one per object, oblique and nominal complement."""
    pred = predicate_text(verb)
    if is_parenthetical(verb):
        yield from ((subject, pred, verb.head) for subject in subjects(verb))
    for subject in subjects(verb):
        for child in [*verb.children, *shared_objects(verb)]:
            dep = child.dep_
            if dep == "obj":
                for target in conjuncts(resolve(child)):
                    rel = list(relational_facts(subject, pred, target))
                    if not rel:
                        yield subject, pred, target
                    yield from rel
            elif dep.startswith("obl"):
                prep = case_text(child)
                if prep or any(t.pos_ in ("NUM", "PROPN") for t in child.subtree):
                    for target in conjuncts(resolve(child)):
                        rel = list(relational_facts(subject, f"{pred} {prep}".strip(), target))
                        if not rel:
                            yield subject, f"{pred} {prep}".strip(), target
                        yield from rel
            elif dep == "xcomp" and child.pos_ in NOMINAL and not has_child(child, {"cop"}):
                yield from link_facts(subject, child, pred)
            elif dep == "ccomp" and has_child(child, SUBJECTS):
                # "X indicated that Y could carry Z", "X told Y that Z": the clause is what X said (to Y);
                # a quotation before its verb ('"Z," X said') is reported the same way
                told = [c for c in verb.children if c.dep_ in ("iobj", "obj") and c.i < child.i]
                words = [pred, *(render_phrase(verb.doc, noun_phrase(t)) for t in told)]
                yield subject, " ".join(words), child


def copular_facts(nominal: Token) -> Iterator[Raw]:
    """Facts of a copular clause: "X is a Y", "X was director of Y", "X is in Z", "X is famous for Z"."""
    link = predicate_text(nominal)
    for subject in subjects(nominal):
        prep = case_text(nominal)
        if prep:
            for target in conjuncts(nominal):
                yield subject, f"{link} {prep}", target
        elif nominal.pos_ in NOMINAL:
            yield from link_facts(*name_first(subject, nominal), link)
        elif nominal.pos_ == "ADJ":
            # "is famous for Z"; a noun's obliques are adjuncts of the clause ("was a telescope for years")
            for child in nominal.children:
                if child.dep_.startswith("obl") and case_text(child):
                    for target in conjuncts(resolve(child)):
                        yield subject, f"{link} {case_text(child)}", target


def appositive_facts(token: Token) -> Iterator[Raw]:
    """"Ada Lindqvist, the director of X": (Ada Lindqvist, "is", director), (.., "is director of", X)."""
    for child in token.children:
        if child.dep_ != "appos" or child.pos_ not in NOMINAL:
            continue
        link = "is in" if is_place(token) and is_place(child) else "is"  # "Kettleby, Marrshire"
        yield from link_facts(*name_first(token, child), link)


def located_facts(name: Token) -> Iterator[Raw]:
    """"the Academy Building in downtown Milwaukee": (the Academy Building, "is in", downtown Milwaukee).

    Only between names (one identified thing about another) and for prepositions of place: "Tomas
    Vey on 3 August" or "Comet Vey with the refractor" are attachments of the clause, not facts.
    """
    for child in name.children:
        prep = case_text(child)
        if child.dep_ == "nmod" and prep in PLACE_PREPOSITIONS and is_name(child):
            for target in conjuncts(child):
                yield name, f"is {prep}", target


def named(token: Token) -> Token:
    """The name a common noun is in apposition with ("the astronomer (,) Ada Lindqvist" -> Ada Lindqvist).

    The name is what the graph can link across passages; the apposition itself still gives
    (name, "is", the astronomer).
    """
    if is_name(token):
        return token
    return next((c for c in token.children if c.dep_ == "appos" and is_name(c) and c.pos_ in NOMINAL), token)


def _named_fact(fact: Raw) -> Raw:
    """The fact with each argument :func:`named`, unless that makes it about one thing twice."""
    subject, predicate, obj = fact
    named_subject, named_obj = named(subject), named(obj)
    return fact if named_subject.i == named_obj.i else (named_subject, predicate, named_obj)


def render_phrase(doc: Doc, arg: Arg) -> str:
    """A phrase's words as written, for a predicate that carries them ("told the reporters")."""
    return " ".join(doc[i].text for i in arg.tokens)


def clause_phrase(head: Token, without: Token | None = None) -> Arg:
    """A reported clause as an argument: its whole text, without edge punctuation (nor the parenthetical
    ``without`` that reports it: "The buyers, analysts added, could be ...")."""
    inside = {t.i for t in without.subtree} if without is not None else set()
    if inside and head.doc[min(inside) - 1].pos_ == "PUNCT":
        inside.add(min(inside) - 1)  # the comma that opened the parenthetical
    return Arg(head.i, tuple(_trim(head.doc, [t.i for t in head.subtree if t.i not in inside], head.i)))


def is_parenthetical(verb: Token) -> bool:
    """A bare "subject + verb" clause set off by a comma inside or after another clause ("..., the firm
    added", "The buyers, analysts said, could be ..."): it comments on that clause, which is its object.
    Anything more (an object, a complement, a marker, a clause of its own) makes it a clause of its own."""
    if verb.dep_ != "parataxis" or verb.pos_ != "VERB" or verb.i < verb.head.left_edge.i or not is_predicate(verb.head):
        return False
    if not has_child(verb.head, SUBJECTS):
        return False  # a fragment ("will close in June" with its subject cut off by a bad parse) is no statement
    if not has_child(verb, {"nsubj"}) or any(c.dep_ not in ("nsubj", "punct", "advmod", "aux") for c in verb.children):
        return False
    first = next(t for t in verb.subtree if t.pos_ != "PUNCT")
    return first.i > 0 and verb.doc[first.i - 1].text == ","


def sentence_facts(sentence: Span) -> list[Fact]:
    """Every fact the rules find in one parsed sentence, in token order, without duplicates.

    A fact read off a clause kept inside an argument ("the book that Ada wrote" -> (Ada, wrote, the
    book)) leaves that clause out of its own arguments.
    """
    raw: list[tuple[Raw, Token]] = []
    for token in sentence:
        found: list[Raw] = []
        if has_child(token, {"cop"}):
            found.extend(copular_facts(token))
        elif is_predicate(token):
            found.extend(verbal_facts(token))
        if token.pos_ in NOMINAL:
            found.extend(appositive_facts(token))
        if token.pos_ == "PROPN":
            found.extend(located_facts(token))
        raw.extend((fact, token) for fact in found)
    facts: list[Fact] = []
    seen: set[tuple[int, str, int]] = set()
    for (subject, predicate, obj), source in ((_named_fact(fact), source) for fact, source in raw):
        key = (subject.i, predicate, obj.i)
        commented = source.dep_ == "parataxis" and obj.i == source.head.i  # see is_parenthetical
        clause = obj.dep_ == "ccomp" or commented
        if key in seen or subject.i == obj.i or subject.pos_ not in NOMINAL or not (obj.pos_ in NOMINAL or clause):
            continue  # arguments are noun phrases or a reported clause: a mis-parsed adjective or verb is not
        seen.add(key)
        object_arg = clause_phrase(obj, source if commented else None) if clause else noun_phrase(obj, source)
        facts.append(Fact(noun_phrase(subject, source, subject=True), predicate, object_arg))
        for head in (subject, obj):
            title = title_phrase(head)
            if title is not None and (head.i, "is", title.head) not in seen:
                seen.add((head.i, "is", title.head))
                facts.append(Fact(noun_phrase(head), "is", title))
    return facts
