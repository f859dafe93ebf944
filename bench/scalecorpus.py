"""A generated encyclopedic corpus for the scale benchmark: short passages over a seeded world of entities.

The world holds people, places, regions, organisations and works with fixed attributes (a person's
birthplace and year, an organisation's founder, a work's creator...), so every passage that states a
fact states the same fact. Each passage is one document about one subject: its title, then 2-4
sentences drawn from the subject's facts (as subject or as object: "X founded Y in 1873" appears on
both pages), later sentences often by pronoun. Objects and subjects are drawn with Zipf-like weights,
so a few capitals, companies and prolific people become hubs, while most names occur a few times, and
chains (work -> creator -> birthplace -> region) run across passages.

Questions are two-hop ("Where was the founder of X born?"); their gold is, per hop, every passage
that states the hop's fact, so retrieval can be sanity-checked at each size.

Usage: python bench/scalecorpus.py N OUT_DIR  (writes OUT_DIR/part-*.json and OUT_DIR/questions.json)
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Corpus", "Question", "generate", "write_corpus"]

ONSETS = [
    "b",
    "br",
    "c",
    "ch",
    "d",
    "dr",
    "f",
    "g",
    "gr",
    "h",
    "k",
    "kl",
    "l",
    "m",
    "n",
    "p",
    "pr",
    "r",
    "s",
    "sk",
    "st",
    "t",
    "th",
    "tr",
    "v",
    "w",
    "z",
]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "ai", "ei", "ou", "y"]
CODAS = ["", "", "n", "r", "l", "s", "th", "nd", "rk", "st", "m", "ck", "x"]
FEMALE = [
    "Ada",
    "Alma",
    "Astrid",
    "Beatrix",
    "Clara",
    "Dora",
    "Edith",
    "Elin",
    "Elsa",
    "Emma",
    "Freya",
    "Greta",
    "Hanna",
    "Helena",
    "Ida",
    "Ines",
    "Iris",
    "Johanna",
    "Karin",
    "Lena",
    "Lotte",
    "Lucia",
    "Maja",
    "Marta",
    "Mira",
    "Nora",
    "Olga",
    "Petra",
    "Rosa",
    "Ruth",
    "Sara",
    "Selma",
    "Sofia",
    "Tove",
    "Ulla",
    "Vera",
    "Wilma",
]
MALE = [
    "Albin",
    "Anton",
    "Arvid",
    "Bruno",
    "Carl",
    "Dag",
    "Edvin",
    "Emil",
    "Erik",
    "Felix",
    "Gustav",
    "Hugo",
    "Isak",
    "Jakob",
    "Johan",
    "Karl",
    "Leo",
    "Lukas",
    "Magnus",
    "Nils",
    "Oskar",
    "Otto",
    "Paul",
    "Rasmus",
    "Sixten",
    "Stig",
    "Teo",
    "Tomas",
    "Ture",
    "Viktor",
    "Vilgot",
    "Walter",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
PLACE_SUFFIX = ["ford", "by", "ton", "wick", "mouth", "holm", "stead", "field", "haven", "bridge", "dal", "berg"]
REGION_FORMS = ["{} Province", "{}shire", "{}land", "the {} Valley", "{} County"]
ORG_FORMS = [
    ("university", "University of {place}"),
    ("company", "{place} Railway Company"),
    ("company", "{surname} Shipping Company"),
    ("institute", "{surname} Institute"),
    ("observatory", "{place} Observatory"),
    ("museum", "{place} Museum of Art"),
    ("company", "{word} Records"),
    ("company", "{word} Press"),
    ("company", "{surname} Brewery"),
]
ADJECTIVES = [
    "Silent",
    "Grey",
    "Last",
    "Golden",
    "Hidden",
    "Northern",
    "Broken",
    "Distant",
    "Crimson",
    "Quiet",
    "Winter",
    "Forgotten",
    "Burning",
    "Lonely",
    "Bright",
    "Restless",
    "Iron",
    "Glass",
    "Wild",
    "Second",
]
NOUNS = [
    "Harbour",
    "Garden",
    "River",
    "Lantern",
    "Orchard",
    "Bridge",
    "Voyage",
    "Letter",
    "Mirror",
    "Tower",
    "Meadow",
    "Island",
    "Horizon",
    "Promise",
    "Station",
    "Shadow",
    "Festival",
    "Winter",
    "Crown",
    "Valley",
]
WORK_KINDS = {"film": "directed", "novel": "wrote", "opera": "composed", "painting": "painted"}
WORK_VERB = {"film": "directed by", "novel": "written by", "opera": "composed by", "painting": "painted by"}
WORK_ROLE = {"film": "director", "novel": "author", "opera": "composer", "painting": "painter"}


@dataclass(frozen=True)
class Question:
    """A two-hop question; ``gold[i]`` is the set of record ids stating hop ``i``'s fact."""

    question: str
    answer: str
    gold: tuple[frozenset[str], ...]


