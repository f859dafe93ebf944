"""What a fact argument becomes in the graph: names cut to their name words, common nouns marked, numbers labelled."""

from __future__ import annotations

import pytest

from hippo.ingest.extract.labels import COMMON, DATE, label_rank, title_label
from hippo.ingest.extract.spacy import DEFAULT_MODEL, SpacyExtractor


@pytest.fixture(scope="module")
def extractor() -> SpacyExtractor:
    if not (DEFAULT_MODEL / "meta.json").exists():
        pytest.skip(f"bundled spaCy pipeline not found at {DEFAULT_MODEL}")
    return SpacyExtractor(processes=1)


def entities(extractor: SpacyExtractor, text: str) -> dict[str, str | None]:
    (result,) = extractor.extract([text])
    return {m.display: m.label for m in result.entities}


def test_a_name_loses_its_determiner_but_the_fact_keeps_the_words(extractor):
    (result,) = extractor.extract(["Ada Lindqvist founded the Marren Observatory in 1871."])
    found = {m.display: m.label for m in result.entities}
    assert "Marren Observatory" in found and "the Marren Observatory" not in found
    assert found["Marren Observatory"] not in (COMMON, None)
    assert found["1871"] == DATE
    founded = next(t for t in result.triples if t.predicate == "founded")
    assert (founded.object, founded.object_entity) == ("the Marren Observatory", "Marren Observatory")


def test_common_noun_phrases_are_marked_and_cut_to_their_own_words(extractor):
    found = entities(extractor, "The University of Coldbrook did not award Ada Lindqvist a degree. "
                                "Ada Lindqvist spent her later life in Harrowgate.")
    assert found.get("degree") == COMMON and "Ada Lindqvist a degree" not in found
    assert found.get("later life") == COMMON and "Harrowgate" in found
    assert not any(display.casefold().startswith(("the ", "a ", "an ")) for display in found)


def test_a_single_capitalised_word_after_the_is_a_description(extractor):
    found = entities(extractor, "The Duke married a Protestant denomination.")
    assert found.get("Duke") == COMMON
    assert found.get("Protestant denomination") == COMMON


def test_a_name_the_ner_split_is_merged_when_the_parse_joins_it(extractor):
    found = entities(extractor, "Celine Dion sang a song.")
    assert "Celine Dion" in found and found["Celine Dion"] != COMMON


def test_dates_carry_their_label(extractor):
    found = entities(extractor, "The courthouse was used on September 20.")
    assert found.get("September 20") == DATE and found.get("courthouse") == COMMON


def test_labels_rank_names_above_numbers_above_common_nouns():
    assert label_rank("PER") > label_rank("PROPN") > label_rank(DATE) > label_rank(COMMON) > label_rank(None)


@pytest.mark.parametrize("title, label", [("Jung Eun-ji", "PROPN"), ("1871", None), ("March 3, 1999", None),
                                          ("the weather", None), ("The Marren Observatory", "PROPN"),
                                          (" ".join(["Word"] * 40), None), ("", None)])
def test_title_label_skips_what_is_not_a_name(title, label):
    assert title_label(title) == label


def test_a_firm_named_after_two_people_stays_one_name_and_people_stay_two(extractor):
    found = entities(extractor, "The Farrant Transit Circle was built by Farrant and Hale.")
    assert "Farrant and Hale" in found and "Hale" not in found and "Farrant" not in found
    found = entities(extractor, "Ada and Tom visited Kettleby.")
    assert "Ada" in found and "Tom" in found
