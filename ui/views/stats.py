"""Stats: counts by kind, the models in use, and the settings the store was built with."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

import hippo
from hippo.embed import embedding_identity
from hippo.ui import common

PER_ROW = 5
ROW_PX = 35  # st.dataframe's row height: show every setting without scrolling


ROLE_NAMES = {"passage": "passages", "query": "questions", "entity": "entity names", "fact": "facts"}


def models(settings: dict[str, Any]) -> list[dict[str, str]]:
    """The models this store uses: one row per embedding model with what it embeds (a split store has two),
    then the extractor and any other model the settings name."""
    extra = settings.get("extra") or {}
    rows = embedding_rows(str(settings.get("embed_model", "")))
    extractor = str(settings.get("extractor", "none"))
    if extractor == "spacy":
        extractor += f" ({extra.get('spacy_model') or 'bundled en_hippo_ewt'})"
    rows.append({"role": "fact extraction", "model": extractor})
    for key, value in sorted(extra.items()):
        if "model" in key and key != "spacy_model":
            rows.append({"role": key, "model": str(value)})
    return rows


def embedding_rows(embed_model: str) -> list[dict[str, str]]:
    """``embed_model`` as rows "embeds passages, questions" -> model identity, in the order roles are listed."""
    by_model: dict[str, list[str]] = {}
    for role, identity in embedding_identity(embed_model).items():
        if role in ROLE_NAMES:
            by_model.setdefault(identity["model"], []).append(ROLE_NAMES[role])
    return [{"role": "embeds " + ", ".join(roles), "model": model} for model, roles in by_model.items()]


def render(kg: hippo.KnowledgeGraph) -> None:
    st.title("Stats")
    data = kg.stats()
    st.caption(f"Store `{data['store']}` · version {data['version']}")
    st.subheader("Counts")
    counts = list(data["counts"].items())
    for start in range(0, len(counts), PER_ROW):
        for column, (name, count) in zip(st.columns(PER_ROW), counts[start:start + PER_ROW]):
            column.metric(name, f"{count:,}")
    settings = data["settings"]
    st.subheader("Models")
    st.dataframe(models(settings), hide_index=True)
    st.subheader("Settings")
    rows = [{"setting": k, "value": json.dumps(v) if isinstance(v, (dict, list)) else str(v)}
            for k, v in settings.items()]
    st.dataframe(rows, hide_index=True, height=ROW_PX * (len(rows) + 1) + 3)
    rest = {k: v for k, v in data.items() if k not in {"store", "version", "counts", "settings"}}
    if rest:
        st.subheader("More")
        st.json(rest, expanded=False)


def main() -> None:
    kg = common.graph()
    with common.errors_shown():
        render(kg)


if __name__ == "__main__":  # Streamlit runs a page as __main__
    main()
