"""Query-name linking: whole names or at least two words, labels decide what is a name."""

from __future__ import annotations

from hippo.graph.linking import NameIndex, build_name_index, link_names, name_kind


def test_a_bare_surname_inside_a_longer_name_does_not_link():
    index = NameIndex({"jiménez": 3, "ada lindqvist": 5})
    assert link_names("Who is the father of Juan Jiménez?", index).tolist() == []
    assert link_names("Where did Jiménez study?", index).tolist() == [3]
    assert link_names("Where was Ada Lindqvist born?", index).tolist() == [5]


def test_two_words_of_a_longer_name_link():
    index = NameIndex({"marren observatory": 2})
    assert link_names("Who founded the Old Marren Observatory?", index).tolist() == [2]


def test_labels_decide_names_numbers_and_common_nouns():
    assert name_kind("PER", "Ada") == "name" and name_kind("PROPN", "Vey") == "name"
    assert name_kind("DATE", "1871") == "number" and name_kind("NOUN", "Duke") == "common"
    assert name_kind(None, "Kettleby") == "name" and name_kind(None, "part") == "common"


def test_numbers_link_from_the_query_but_are_not_named_for_fact_seeds():
    ids, names = ["e1", "e2", "e3"], ["1871", "ada lindqvist", "observatory"]
    index = build_name_index(ids, names, ["1871", "Ada Lindqvist", "observatory"], {"e1": 0, "e2": 1, "e3": 2},
                             {"e1": "DATE", "e2": "PER", "e3": "NOUN"})
    assert set(index.rows) == {"1871", "ada lindqvist"} and index.named == frozenset({1})
    assert link_names("What happened in 1871?", index).tolist() == [0]
