"""The rule-based spaCy extractor on real sentences, one construction per test, with the bundled model."""

from __future__ import annotations

from pathlib import Path

import pytest
from thinc.api import Model, NumpyOps

from hippo.config import Settings
from hippo.errors import ConfigError
from hippo.ingest.extract.base import Extraction, Mention, Triple, get_extractor
from hippo.ingest.extract.spacy import DEFAULT_MODEL, SpacyExtractor

needs_model = pytest.mark.skipif(
    not (DEFAULT_MODEL / "meta.json").exists(),
    reason=f"bundled spaCy pipeline not found at {DEFAULT_MODEL} (train and package it: ingest/extract/training)",
)


@pytest.fixture(scope="module")
def extractor() -> SpacyExtractor:
    """One extractor for the module; the pipeline itself is cached per process."""
    if not (DEFAULT_MODEL / "meta.json").exists():
        pytest.skip(f"bundled spaCy pipeline not found at {DEFAULT_MODEL}")
    ex = SpacyExtractor()
    assert ex.nlp is not None  # load once, here
    return ex


def facts(extractor: SpacyExtractor, text: str) -> set[tuple[str, str, str]]:
    (result,) = extractor.extract([text])
    assert result.failed is None
    return {(t.subject, t.predicate, t.object) for t in result.triples}


def test_registered_by_name_and_lazy_about_the_model(tmp_path: Path):
    ex = get_extractor(Settings(extractor="spacy", extra={"spacy_model": str(tmp_path / "no-model")}))
    assert isinstance(ex, SpacyExtractor) and ex.name == "spacy"
    with pytest.raises(ConfigError, match="could not be loaded"):
        ex.extract(["Ada Lindqvist founded the observatory."])


def test_default_model_is_the_bundled_one():
    assert SpacyExtractor().model == str(DEFAULT_MODEL)
    assert DEFAULT_MODEL.parts[-3:] == ("data", "models", "en_hippo_ewt")


@needs_model
def test_the_pipeline_multiplies_with_numpy_blas_not_blis(extractor):
    """BLIS ran the pipeline's products 3x slower than numpy's OpenBLAS here (see ``NUMPY_BLAS``)."""
    layers = [node for _, pipe in extractor.nlp.pipeline if isinstance(getattr(pipe, "model", None), Model)
              for node in pipe.model.walk()]
    assert layers and all(isinstance(node.ops, NumpyOps) and not node.ops.use_blis for node in layers)


@needs_model
def test_empty_input_gives_empty_output(extractor):
    assert extractor.extract([]) == []
    assert extractor.extract(["", "   \n  "]) == [Extraction(), Extraction()]


@needs_model
def test_active_clause(extractor):
    assert facts(extractor, "Ada Lindqvist founded the Marren Observatory.") == {
        ("Ada Lindqvist", "founded", "the Marren Observatory")}


@needs_model
def test_passive_clause_keeps_the_agent_preposition(extractor):
    assert facts(extractor, "The Marren Observatory was founded by Ada Lindqvist.") == {
        ("The Marren Observatory", "was founded by", "Ada Lindqvist")}


@needs_model
def test_copula(extractor):
    assert facts(extractor, "Kettleby is a small village.") == {("Kettleby", "is", "a small village")}


@needs_model
def test_adjectives_are_not_entities_but_their_objects_are(extractor):
    assert facts(extractor, "Ada Lindqvist was famous.") == set()
    assert facts(extractor, "Ada Lindqvist was proud of the observatory.") == {
        ("Ada Lindqvist", "was proud of", "the observatory")}


@needs_model
def test_copula_with_of_phrase_splits_it_into_the_predicate(extractor):
    assert facts(extractor, "Tom Berg was the director of the Bank of England.") == {
        ("Tom Berg", "was the director of", "the Bank of England")}


@needs_model
def test_apposition(extractor):
    assert facts(extractor, "Tom Berg, the director of the Bank of England, visited Kettleby.") == {
        ("Tom Berg", "is the director of", "the Bank of England"), ("Tom Berg", "visited", "Kettleby")}