@dataclass
class Corpus:
    records: list[dict] = field(default_factory=list)  # {"id", "title", "text"}
    questions: list[Question] = field(default_factory=list)


class _Names:
    """Unique pseudo-words and names from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def word(self, syllables: tuple[int, int] = (2, 3)) -> str:
        count = self.rng.randint(*syllables)
        return "".join(
            self.rng.choice(ONSETS) + self.rng.choice(VOWELS) + self.rng.choice(CODAS) for _ in range(count)
        ).capitalize()

    def unique(self, make: Callable[[], str]) -> str:
        for _ in range(50):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        name = f"{make()} {len(self.used)}"
        self.used.add(name)
        return name


def _zipf(rng: np.random.Generator, n: int, size: int, s: float, offset: float = 2.0) -> np.ndarray:
    """``size`` indices in [0, n) with weights 1/(rank + offset)^s: a few heavy hitters, a long tail."""
    weights = 1.0 / (np.arange(n) + offset) ** s
    return rng.choice(n, size=size, p=weights / weights.sum())


@dataclass
class _World:
    people: list[str]
    female: list[bool]
    places: list[str]
    regions: list[str]
    orgs: list[tuple[str, str]]  # (name, kind)
    works: list[tuple[str, str]]  # (title, kind)
    facts: dict[str, list[tuple[str, tuple]]]  # entity -> [(fact key, sentence parts)]


def _build_world(n: int, seed: int) -> _World:
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    names = _Names(rng)
    n_people, n_places, n_regions = max(50, n // 3), max(20, n // 20), max(8, n // 800)
    n_orgs, n_works = max(20, n // 12), max(20, n // 5)
    regions = [names.unique(lambda: rng.choice(REGION_FORMS).format(names.word((2, 2)))) for _ in range(n_regions)]
    places = [names.unique(lambda: names.word((1, 2)) + rng.choice(PLACE_SUFFIX)) for _ in range(n_places)]
    surnames = [names.word((1, 2)) + rng.choice(["", "", "son", "berg", "ström", "ley"]) for _ in range(n_people)]
    female = [rng.random() < 0.5 for _ in range(n_people)]
    people = [
        names.unique(lambda i=i: f"{rng.choice(FEMALE if female[i] else MALE)} {surnames[i]}") for i in range(n_people)
    ]
    orgs = []
    for _ in range(n_orgs):
        kind, form = rng.choice(ORG_FORMS)
        orgs.append(
            (
                names.unique(
                    lambda form=form: form.format(
                        place=rng.choice(places), word=names.word((2, 2)), surname=rng.choice(surnames)
                    )
                ),
                kind,
            )
        )
    works = []
    for _ in range(n_works):
        kind = rng.choice(list(WORK_KINDS))
        works.append(
            (
                names.unique(
                    lambda: rng.choice(
                        [
                            f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}",
                            f"{rng.choice(NOUNS)} of {rng.choice(places)}",
                            f"The {names.word((2, 2))} {rng.choice(NOUNS)}",
                        ]
                    )
                ),
                kind,
            )
        )
    facts: dict[str, list[tuple[str, tuple]]] = defaultdict(list)

    def add(key: str, parts: tuple, *owners: str) -> None:
        for owner in owners:
            facts[owner].append((key, parts))

    birthplaces = _zipf(nrng, n_places, n_people, 1.0)
    employers = _zipf(nrng, n_orgs, n_people, 0.9)
    deaths = _zipf(nrng, n_places, n_people, 1.0)
    for i, person in enumerate(people):
        year = rng.randint(1760, 1980)
        day, month = rng.randint(1, 28), rng.choice(MONTHS)
        add(f"born:{person}", ("born", person, places[birthplaces[i]], f"{day} {month} {year}", year), person)
        add(f"employer:{person}", ("employer", person, orgs[employers[i]][0], year + rng.randint(20, 35)), person)
        if rng.random() < 0.5:
            add(f"died:{person}", ("died", person, places[deaths[i]], year + rng.randint(40, 90)), person)
    for i in range(0, n_people - 1, 2):
        if rng.random() < 0.6:
            j = rng.randrange(n_people)
            if j != i:
                add(f"spouse:{people[i]}", ("spouse", people[i], people[j]), people[i], people[j])
    founders = _zipf(nrng, n_people, n_orgs, 0.6, offset=10.0)
    seats = _zipf(nrng, n_places, n_orgs, 1.0)
    for i, (org, kind) in enumerate(orgs):
        founder = people[founders[i]]
        add(f"founder:{org}", ("founder", org, founder, rng.randint(1790, 1990), kind), org, founder)
        add(f"seat:{org}", ("seat", org, places[seats[i]], kind), org)
    creators = _zipf(nrng, n_people, n_works, 0.6, offset=10.0)
    settings = _zipf(nrng, n_places, n_works, 1.0)
    for i, (work, kind) in enumerate(works):
        creator = people[creators[i]]
        add(f"creator:{work}", ("creator", work, creator, rng.randint(1800, 2010), kind), work, creator)
        if rng.random() < 0.7:
            add(f"setting:{work}", ("setting", work, places[settings[i]], kind), work)
    in_region = _zipf(nrng, n_regions, n_places, 0.7)
    for i, place in enumerate(places):
        add(f"region:{place}", ("region", place, regions[in_region[i]], rng.randint(2, 900) * 100), place)
    return _World(people, female, places, regions, orgs, works, dict(facts))


def _sentence(parts: tuple, subject: str, pronoun: str | None, rng: random.Random) -> str:
    """The fact ``parts`` as a sentence on ``subject``'s page; ``pronoun`` replaces the subject when it leads."""
    kind = parts[0]

    def lead(name: str) -> str:
        return pronoun if pronoun and name == subject else name

    if kind == "born":
        _, person, place, date, year = parts
        return rng.choice(
            [f"{lead(person)} was born in {place} on {date}.", f"{lead(person)} was born on {date} in {place}."]
        )
    if kind == "employer":
        _, person, org, year = parts
        return rng.choice([f"{lead(person)} worked for the {org}.", f"In {year}, {person} joined the {org}."])
    if kind == "died":
        _, person, place, year = parts
        return f"{lead(person)} died in {place} in {year}."
    if kind == "spouse":
        _, a, b = parts
        return f"{lead(a)} married {b}." if a == subject else f"{lead(b)} married {a}."
    if kind == "founder":
        _, org, person, year, org_kind = parts
        if subject == person:
            return f"{lead(person)} founded the {org} in {year}."
        return rng.choice(
            [
                f"The {org} was founded by {person} in {year}.",
                f"The {org} is a {org_kind} founded in {year} by {person}.",
            ]
        )
    if kind == "seat":
        _, org, place, org_kind = parts
        return rng.choice([f"The {org} is based in {place}.", f"The {org} has its seat in {place}."])
    if kind == "creator":
        _, work, person, year, work_kind = parts
        if subject == person:
            article = "an" if work_kind[0] in "aeiou" else "a"
            return f"{lead(person)} {WORK_KINDS[work_kind]} {work}, {article} {work_kind} from {year}."
        return rng.choice(
            [
                f"{work} is a {year} {work_kind} {WORK_VERB[work_kind]} {person}.",
                f"The {work_kind} {work}, {WORK_VERB[work_kind]} {person}, appeared in {year}.",
            ]
        )
    if kind == "setting":
        _, work, place, work_kind = parts
        return f"The {work_kind} {work} is set in {place}."
    _, place, region, population = parts  # region
    return rng.choice(
        [f"{place} is a town in {region}.", f"{place} is a town in {region} with about {population} inhabitants."]
    )


