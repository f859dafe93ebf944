"""hippo's web UI: the script ``hippo ui`` runs with Streamlit.

It opens the store named by ``$HIPPO_STORE`` (an error there is shown as a message, with an
offer to create a store when the folder does not exist), then runs the chosen page.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

import hippo
from hippo.ui import common

PAGE_ICON = str(Path(__file__).resolve().parent / "static" / "hippo.png")  # local: no icon CDN


def sidebar(kg: hippo.KnowledgeGraph) -> None:
    """The store's location and headline counts."""
    with st.sidebar, common.errors_shown():
        counts = kg.stats()["counts"]
        st.caption(f"Store `{kg.store.location}`")
        st.caption(" · ".join(f"{counts.get(k, 0):,} {k}" for k in ("documents", "passages", "entities", "facts")))


def store_or_stop() -> hippo.KnowledgeGraph:
    """The open knowledge graph; on failure a readable message (and a way out) and the run stops."""
    try:
        return common.graph()
    except hippo.HippoError as exc:
        st.title("hippo")
        common.show_error(exc)
        location = common.store_location()
        if not Path(location).exists():
            st.write(f"Start with an empty store at `{location}` and add documents on the Documents page.")
            if st.button("Create an empty store", type="primary"):
                with common.errors_shown():
                    common.create_store()
                    st.rerun()
        st.stop()


def main() -> None:
    st.set_page_config(page_title="hippo", page_icon=PAGE_ICON, layout="wide")
    kg = store_or_stop()
    pages = [
        st.Page(common.PAGES["ask"], title="Ask", icon=":material/question_answer:", default=True),
        st.Page(common.PAGES["explore"], title="Explore", icon=":material/hub:"),
        st.Page(common.PAGES["documents"], title="Documents", icon=":material/description:"),
        st.Page(common.PAGES["stats"], title="Stats", icon=":material/monitoring:"),
    ]
    page = st.navigation(pages)
    page.run()
    sidebar(kg)  # after the page, so the counts include what it just added or deleted


if __name__ == "__main__":  # Streamlit runs this file as __main__
    main()