@needs_model
def test_name_comes_first_in_links(extractor):
    assert facts(extractor, "The winner was Ada Lindqvist.") == {("Ada Lindqvist", "was", "The winner")}
    assert facts(extractor, "The director, Ada Lindqvist, visited London.") == {
        ("Ada Lindqvist", "is", "The director"), ("Ada Lindqvist", "visited", "London")}


@needs_model
def test_title_before_a_person_is_split_off(extractor):
    assert facts(extractor, "Ada Lindqvist met the physicist Tom Berg in London.") == {
        ("Ada Lindqvist", "met", "Tom Berg"), ("Ada Lindqvist", "met in", "London"),
        ("Tom Berg", "is", "the physicist")}


def test_a_title_of_address_is_split_off_without_a_fact(extractor):
    """"Mr." says how the sentence addresses Baker, not what Baker is: no (Baker, is, Mr.), no "Mr." node."""
    (result,) = extractor.extract(["Mr. Baker found an opening under the house in Leeds."])
    assert not any(t.object.rstrip(".").lower() == "mr" for t in result.triples)
    assert not any(m.display.rstrip(".").lower() == "mr" for m in result.entities)


@needs_model
def test_apposition_of_two_places_is_containment(extractor):
    assert facts(extractor, "The observatory lies in Uppsala, Sweden.") == {
        ("The observatory", "lies in", "Uppsala"), ("Uppsala", "is in", "Sweden")}


@needs_model
def test_of_phrase_of_an_object_goes_into_the_predicate(extractor):
    assert facts(extractor, "Ada Lindqvist launched a series of expeditions.") == {
        ("Ada Lindqvist", "launched a series of", "expeditions")}


@needs_model
def test_prepositional_object(extractor):
    assert facts(extractor, "Ada Lindqvist was born in Kettleby.") == {("Ada Lindqvist", "was born in", "Kettleby")}


@needs_model
def test_conjoined_subjects_are_distributed(extractor):
    assert facts(extractor, "Ada Lindqvist and Tom Berg founded the observatory.") == {
        ("Ada Lindqvist", "founded", "the observatory"), ("Tom Berg", "founded", "the observatory")}


@needs_model
def test_conjoined_objects_are_distributed(extractor):
    assert facts(extractor, "Ada Lindqvist visited Paris and Berlin.") == {
        ("Ada Lindqvist", "visited", "Paris"), ("Ada Lindqvist", "visited", "Berlin")}


@needs_model
def test_coordinated_verbs_share_the_subject(extractor):
    assert facts(extractor, "Ada Lindqvist studied astronomy and founded an observatory.") == {
        ("Ada Lindqvist", "studied", "astronomy"), ("Ada Lindqvist", "founded", "an observatory")}


@needs_model
def test_relative_clause_takes_the_antecedent_as_subject(extractor):
    assert facts(extractor, "Ada Lindqvist, who founded the observatory, was born in Kettleby.") == {
        ("Ada Lindqvist", "founded", "the observatory"), ("Ada Lindqvist", "was born in", "Kettleby")}


@needs_model
def test_negation_stays_in_the_predicate(extractor):
    assert facts(extractor, "Tom Berg did not attend the University of Coldbrook.") == {
        ("Tom Berg", "did not attend", "the University of Coldbrook")}


@needs_model
def test_dates_and_numbers_are_whole_arguments(extractor):
    assert facts(extractor, "The observatory opened on 3 July 2001.") == {
        ("The observatory", "opened on", "3 July 2001")}
    assert facts(extractor, "The expedition lasted 40 days.") == {("The expedition", "lasted", "40 days")}


@needs_model
def test_person_pronoun_resolves_to_the_last_person_of_the_passage(extractor):
    text = "Ada Lindqvist was born in Sweden. She studied at the University of Coldbrook."
    assert facts(extractor, text) == {
        ("Ada Lindqvist", "was born in", "Sweden"), ("Ada Lindqvist", "studied at", "the University of Coldbrook")}


@needs_model
def test_object_pronoun_is_not_the_subject_and_a_reflexive_is(extractor):
    text = "Ada Lindqvist met Tom Berg in London. Tom Berg thanked her for the telescope."
    assert ("Tom Berg", "thanked", "Ada Lindqvist") in facts(extractor, text)
    # "himself" is Tom Berg: a fact about Tom Berg and Tom Berg says nothing and is dropped
    assert facts(extractor, "Tom Berg introduced himself to Ada Lindqvist.") == {
        ("Tom Berg", "introduced to", "Ada Lindqvist")}


