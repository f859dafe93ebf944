"""What an extractor returns, and the table of extractors by name.

An extractor reads passage texts and returns, per passage, the entities it mentions and
the subject-predicate-object triples it states, in display form. The pipeline turns them
into graph records: entity identity is :func:`hippo.text.normalize_name` of the display
form, every triple argument is also an entity, and provenance records the extractor name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from hippo.config import Settings
from hippo.errors import UnknownMethodError

if TYPE_CHECKING:
    from hippo.llm.client import LLMClient

__all__ = ["Mention", "Triple", "Extraction", "Extractor", "EXTRACTORS", "LLMSource", "register_extractor",
           "get_extractor"]


@dataclass(frozen=True)
class Mention:
    """An entity as written in a passage, with its NER label when it has one (PER, ORG, LOC, OTH...)."""

    display: str
    label: str | None = None


@dataclass(frozen=True)
class Triple:
    """A fact as written: subject and object as the text states them, predicate is short text.

    ``subject_entity`` and ``object_entity`` name the entities the arguments are, when narrower than
    the argument ("Marren Observatory" for "the third director of the Marren Observatory"'s
    object); empty means the argument itself is the entity's display form.
    """

    subject: str
    predicate: str
    object: str
    subject_entity: str = ""
    object_entity: str = ""


@dataclass(frozen=True)
class Extraction:
    """What one passage yielded; ``failed`` holds the reason when extraction failed for it.

    ``extractor`` names the extractor that produced it when that is not the one run (a
    fallback); the pipeline records it as the facts' provenance. ``vector`` is the passage's
    embedding when the extractor computed it on the way (the spaCy extractor's NER runs the
    passage model anyway, see ``spacy.SpacyExtractor.extract``), else None.
    """

    entities: tuple[Mention, ...] = ()
    triples: tuple[Triple, ...] = ()
    failed: str | None = None
    extractor: str | None = None
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)


class Extractor(Protocol):
    """Anything with a name that turns texts into one :class:`Extraction` each, in order."""

    name: str

    def extract(self, texts: Sequence[str]) -> list[Extraction]: ...


ExtractorFactory = Callable[..., Extractor]
"""``factory(settings)``, or ``factory(settings, llm)`` for one registered with ``uses_llm=True``."""
LLMSource = Callable[[], "LLMClient | None"]
"""Gives the store's LLM client (opened on first call), or None when no LLM is configured."""
EXTRACTORS: dict[str, ExtractorFactory] = {}
_USES_LLM: set[str] = set()


def register_extractor(name: str, factory: ExtractorFactory, *, uses_llm: bool = False) -> None:
    """Make ``factory`` available as ``Settings(extractor=name)``.

    With ``uses_llm`` the factory also receives an :data:`LLMSource`, so that it shares the
    store's client (its response cache and usage counts) instead of opening its own.
    """
    EXTRACTORS[name] = factory
    if uses_llm:
        _USES_LLM.add(name)
    else:
        _USES_LLM.discard(name)


def get_extractor(settings: Settings, llm: LLMSource | None = None) -> Extractor | None:
    """The extractor the settings name, or None for ``"none"`` (passages only).

    ``llm`` gives the LLM client to extractors that use one; without it they open their own
    (with no response cache).
    """
    from hippo.ingest import extract  # noqa: F401  (registers the built-in extractors)

    if settings.extractor == "none":
        return None
    try:
        factory = EXTRACTORS[settings.extractor]
    except KeyError:
        raise UnknownMethodError(
            f"unknown extractor {settings.extractor!r}; choose one of: {', '.join(sorted([*EXTRACTORS, 'none']))}."
        ) from None
    if settings.extractor in _USES_LLM:
        return factory(settings, llm)
    return factory(settings)
