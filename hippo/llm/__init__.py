"""The optional LLM: one client for OpenAI-compatible chat endpoints, and what hippo asks it.

- :mod:`~hippo.llm.config`: where the endpoint is (environment and ``Settings.extra["llm"]``);
- :mod:`~hippo.llm.client`: requests with cache, retries, a concurrency limit and usage counts;
- :mod:`~hippo.llm.replies`: JSON read out of replies (fences, ``<think>``, truncation);
- :mod:`~hippo.llm.prompts`: every prompt, each with a one-shot example;
- :mod:`~hippo.llm.filter`: HippoRAG 2's recognition-memory fact filter;
- :mod:`~hippo.llm.qa`: cited answers from retrieved passages.

The LLM extractor lives with the other extractors in ``hippo.ingest.extract.llm``. With no
model configured nothing here is used and hippo stays offline.
"""

from hippo.llm.client import ChatRequest, LLMClient, Reply, Usage, open_client
from hippo.llm.config import LLMConfig, Secret, llm_config
from hippo.llm.replies import parse_json, strip_reasoning

__all__ = [
    "ChatRequest",
    "LLMClient",
    "LLMConfig",
    "Reply",
    "Secret",
    "Usage",
    "llm_config",
    "open_client",
    "parse_json",
    "strip_reasoning",
]
