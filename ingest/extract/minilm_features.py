"""Contextual word features from hippo's bundled sentence encoder, as a thinc layer for spaCy's NER.

Why: the bundled pipeline learns its named-entity recogniser from UNER English-EWT alone, about 8,000
train mentions. It finds most names it saw in training but only a third of the unseen ones: a name's
class ("Enron" is an organisation, "Kabul" a place) is world knowledge that 12,500 sentences of web
text do not hold. hippo already ships a pretrained transformer, the all-MiniLM-L6-v2 sentence encoder
(``hippo/embed.py``); its hidden states carry that knowledge. This layer runs the encoder, frozen,
over each Doc's words and gives every token the mean of its word pieces' hidden states (by default
layers 3 and 6, concatenated), so the NER can read them next to its own CNN features.

The encoder's weights are not copied into the spaCy pipeline (that would add 90 MB): the layer holds
no parameters and loads the encoder through ``hippo.embed`` when it first runs, so the pipeline needs
hippo installed (the architecture is registered under the ``spacy_architectures`` entry point, so a
plain ``spacy.load`` finds it). Gradients stop here: the encoder stays exactly the one that embeds
passages.

Long Docs are cut into windows of at most ``MAX_PIECES`` word pieces at word boundaries; each window
is encoded on its own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d

__all__ = ["ENCODER_WIDTH", "FEATURES_KEY", "MAX_PIECES", "minilm_features"]

ENCODER_WIDTH = 384  # hidden size of all-MiniLM-L6-v2
MAX_PIECES = 256  # word pieces per window (the encoder was trained on inputs of up to 256)
TRAIN_CACHE = 40_000  # sentences whose features are kept between training epochs
FEATURES_KEY = "hippo.minilm_features"
"""``Doc.user_data`` key of features computed beforehand: ``(layers, array (len(doc), width))``; the layer
uses them instead of running the encoder (see ``shared_pass``, which encodes a passage once for both jobs)."""


@registry.architectures("hippo.MiniLMFeatures.v1")
def minilm_features(
    encoder: str = "all-MiniLM-L6-v2", layers: Sequence[int] = (3, 6), batch_size: int = 32
) -> Model[list[Doc], list[Floats2d]]:
    """A frozen layer: Docs -> one (n_tokens, 384 * len(layers)) array of encoder features per Doc.

    Parameters
    ----------
    encoder
        A sentence-transformers model name or folder, resolved by ``hippo.embed.load_embedder``.
    layers
        Which hidden states to concatenate (0 = the word-piece embeddings, 6 = the last layer).
    batch_size
        Windows encoded per forward pass, at most (and at most ``hippo.embed_batches.BATCH_TOKENS`` word pieces).
    """
    return Model(
        "minilm_features",
        _forward,
        attrs={"encoder": encoder, "layers": tuple(layers), "batch_size": batch_size},
        dims={"nO": ENCODER_WIDTH * len(layers)},
    )


def _forward(model: Model, docs: list[Doc], is_train: bool):
    encoder, layers, batch = model.attrs["encoder"], model.attrs["layers"], model.attrs["batch_size"]
    cache = _train_cache(encoder, layers) if is_train else None
    words = [tuple(t.text for t in doc) for doc in docs]
    outputs: list[np.ndarray | None] = [None] * len(docs)
    todo: list[int] = []
    for i, key in enumerate(words):
        given = docs[i].user_data.get(FEATURES_KEY)
        if given is not None and given[0] == tuple(layers):  # computed with the passage's embedding
            outputs[i] = given[1]
        elif cache is not None and key in cache:
            cache.move_to_end(key)
            outputs[i] = cache[key]
        else:
            todo.append(i)
    encoded = encode_words([list(words[i]) for i in todo], encoder, layers, batch)
    for i, features in zip(todo, encoded):
        outputs[i] = features
        if cache is not None:
            cache[words[i]] = features
            if len(cache) > TRAIN_CACHE:
                cache.popitem(last=False)
    return [model.ops.asarray2f(x) for x in outputs], lambda d_outputs: []


@lru_cache(maxsize=2)
def _train_cache(encoder: str, layers: tuple[int, ...]) -> OrderedDict:
    """Features of training sentences, reused across epochs (the encoder is frozen)."""
    return OrderedDict()


@lru_cache(maxsize=2)
def _encoder(name: str, depth: int):
    """(tokenizer, transformer, torch threads) of the sentence encoder ``name``, loaded once per process.

    Only the first ``depth`` layers run: features from lower layers cost proportionally less. The
    truncated transformer is a copy; the embedder's own is left whole.
    """
    import copy

    from hippo.embed import load_embedder

    embedder = load_embedder(name)
    tokenizer, transformer = embedder.transformer()
    blocks = getattr(getattr(transformer, "encoder", None), "layer", None)  # BERT-style models
    if blocks is not None and depth < len(blocks):
        transformer = copy.deepcopy(transformer)
        transformer.encoder.layer = transformer.encoder.layer[:depth]
    transformer.eval()
    return tokenizer, transformer, embedder.threads


def encode_words(
    docs_words: list[list[str]], encoder: str, layers: Sequence[int], batch_size: int = 32
) -> list[np.ndarray]:
    """Per word, the mean of its word pieces' hidden states at ``layers`` (concatenated), per Doc.

    A word the tokenizer drops entirely (whitespace) gets zeros.
    """
    import torch

    from hippo.embed_batches import BATCH_TOKENS, threads_for, token_batches

    tokenizer, transformer, threads = _encoder(encoder, max(layers))
    windows = [w for doc_index, words in enumerate(docs_words) for w in _windows(tokenizer, doc_index, words)]
    width = ENCODER_WIDTH * len(layers)
    out = [np.zeros((len(words), width), dtype="float32") for words in docs_words]
    counts = [np.zeros(len(words), dtype="float32") for words in docs_words]
    batches = token_batches([len(w[2]) + 2 for w in windows], BATCH_TOKENS, batch_size)  # like lengths together
    with torch.inference_mode(), threads_for(len(windows), threads):  # one thread by default, as for passages
        for batch in batches:
            part = [windows[i] for i in batch]
            states = _hidden_states(tokenizer, transformer, [w[2] for w in part], layers)
            for row, (doc_index, word_of_piece, _pieces) in enumerate(part):
                n = len(word_of_piece)
                np.add.at(out[doc_index], word_of_piece, states[row, 1 : n + 1])
                np.add.at(counts[doc_index], word_of_piece, 1.0)
    for features, n in zip(out, counts):
        features /= np.maximum(n, 1.0)[:, None]
    return out


def _windows(tokenizer, doc_index: int, words: list[str]) -> list[tuple[int, np.ndarray, list[int]]]:
    """(doc index, word index of each piece, piece ids) windows of at most MAX_PIECES pieces."""
    if not words:
        return []
    pieces_per_word = tokenizer(words, add_special_tokens=False, truncation=True, max_length=MAX_PIECES)["input_ids"]
    windows: list[tuple[int, np.ndarray, list[int]]] = []
    ids: list[int] = []
    owners: list[int] = []
    for word_index, pieces in enumerate(pieces_per_word):
        if len(ids) + len(pieces) > MAX_PIECES:
            windows.append((doc_index, np.asarray(owners, dtype="int64"), ids))
            ids, owners = [], []
        ids.extend(pieces)
        owners.extend([word_index] * len(pieces))
    if ids:
        windows.append((doc_index, np.asarray(owners, dtype="int64"), ids))
    return windows


def _hidden_states(tokenizer, transformer, windows: list[list[int]], layers: Sequence[int]) -> np.ndarray:
    """(windows, longest + 2, width) hidden states of [CLS] pieces [SEP], padded."""
    import torch

    states, _ = window_states(tokenizer, transformer, windows)
    return torch.cat([states[i] for i in layers], dim=-1).numpy()


def window_states(tokenizer, transformer, windows: list[list[int]], fixed: bool = False):
    """Hidden states of every layer for ``[CLS] pieces [SEP]`` windows of piece ids, padded as the embedder pads
    (``hippo.embed_batches.padded``: with ``fixed``, to the longest's ``padded_length``), and the float mask."""
    import torch

    from hippo.embed_batches import padded

    ids, mask = padded([[tokenizer.cls_token_id, *w, tokenizer.sep_token_id] for w in windows],
                       tokenizer.pad_token_id, fixed)
    input_ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)
    result = transformer(input_ids=input_ids, attention_mask=mask, output_hidden_states=True)
    return result.hidden_states, mask.to(result.hidden_states[-1].dtype)
