"""A changed document re-indexed with memory units: its new units associate with other documents only."""

import hippo

TEXTS = {
    "observatory": "The Marren Observatory stands on Marren Head. It was founded by Ada Lindqvist in 1871.",
    "village": "Kettleby is a village on the shore of Lake Imber. Ada Lindqvist was born there.",
    "railway": "The Imber Railway Company ran trains to Kettleby. It closed in 1952.",
    "lake": "Lake Imber is a lake in the north. Its shore has three villages.",
}


def test_reindexed_document_is_associated_with_other_documents_only(tmp_path):
    with hippo.open(tmp_path / "kg", extractor="none", memory_units="all") as kg:
        kg.add_texts(list(TEXTS.values()), [{"source": s} for s in TEXTS])
        changed = "The Marren Observatory stands on Marren Head. Ada Lindqvist founded it; Kettleby is near."
        kg.add_texts([changed], [{"source": "observatory"}])
        [doc] = kg.store.find_documents("observatory")
        own = {u.id for u in kg.store.document_units(doc.id)}
        a, b, _ = kg.store.memory_edges().associations
        links = [(x, y) for x, y in zip(a, b) if x in own]
        texts = [p.text for p in kg.store.iter_passages() if p.doc_id == doc.id]
    assert len(texts) == 1 and "Ada Lindqvist founded it" in texts[0]  # the changed text replaced the old one
    assert links, "the new units found no older unit to associate with"
    assert not any(y in own for _, y in links)
