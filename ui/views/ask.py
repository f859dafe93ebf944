"""Ask: a question, a method and k; then the answer and its chain first, the evidence after.

The form's values live in the session (``persist_state``), so another page and back keeps them.
An asked question is also put in the URL (``?q=...&method=...&k=...``): a link reproduces the
answer, and the browser's back and forward move between the questions asked. The last
:data:`HISTORY` answers are kept in the session; one click shows one again without asking again.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import streamlit as st

import hippo
from hippo.ui import common, methods
from hippo.ui.answer_view import PASSAGE_KEY, show_answer

RESULT_KEY = "ask_result"
HISTORY_KEY = "ask_history"
URL_SEEN_KEY = "ask_url_seen"
QUESTION, METHOD, K = "ask_question", "ask_method", "ask_k"
HISTORY = 8
MAX_K = 50
PLACEHOLDER = "Type a question about your documents"


class Query(NamedTuple):
    """One question as asked: the question, the method and k (what the URL and the history hold)."""

    question: str
    method: str
    k: int

    def params(self) -> dict[str, str]:
        return {"q": self.question, "method": self.method, "k": str(self.k)}


def url_query(kg: hippo.KnowledgeGraph) -> Query | None:
    """The question in the URL, with the method and k it names (or the defaults), or None."""
    params = st.query_params
    question = params.get("q", "").strip()
    if not question:
        return None
    names, default = common.method_choices(kg)
    method = params.get("method", names[default])
    try:
        k = int(params.get("k", kg.settings.top_k))
    except ValueError:
        k = kg.settings.top_k
    return Query(question, method if method in names else names[default], min(max(k, 1), MAX_K))


def keep_form(query: Query) -> None:
    """Put ``query`` in the form (only before the form is drawn in this run)."""
    st.session_state[QUESTION], st.session_state[METHOD], st.session_state[K] = query


def remember(query: Query, answer: hippo.Answer) -> None:
    """Make ``answer`` the one shown, put it first in the history, and its query in the URL."""
    st.session_state[RESULT_KEY] = {"query": query, "answer": answer}
    history = [h for h in st.session_state.get(HISTORY_KEY, []) if h["query"] != query]
    st.session_state[HISTORY_KEY] = [{"query": query, "answer": answer}, *history][:HISTORY]
    st.session_state.pop(PASSAGE_KEY, None)
    show_in_url(query)


def show_in_url(query: Query) -> None:
    if url_params() != query.params():
        st.query_params.from_dict(query.params())
    st.session_state[URL_SEEN_KEY] = query


def url_params() -> dict[str, str]:
    return {k: st.query_params.get(k, "") for k in ("q", "method", "k")}


def answer(kg: hippo.KnowledgeGraph, query: Query) -> None:
    """Answer ``query``: from the history when it was asked in this session, else by ``kg.ask``."""
    for past in st.session_state.get(HISTORY_KEY, []):
        if past["query"] == query:
            remember(query, past["answer"])
            return
    with st.spinner("Retrieving and answering…"):
        result = kg.ask(query.question, k=query.k, method=query.method)
    remember(query, result)


def follow_url(kg: hippo.KnowledgeGraph) -> None:
    """A question in the URL that this session has not shown yet (a link, back or forward) is asked.

    Without one (the user came from another page), the URL gets the shown answer's question back.
    """
    query = url_query(kg)
    result = st.session_state.get(RESULT_KEY)
    if query is None:
        if result:
            show_in_url(result["query"])
        return
    if query == st.session_state.get(URL_SEEN_KEY):
        return
    keep_form(query)
    if not result or result["query"] != query:
        answer(kg, query)
    st.session_state[URL_SEEN_KEY] = query


def ask_form(kg: hippo.KnowledgeGraph) -> None:
    """The question box, method and k; a submitted question replaces the answer shown."""
    names, default = common.method_choices(kg)
    st.session_state.setdefault(METHOD, names[default])
    st.session_state.setdefault(K, kg.settings.top_k)
    with st.form("ask"):
        question = st.text_input("Question", key=QUESTION, placeholder=PLACEHOLDER, persist_state="session")
        left, right, _ = st.columns([2, 1, 3])
        method = left.selectbox("Method", names, key=METHOD, format_func=methods.label,
                                help=methods.method_help(names), persist_state="session")
        k = right.number_input("Passages (top k)", min_value=1, max_value=MAX_K, key=K, persist_state="session")
        submitted = st.form_submit_button("Ask", type="primary", icon=":material/search:")
    if not submitted:
        return
    if not (question or "").strip():
        st.warning("Type a question first.")
        return
    answer(kg, Query(question.strip(), method, int(k)))


def _show_past(past: dict[str, Any]) -> None:
    """History button callback: runs before the page, so the form can take the past question."""
    keep_form(past["query"])
    st.session_state[RESULT_KEY] = past
    st.session_state.pop(PASSAGE_KEY, None)


def show_history() -> None:
    """The questions asked in this session, newest first; a click shows that answer again."""
    history = st.session_state.get(HISTORY_KEY, [])
    if len(history) < 2:
        return
    with st.expander(f"Recent questions · {len(history)}"):
        for n, past in enumerate(history):
            query = past["query"]
            st.button(f"{common.escape_md(query.question)} · {methods.label(query.method)} · top {query.k}",
                      key=f"history-{n}", type="tertiary", icon=":material/history:", on_click=_show_past,
                      args=(past,))


def render(kg: hippo.KnowledgeGraph) -> None:
    st.title("Ask")
    if not kg.stats()["counts"].get("passages"):
        st.info("The store is empty: add documents on the Documents page (or run `hippo index PATH --store "
                f"{kg.store.location}`), then ask.")
        return
    with st.container():  # one element whatever it holds (a warning, the history), so the answer keeps its place
        follow_url(kg)
        ask_form(kg)
        show_history()
    result = st.session_state.get(RESULT_KEY)
    if not result:
        st.caption("hippo finds the passages that answer your question and shows the chain of facts that joins "
                   "them. Without a language model the answer is the best-matching sentences, quoted.")
        return
    show_in_url(result["query"])
    query = result["query"]
    show_answer(kg, result["answer"], query.method, query.k)


def main() -> None:
    kg = common.graph()
    with common.errors_shown():
        render(kg)


if __name__ == "__main__":  # Streamlit runs a page as __main__
    main()