def _pronoun(subject: str, world: _World, index: dict[str, int]) -> str:
    if subject in index:
        return "She" if world.female[index[subject]] else "He"
    return "It"


def generate(n: int, seed: int = 7, questions: int = 50) -> Corpus:
    """``n`` one-passage records and up to ``questions`` two-hop questions, all determined by ``seed``."""
    world = _build_world(n, seed)
    rng = random.Random(seed + 1)
    nrng = np.random.default_rng(seed + 1)
    subjects = [e for e in world.facts if len(world.facts[e]) >= 2]
    rng.shuffle(subjects)
    picks = _zipf(nrng, len(subjects), n, 0.5, offset=20.0)
    person_index = {p: i for i, p in enumerate(world.people)}
    corpus = Corpus()
    stated: dict[str, set[str]] = defaultdict(set)
    for number, pick in enumerate(picks):
        subject = subjects[pick]
        facts = world.facts[subject]
        chosen = rng.sample(facts, k=min(len(facts), rng.randint(2, 4)))
        pronoun = _pronoun(subject, world, person_index)
        record_id = f"s{number:06d}"
        sentences = []
        for position, (key, parts) in enumerate(chosen):
            use_pronoun = position > 0 and subject in person_index and rng.random() < 0.4
            sentences.append(_sentence(parts, subject, pronoun if use_pronoun else None, rng))
            stated[key].add(record_id)
        corpus.records.append({"id": record_id, "title": subject, "text": " ".join(sentences)})
    corpus.questions = _questions(world, stated, rng, questions)
    return corpus


