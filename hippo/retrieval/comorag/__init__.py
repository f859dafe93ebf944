"""``comorag``: ComoRAG's iterative probing loop over a base retrieval method.

Per question (Wang et al. 2025, "ComoRAG", section 3; hippo's reading of it in
``shared/reference/comorag.md``):

1. **tri-retrieve** the question from three layers: the base method (``comorag_base``, default
   ``hipporag``: the veridical layer), the semantic clusters and the episodic windows of
   :mod:`hippo.graph.layers` (a layer's passages are the members of its :data:`LAYER_CLUSTERS` best
   clusters, scored by ``0.5 x cluster cosine x membership + 0.5 x passage cosine``);
2. keep every retrieved list in the **memory pool**; the pool's ranking fuses the lists by
   weighted reciprocal rank, ``sum over lists of weight / (1 + rank)`` (rank from 0, top
   :data:`POOL_K` of each list), with weight :data:`W_QUERY` for the question's base list,
   :data:`W_PROBE` for a probe's, times :data:`W_LAYER` for a semantic or episodic list; a passage is
   one entry however many lists hold it (the pool is deduplicated by passage id, unlike ComoRAG's,
   reference trap 4);
3. decide whether the evidence **suffices**; if not, write up to ``comorag_probes`` **probing
   queries**, tri-retrieve each, add their lists to the pool, and repeat, at most
   ``comorag_cycles`` times;
4. return the top ``k`` of the fused ranking; each hit keeps the ``Why`` of the list that gave it
   its largest share, with ``Why.probe`` set to that list's probe (None: the question itself), and
   the summaries of the layers that ranked it in their top 3 in ``Why.units``.

Why the weights are small: the question's own base ranking is the most precise list (on 2Wiki,
``hipporag``'s rank 5 is gold 16 % of the time, a probe's best new passage 5-10 %), so probes and
layers mostly *re-order by agreement* and fill the ranks behind it. Measured on the first 200
2Wiki questions (``hipporag`` R@5 0.698): probe weight 0.1 with layer weight 0.05 gives R@5 0.709
(0.739 vs 0.720 on questions 200-500); a probe weight of 0.3 gives 0.656, a layer weight of 0.3
(a layer's best passage beside the question's fourth) 0.633.

**Offline rule** (no LLM, or ``comorag_llm=False``):

- *confidence* is the **coverage** of the question by its evidence: the share of the question's
  content words (stop words removed; crude stems, so "directed" covers "director") that occur in
  the top :data:`COVERAGE_TOP` fused passages. The evidence **suffices** when the coverage is
  :data:`SUFFICIENT_COVERAGE` (every content word is there);
- after a probing cycle, the loop stops when the cycle put **no new passage into the top k**
  (``no new evidence``), when no probe can be written (``no probes left``), or after
  ``comorag_cycles`` cycles (``cycle limit``);
- **probes** are names (NER-tagged or capitalised) from the facts stated by the top :data:`POOL_K`
  fused passages, and the entities mentioned by the top :data:`PROBE_SOURCES`, that neither the
  question nor an earlier probe names. They are ranked by the relevance to the question of the best
  fact naming them (cosine of question and fact vectors, what HippoRAG 2 seeds its walk with), then
  by their mass in the question's Personalized PageRank per passage mentioning them; a probe is the
  name followed by at most :data:`PROBE_TERMS` question words the top evidence lacks
  (``"Luis Mandoki place birth"``). Ranking by PageRank mass alone put a missing gold passage first
  in a probe's results for 14 of 119 such 2Wiki questions (hub names such as "American" win), by
  fact relevance for 28. In a store without entities the probes are key phrases of the top passages
  (:func:`hippo.memory.extractive.extract_keywords`).

**With an LLM** (:mod:`hippo.llm.probing`): after each round the model notes the findings of each
retrieval (one cue per question or probe, covering its three layers), judges from all findings so
far whether they answer the question (``sufficient``, with the short answer), and otherwise writes
up to three probes from the findings and what is missing. "No new evidence" and the cycle limit
still apply. A failed request falls back to the offline rule for that step and says so in the trace.

The semantic and episodic layers are built on first use when the store has never had them
(``hippo cluster`` rebuilds them); without them the loop runs on the base method alone.
"""

from hippo.retrieval.comorag.layers import LayerState, ensure_layers, layer_state
from hippo.retrieval.comorag.loop import probe_many, retrieve_comorag
from hippo.retrieval.comorag.offline import coverage

__all__ = ["LayerState", "coverage", "ensure_layers", "layer_state", "probe_many", "retrieve_comorag"]
