"""Loading the spaCy pipeline of the rule-based extractor, and what the extractor asks of it.

One job: a pipeline loaded once per process, its layers multiplying with numpy's BLAS (:data:`NUMPY_BLAS`),
the components the rules never read (:func:`unused_components`), and the NER's sentence-encoder layer when
it has one (:func:`encoder_features`), through which the passage embedding comes from the parse's pass.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from thinc.api import Model, NumpyOps

import hippo
from hippo.errors import ConfigError
from hippo.ingest.extract import minilm_features  # noqa: F401  registers the bundled NER's encoder layer

__all__ = ["DEFAULT_MODEL", "NUMPY_BLAS", "encoder_features", "load_pipeline", "unused_components"]

DEFAULT_MODEL = Path(hippo.__file__).resolve().parents[1] / "data" / "models" / "en_hippo_ewt"

NUMPY_BLAS = NumpyOps(use_blis=False)
"""thinc's CPU operations with matrix products by numpy (OpenBLAS) instead of thinc's default BLIS.

Why: the pipeline's layers (the tok2vec's maxout windows, the NER's projection of the encoder features)
are products of a few thousand rows by a few hundred columns, which BLIS ran 3x slower than numpy's
OpenBLAS on this project's machines (2048 x 480 by 480: 32 ms against 11 ms, one thread); the bundled
pipeline extracted 2Wiki passages 17 % faster, with the same extractions (300 of 300 passages). numpy's
BLAS runs on one thread while parsing (``_extract_here``): a parse shares the cores with a helper process
or the embedder, where BLAS threads would spin-wait for each other."""


@lru_cache(maxsize=4)
def load_pipeline(model: str) -> Language:
    """Load a spaCy pipeline once per process (loading takes seconds, parsing milliseconds), its layers
    multiplying with numpy's BLAS (:data:`NUMPY_BLAS`)."""
    try:
        nlp = spacy.load(model)
    except OSError as error:
        raise ConfigError(
            f"spaCy pipeline {model!r} could not be loaded ({error}). Set Settings.extra['spacy_model'] to an "
            f"installed pipeline name (e.g. 'en_core_web_sm') or a folder, or restore {DEFAULT_MODEL}."
        ) from error
    for _, component in nlp.pipeline:
        layers = getattr(component, "model", None)
        for node in layers.walk() if isinstance(layers, Model) else ():
            node.ops = NUMPY_BLAS
    return nlp


def encoder_features(nlp: Language) -> Model | None:
    """The NER's sentence-encoder layer (:mod:`.minilm_features`), when the pipeline has one."""
    if "ner" not in nlp.pipe_names:
        return None
    return next((node for node in nlp.get_pipe("ner").model.walk() if node.name == "minilm_features"), None)


def unused_components(nlp: Language) -> list[str]:
    """Components whose output the rules never read (lemmas; XPOS when a morphologizer gives UPOS): ~15% faster."""
    names = set(nlp.pipe_names)
    unused = names & {"trainable_lemmatizer", "lemmatizer"}
    if "morphologizer" in names and "tagger" in names:
        unused.add("tagger")
    return sorted(unused)
