"""Retrieval methods, registered by name. Importing this package registers the built-in ones."""

from hippo.retrieval.base import METHODS, RetrievalContext, get_method, make_hits, register_method
from hippo.retrieval.bm25 import retrieve_bm25
from hippo.retrieval.comorag import retrieve_comorag
from hippo.retrieval.dense import retrieve_dense
from hippo.retrieval.hipporag import retrieve_hipporag
from hippo.retrieval.memgas import retrieve_memgas

__all__ = ["METHODS", "RetrievalContext", "get_method", "make_hits", "register_method"]

register_method("dense", retrieve_dense)
register_method("bm25", retrieve_bm25)
register_method("hipporag", retrieve_hipporag)
register_method("memgas", retrieve_memgas)
register_method("comorag", retrieve_comorag)
