"""HippoRAG's OpenIE results file: read it, and write a store's passages in it.

The layout is the one HippoRAG 2 keeps as ``openie_results_ner_<model>.json``::

    {"docs": [{"idx": "chunk-<md5 of passage>", "passage": "Title\\ntext ...",
               "extracted_entities": ["Radio City", "India"],
               "extracted_triples": [["Radio City", "located in", "India"]]}],
     "avg_ent_chars": 8.67, "avg_ent_words": 2.0}

so an extraction made with HippoRAG (or any tool that writes this layout) can be indexed by
hippo without running an extractor (``hippo index --openie FILE``), and hippo's extractions
can be handed to HippoRAG (``hippo export --openie FILE``). Entities and triples are kept as
written; ``idx`` is recomputed from the passage on export, as HippoRAG does on load.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hippo.errors import IngestError
from hippo.stores.base import GraphStore

__all__ = ["OpenIEDoc", "export_openie", "openie_idx", "read_openie", "store_openie_docs", "write_openie"]

_BATCH = 500


@dataclass(frozen=True)
class OpenIEDoc:
    """One passage of an OpenIE file with its entities and ``(subject, predicate, object)`` triples."""

    idx: str
    passage: str
    entities: tuple[str, ...]
    triples: tuple[tuple[str, str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"idx": self.idx, "passage": self.passage, "extracted_entities": list(self.entities),
                "extracted_triples": [list(t) for t in self.triples]}


def openie_idx(passage: str) -> str:
    """HippoRAG's id of a passage: ``"chunk-"`` + the md5 of its text.

    >>> openie_idx("Radio City")
    'chunk-4d5f3eb70cabd955e44506f3f6e79caa'
    """
    return "chunk-" + hashlib.md5(passage.encode("utf-8")).hexdigest()


def read_openie(path: str | os.PathLike[str]) -> list[OpenIEDoc]:
    """The docs of an OpenIE file; triples that are not three strings are dropped.

    Raises :class:`IngestError` naming the file and the problem when it is not such a file.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IngestError(f"no OpenIE file at {path}; give the path of a HippoRAG openie_results_*.json.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IngestError(f"{path} is not a readable OpenIE JSON file ({exc}).") from None
    docs = data.get("docs") if isinstance(data, dict) else None
    if not isinstance(docs, list):
        raise IngestError(f'{path} has no "docs" list; an OpenIE file looks like {{"docs": [{{"idx", "passage", '
                          '"extracted_entities", "extracted_triples"}}, ...]}}.')
    out = []
    for number, doc in enumerate(docs, start=1):
        if not isinstance(doc, dict) or not isinstance(doc.get("passage"), str):
            raise IngestError(f'{path}: doc {number} has no "passage" text; every doc needs one.')
        entities = [str(e) for e in doc.get("extracted_entities") or [] if isinstance(e, str | int | float)]
        triples = [(str(t[0]), str(t[1]), str(t[2])) for t in doc.get("extracted_triples") or []
                   if isinstance(t, list) and len(t) == 3 and all(isinstance(x, str | int | float) for x in t)]
        out.append(OpenIEDoc(str(doc.get("idx") or openie_idx(doc["passage"])), doc["passage"],
                             tuple(dict.fromkeys(entities)), tuple(dict.fromkeys(triples))))
    return out


def write_openie(path: str | os.PathLike[str], docs: Sequence[OpenIEDoc]) -> None:
    """Write ``docs`` in HippoRAG's layout, with its two averages over the extracted entities."""
    entities = [e for d in docs for e in d.entities]
    chars = round(sum(len(e) for e in entities) / len(entities), 4) if entities else 0.0
    words = round(sum(len(e.split()) for e in entities) / len(entities), 4) if entities else 0.0
    data = {"docs": [d.to_dict() for d in docs], "avg_ent_chars": chars, "avg_ent_words": words}
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def store_openie_docs(store: GraphStore) -> Iterator[OpenIEDoc]:
    """Every passage of ``store`` with the entities it mentions and the facts it states, in store order."""
    batch = []
    for passage in store.iter_passages():
        batch.append(passage)
        if len(batch) >= _BATCH:
            yield from _docs(store, batch)
            batch = []
    yield from _docs(store, batch)


def _docs(store: GraphStore, passages: list[Any]) -> Iterator[OpenIEDoc]:
    ids = [p.passage_id for p in passages]
    mentions = store.mentions_of_passages(ids)
    facts = store.facts_of_passages(ids)
    for p in passages:
        yield OpenIEDoc(openie_idx(p.text), p.text,
                        tuple(dict.fromkeys(e.display for e in mentions.get(p.passage_id, []))),
                        tuple(dict.fromkeys((f.subject, f.predicate, f.object) for f in facts.get(p.passage_id, []))))


def export_openie(store: GraphStore, path: str | os.PathLike[str]) -> int:
    """Write the store's passages with their entities and triples as an OpenIE file; return the passage count."""
    docs = list(store_openie_docs(store))
    write_openie(path, docs)
    return len(docs)