def _questions(world: _World, stated: dict[str, set[str]], rng: random.Random, wanted: int) -> list[Question]:
    """Two-hop questions whose both hops are stated somewhere in the corpus."""
    facts = {key: parts for entries in world.facts.values() for key, parts in entries}
    found: list[Question] = []
    keys = sorted(k for k in stated if k.split(":", 1)[0] in {"founder", "creator", "seat", "spouse"})
    rng.shuffle(keys)
    for key in keys:
        parts = facts[key]
        kind = parts[0]
        if kind == "founder":
            second, text = f"born:{parts[2]}", f"Where was the founder of the {parts[1]} born?"
            answer = facts.get(second, ("", "", ""))[2]
        elif kind == "creator":
            second = f"born:{parts[2]}"
            text = f"In which year was the {WORK_ROLE[parts[4]]} of the {parts[4]} {parts[1]} born?"
            answer = str(facts.get(second, ("",) * 5)[4])
        elif kind == "seat":
            second, text = f"region:{parts[2]}", f"In which region is the town where the {parts[1]} is based?"
            answer = facts.get(second, ("", "", ""))[2]
        else:
            second, text = f"employer:{parts[2]}", f"Which organisation did the spouse of {parts[1]} work for?"
            answer = facts.get(second, ("", "", ""))[2]
        if second in stated and answer:
            found.append(Question(text, answer, (frozenset(stated[key]), frozenset(stated[second]))))
        if len(found) >= wanted:
            break
    return found


def write_corpus(corpus: Corpus, folder: Path, records_per_file: int = 1000) -> list[Path]:
    """Write the records as ``part-NNNN.json`` corpus files and the questions as ``questions.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, start in enumerate(range(0, len(corpus.records), records_per_file)):
        path = folder / f"part-{number:04d}.json"
        path.write_text(json.dumps(corpus.records[start : start + records_per_file], ensure_ascii=False))
        paths.append(path)
    (folder / "questions.json").write_text(
        json.dumps(
            [
                {"question": q.question, "answer": q.answer, "gold": [sorted(g) for g in q.gold]}
                for q in corpus.questions
            ],
            indent=1,
            ensure_ascii=False,
        )
    )
    return paths


if __name__ == "__main__":
    size, out = int(sys.argv[1]), Path(sys.argv[2])
    generated = generate(size)
    write_corpus(generated, out)
    print(f"{len(generated.records)} records, {len(generated.questions)} questions in {out}")
