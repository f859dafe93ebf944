"""LLM fact extractor (``Settings(extractor="llm")``): named entities, then facts that use them.

Two requests per passage, as HippoRAG 2 makes them: first the named entities, then the
subject-predicate-object triples with those entities given to the model (the prompts are in
:mod:`hippo.llm.prompts`). A passage with no entities costs one request: no triple could use
one. All passages of a batch are sent concurrently and every reply is cached, so re-indexing
the same text is free.

Replies are read with :func:`hippo.llm.replies.parse_json` (code fences, ``<think>`` blocks and
truncated lists are handled). A passage whose reply cannot be used is recorded as *extraction
failed* with the reason (it keeps its passage, and any entities already read), never filled
with guesses. With ``Settings.extra["llm_fallback"] = "spacy"`` (or another registered extractor)
failed passages are extracted by that one instead, and its name is their facts' provenance.
If the endpoint itself is unusable (cannot connect, refuses the key, has no such model) the
batch stops with :class:`~hippo.errors.LLMError` before anything of it is written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from hippo.config import Settings
from hippo.errors import ConfigError, LLMError
from hippo.ingest.extract.base import EXTRACTORS, Extraction, Extractor, LLMSource, Mention, Triple, get_extractor
from hippo.llm.client import ChatRequest, LLMClient, Reply, open_client
from hippo.llm.prompts import NER_SCHEMA, TRIPLES_SCHEMA, ner_messages, triple_messages
from hippo.llm.replies import parse_json

__all__ = ["LLMExtractor", "parse_entities", "parse_triples"]

logger = logging.getLogger(__name__)

NER_MAX_TOKENS = 512


class LLMExtractor:
    """Entities and facts from an OpenAI-compatible chat model; see the module docstring."""

    name = "llm"

    def __init__(self, client: LLMClient, fallback: Settings | None = None) -> None:
        """``fallback`` are the settings of the extractor that takes over failed passages (None: none)."""
        self.client = client
        self._fallback_settings = fallback
        self._fallback: Extractor | None = None

    @classmethod
    def from_settings(cls, settings: Settings, llm: LLMSource | None = None) -> LLMExtractor:
        """The extractor for ``settings``: the client from ``llm`` (or a new, uncached one) and the fallback."""
        client = llm() if llm is not None else open_client(settings)
        if client is None:
            raise ConfigError(
                "extractor 'llm' needs an LLM endpoint, and none is configured; set HIPPO_LLM_MODEL and "
                "HIPPO_LLM_BASE_URL (or Settings.extra['llm']), or use extractor='spacy' to stay offline."
            )
        name = settings.extra.get("llm_fallback")
        if name in (None, "", "none"):
            return cls(client)
        if name == cls.name or name not in EXTRACTORS:
            known = sorted(set(EXTRACTORS) - {cls.name})
            raise ConfigError(f"Settings.extra['llm_fallback']={name!r}; choose one of: {', '.join(known)}, none.")
        return cls(client, settings.replace(extractor=name))

    def extract(self, texts: Sequence[str]) -> list[Extraction]:
        """One :class:`Extraction` per text, in order (see the module docstring for failures)."""
        before = self.client.usage.to_dict()
        ner = self.client.chat_many([
            ChatRequest(ner_messages(t), schema=NER_SCHEMA, schema_name="named_entities", max_tokens=NER_MAX_TOKENS)
            for t in texts
        ])
        entities: list[tuple[str, ...] | str] = [_read(reply, parse_entities, "named entities") for reply in ner]
        asked = [i for i, found in enumerate(entities) if isinstance(found, tuple) and found]
        facts = self.client.chat_many([
            ChatRequest(triple_messages(texts[i], entities[i]), schema=TRIPLES_SCHEMA, schema_name="triples")
            for i in asked
        ])
        triples: dict[int, tuple[Triple, ...] | str] = {
            i: _read(reply, parse_triples, "facts") for i, reply in zip(asked, facts)
        }
        out: list[Extraction] = []
        for i, found in enumerate(entities):
            if isinstance(found, str):
                out.append(Extraction(failed=found))
                continue
            mentions = tuple(Mention(name) for name in found)
            got = triples.get(i, ())
            out.append(Extraction(mentions, failed=got) if isinstance(got, str) else Extraction(mentions, got))
        out = self._fall_back(texts, out)
        used = self.client.usage.since(before)
        logger.info("LLM extraction of %d passage(s): %d request(s), %d cache hit(s), %d failure(s), "
                    "%d prompt + %d completion tokens", len(texts), used["requests"], used["cache_hits"],
                    sum(1 for e in out if e.failed), used["prompt_tokens"], used["completion_tokens"])
        return out

    def _fall_back(self, texts: Sequence[str], results: list[Extraction]) -> list[Extraction]:
        failed = [i for i, e in enumerate(results) if e.failed]
        if not failed or self._fallback_settings is None:
            return results
        fallback = self._fallback = self._fallback or get_extractor(self._fallback_settings)
        if fallback is None:
            return results
        logger.warning("LLM extraction failed for %d passage(s); extracting them with %r instead (first reason: %s)",
                       len(failed), fallback.name, results[failed[0]].failed)
        redone = fallback.extract([texts[i] for i in failed])
        for i, extraction in zip(failed, redone):
            results[i] = Extraction(extraction.entities, extraction.triples, extraction.failed,
                                    extraction.extractor or fallback.name)
        return results


def _read(reply: Reply | LLMError, parse: Any, what: str) -> Any:
    """``parse`` of a reply's JSON, or the failure reason as a string."""
    if isinstance(reply, LLMError):
        return f"{what}: {reply}"
    try:
        return parse(parse_json(reply.text, truncated=reply.truncated))
    except LLMError as exc:
        return f"{what}: {exc}"


def parse_entities(data: Any) -> tuple[str, ...]:
    """Entity names from a NER reply (``{"named_entities": [...]}`` or a bare list), deduplicated in order.

    >>> parse_entities({"named_entities": ["Ada", " Ada ", "Kettleby", 1871]})
    ('Ada', 'Kettleby', '1871')
    """
    items = data.get("named_entities") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise LLMError(f'the reply has no "named_entities" list: {_short(data)}')
    names = (" ".join(str(x).split()) for x in items if isinstance(x, str | int | float) and not isinstance(x, bool))
    return tuple(dict.fromkeys(n for n in names if n))


def parse_triples(data: Any) -> tuple[Triple, ...]:
    """Triples from a facts reply (``{"triples": [[s, p, o], ...]}``); items of another shape are dropped.

    >>> parse_triples({"triples": [["Ada", "born in", "Kettleby"], ["Ada"], ["Ada", "born in", "Kettleby"]]})
    (Triple(subject='Ada', predicate='born in', object='Kettleby'),)
    """
    items = data.get("triples") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise LLMError(f'the reply has no "triples" list: {_short(data)}')
    found: dict[Triple, None] = {}
    for item in items:
        if isinstance(item, dict):
            item = [item.get("subject"), item.get("predicate"), item.get("object")]
        if not (isinstance(item, list) and len(item) == 3 and all(isinstance(x, str | int | float) for x in item)):
            continue
        parts = [" ".join(str(x).split()) for x in item]
        if all(parts):
            found.setdefault(Triple(*parts), None)
    if items and not found:
        raise LLMError(f"none of the {len(items)} triple(s) has the form [subject, predicate, object]: "
                       f"{_short(items)}")
    return tuple(found)


def _short(data: Any, width: int = 80) -> str:
    text = " ".join(str(data).split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")