@needs_model
def test_it_resolves_to_the_last_non_person_subject(extractor):
    text = "The observatory lost its funding in 1950. It closed in 1962."
    assert facts(extractor, text) >= {("The observatory", "lost in", "1950"), ("The observatory", "closed in", "1962")}


@needs_model
def test_unresolved_pronouns_drop_the_fact(extractor):
    (result,) = extractor.extract(["She studied at the University of Coldbrook. They visited Kettleby."])
    assert result.triples == ()
    assert all(m.display.lower() not in {"she", "they"} for m in result.entities)


@needs_model
def test_entities_keep_their_ner_label(extractor):
    (result,) = extractor.extract(["Ada Lindqvist was born in Kettleby."])
    assert Mention("Ada Lindqvist", "PER") in result.entities
    assert {m.display for m in result.entities} == {"Ada Lindqvist", "Kettleby"}


@needs_model
def test_non_ascii_names_are_kept(extractor):
    assert facts(extractor, "Sebastián Piñera visited Zürich.") == {("Sebastián Piñera", "visited", "Zürich")}


@needs_model
def test_text_without_verbs_gives_entities_but_no_triples(extractor):
    (result,) = extractor.extract(["Ada Lindqvist."])
    assert result.triples == ()
    assert [m.display for m in result.entities] == ["Ada Lindqvist"]


@needs_model
def test_title_line_is_parsed_apart_and_results_keep_input_order(extractor):
    texts = ["Kettleby\nKettleby is a small village.", "Ada Lindqvist founded the observatory."]
    first, second = extractor.extract(texts)
    assert first.triples == (Triple("Kettleby", "is", "a small village", object_entity="small village"),)
    assert second.triples == (Triple("Ada Lindqvist", "founded", "the observatory", object_entity="observatory"),)


@needs_model
def test_participle_of_a_descriptive_nominal_is_about_the_described_subject(extractor):
    text = "Madame la Presidente is a 1916 comedy directed by Frank Lloyd."
    assert facts(extractor, text) == {("Madame la Presidente", "is", "a 1916 comedy directed by Frank Lloyd"),
                                      ("Madame la Presidente", "directed by", "Frank Lloyd")}


@needs_model
def test_a_common_noun_keeps_its_relative_clause_but_not_in_the_clause_own_fact(extractor):
    found = facts(extractor, "An animal that cares for its young is a good parent.")
    assert found == {("An animal that cares for its young", "is", "a good parent")}
    found = facts(extractor, "The telescope that Ada Lindqvist built stands in Kettleby.")
    assert ("Ada Lindqvist", "built", "The telescope") in found


@needs_model
def test_a_reported_clause_is_the_object(extractor):
    found = facts(extractor, "This finding indicated that organic compounds could carry current.")
    assert ("This finding", "indicated", "organic compounds could carry current") in found


@needs_model
def test_unresolved_pronouns_can_be_kept_for_sentence_level_scoring():
    from hippo.ingest.extract.spacy import SpacyExtractor

    keeping = SpacyExtractor(keep_pronouns=True)
    [extraction] = keeping.extract(["He founded the observatory."])
    assert {(t.subject, t.predicate, t.object) for t in extraction.triples} == {("He", "founded", "the observatory")}


@needs_model
def test_a_subject_keeps_its_of_phrases_but_its_entity_is_the_head_noun(extractor):
    """A subject's of-phrase has no other fact to go to ("The majority" alone says nothing)."""
    [result] = extractor.extract(["The majority of the residents of Kettleby were born in Marrshire."])
    assert result.triples == (Triple("The majority of the residents of Kettleby", "were born in", "Marrshire",
                                     subject_entity="majority"),)


@needs_model
def test_a_quotation_before_its_verb_is_the_object(extractor):
    found = facts(extractor, '"The telescope is very old," said Tom Vey.')
    assert found == {("Tom Vey", "said", "The telescope is very old")}


@needs_model
def test_a_parenthetical_subject_and_verb_report_the_clause_around_them(extractor):
    found = facts(extractor, "The telescope, the director said, was very old.")
    assert found == {("the director", "said", "The telescope was very old")}
