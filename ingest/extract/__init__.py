"""Built-in extractors, registered by name (imported by :func:`~hippo.ingest.extract.base.get_extractor`)."""

from hippo.config import Settings
from hippo.ingest.extract.base import Extractor, LLMSource, register_extractor


def _spacy(settings: Settings) -> Extractor:
    """The rule-based spaCy extractor, imported on use so that spaCy loads only when it is chosen."""
    from hippo.ingest.extract.spacy import SpacyExtractor

    return SpacyExtractor(settings.extra.get("spacy_model"), processes=settings.extract_processes)


def _llm(settings: Settings, llm: LLMSource | None) -> Extractor:
    """NER then facts by an OpenAI-compatible LLM (``hippo.ingest.extract.llm``)."""
    from hippo.ingest.extract.llm import LLMExtractor

    return LLMExtractor.from_settings(settings, llm)


register_extractor("spacy", _spacy)
register_extractor("llm", _llm, uses_llm=True)
