"""What an extractor returns, and the table of extractors by name.

An extractor reads passage texts and returns, per passage, the entities it mentions and
the subject-predicate-object triples it states, in display form. The pipeline turns them
into graph records: entity identity is :func:`hippo.text.normalize_name` of the display
form, every triple argument is also an entity, and provenance records the extractor name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hippo.config import Settings
from hippo.errors import UnknownMethodError

__all__ = ["Mention", "Triple", "Extraction", "Extractor", "EXTRACTORS", "register_extractor", "get_extractor"]


@dataclass(frozen=True)
class Mention:
    """An entity as written in a passage, with its NER label when it has one (PER, ORG, LOC, OTH...)."""

    display: str
    label: str | None = None


@dataclass(frozen=True)
class Triple:
    """A fact as written: subject and object are entity display forms, predicate is short text."""

    subject: str
    predicate: str
    object: str


@dataclass(frozen=True)
class Extraction:
    """What one passage yielded; ``failed`` holds the reason when extraction failed for it."""

    entities: tuple[Mention, ...] = ()
    triples: tuple[Triple, ...] = ()
    failed: str | None = None


class Extractor(Protocol):
    """Anything with a name that turns texts into one :class:`Extraction` each, in order."""

    name: str

    def extract(self, texts: Sequence[str]) -> list[Extraction]: ...


ExtractorFactory = Callable[[Settings], Extractor]
EXTRACTORS: dict[str, ExtractorFactory] = {}


def register_extractor(name: str, factory: ExtractorFactory) -> None:
    """Make ``factory`` available as ``Settings(extractor=name)``."""
    EXTRACTORS[name] = factory


def get_extractor(settings: Settings) -> Extractor | None:
    """The extractor the settings name, or None for ``"none"`` (passages only)."""
    from hippo.ingest import extract  # noqa: F401  (registers the built-in extractors)

    if settings.extractor == "none":
        return None
    try:
        factory = EXTRACTORS[settings.extractor]
    except KeyError:
        raise UnknownMethodError(
            f"unknown extractor {settings.extractor!r}; choose one of: {', '.join(sorted([*EXTRACTORS, 'none']))}."
        ) from None
    return factory(settings)
