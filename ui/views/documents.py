"""Documents: what the store holds, adding files (with progress and skip reasons), deleting one.

Indexing runs in a background thread (:mod:`hippo.ui.jobs`), so leaving the page does not stop it
or lose its report: coming back shows the progress, or the summary once it is done.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

import hippo
from hippo.ui import common, jobs

REPORT_KEY = "documents_report"
JOB_KEY = "documents_job"
PENDING_KEY = "documents_pending_delete"
DELETED_KEY = "documents_deleted"


def upload(kg: hippo.KnowledgeGraph) -> None:
    """The upload form; indexing runs in the background with a progress bar, then its summary and skips."""
    running = st.session_state.get(JOB_KEY) is not None
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader(
            "Add documents", accept_multiple_files=True, key="upload_files", disabled=running,
            help=f"Accepted: {', '.join('.' + t for t in common.ACCEPTED_TYPES)}; at most "
                 f"{common.UPLOAD_LIMIT_MB} MB per file. Other files are skipped with the reason. A file is "
                 "recorded under its name, so the same file added here and from the command line is one document.")
        submitted = st.form_submit_button("Index", type="primary", icon=":material/upload:", disabled=running)
    if submitted and files:
        st.session_state.pop(REPORT_KEY, None)
        st.session_state[JOB_KEY] = jobs.start_indexing(kg, [(f.name, f.getvalue()) for f in files])
    elif submitted:
        st.warning("Choose one or more files first.")
    if st.session_state.get(JOB_KEY) is not None:
        progress()
    show_report(st.session_state.get(REPORT_KEY))


@st.fragment(run_every=1.0)
def progress() -> None:
    """The running job's progress, refreshed every second; when it is done, its report and a full rerun."""
    job: jobs.IndexJob | None = st.session_state.get(JOB_KEY)
    if job is None:
        return
    if not job.future.done():
        fraction, text = job.status()
        st.progress(fraction, text=text)
        return
    st.session_state.pop(JOB_KEY, None)
    st.session_state[REPORT_KEY] = job.outcome()
    st.rerun()  # the listing and the sidebar's counts include the new documents


def show_report(report: hippo.IndexReport | BaseException | None) -> None:
    if report is None:
        return
    if isinstance(report, BaseException):
        common.show_error(report)
        return
    if report.files_read or report.files_unchanged:
        st.success(common.report_summary(report), icon=":material/check_circle:")
    if report.skipped:
        counts = ", ".join(f"{n} {reason}" for reason, n in sorted(report.skip_counts().items()))
        st.warning(f"Skipped {len(report.skipped)} file(s) or record(s): {counts}.", icon=":material/warning:")
        st.dataframe([{"file": s.path, "reason": s.reason} for s in report.skipped], hide_index=True, width="stretch")
    if report.extraction_failures:
        st.caption(f"Fact extraction failed for {len(report.extraction_failures)} passage(s); their text is indexed.")


def listing(kg: hippo.KnowledgeGraph) -> None:
    """The documents with their passage counts, and deletion with a confirmation step."""
    summaries = kg.documents()
    st.subheader(f"{len(summaries):,} document(s) · {sum(s.passages for s in summaries):,} passage(s)")
    deleted = st.session_state.pop(DELETED_KEY, None)
    if deleted:
        st.success(deleted, icon=":material/delete:")
    if not summaries:
        st.info("No documents yet: add files above, or run `hippo index PATH --store ...`.")
        return
    st.dataframe([{"title": s.document.title, "passages": s.passages, "source": s.document.source,
                   "added": dt.datetime.fromtimestamp(s.document.added_at).strftime("%Y-%m-%d %H:%M"),
                   "id": s.document.id} for s in summaries], hide_index=True, width="stretch")
    by_id = {s.document.id: s for s in summaries}
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    chosen = left.selectbox("Document to delete", list(by_id), key="delete_choice", index=None,
                            placeholder="Choose a document…",
                            format_func=lambda i: f"{by_id[i].document.title} · {by_id[i].document.source}")
    if right.button("Delete…", key="delete_ask", disabled=chosen is None, icon=":material/delete:"):
        st.session_state[PENDING_KEY] = chosen
    pending = st.session_state.get(PENDING_KEY)
    if pending in by_id:
        confirm(kg, by_id[pending])


def confirm(kg: hippo.KnowledgeGraph, summary: Any) -> None:
    document = summary.document
    with st.container(border=True):
        st.warning(f"Delete **{common.escape_md(document.title)}** ({summary.passages} passage(s), "
                   f"`{document.id}`) with its passages, vectors and facts? This cannot be undone.")
        yes, no, _ = st.columns([1, 1, 4])
        if yes.button("Yes, delete", key="delete_yes", type="primary"):
            st.session_state.pop(PENDING_KEY, None)
            st.session_state.pop("delete_choice", None)
            removed = kg.delete(document.id)
            st.session_state.pop(REPORT_KEY, None)  # the last run's summary no longer describes the store
            st.session_state[DELETED_KEY] = "Deleted " + ", ".join(f"“{d.title}”" for d in removed) + "."
            st.rerun()
        if no.button("Cancel", key="delete_no"):
            st.session_state.pop(PENDING_KEY, None)
            st.rerun()


def render(kg: hippo.KnowledgeGraph) -> None:
    st.title("Documents")
    with common.errors_shown():
        upload(kg)
    with common.errors_shown():
        listing(kg)


def main() -> None:
    render(common.graph())


if __name__ == "__main__":  # Streamlit runs a page as __main__
    main()
