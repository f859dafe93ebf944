"""Every Cypher statement of the Neo4j store: the schema, and the queries, all parameterised.

The graph (ARCHITECTURE.md's data model as labels and relationship types)::

    (:Document)-[:HAS]->(:Passage)-[:MENTIONS {seq}]->(:Entity)
    (:Fact)-[:SUBJECT]->(:Entity)   (:Fact)-[:OBJECT]->(:Entity)   (:Fact)-[:STATED_IN {extractor, seq}]->(:Passage)
    (:Entity)-[:RELATES {weight, predicates}]->(:Entity)   (:Entity)-[:SYNONYM {score}]->(:Entity)
    (:Document)-[:HAS_UNIT]->(:Unit)-[:ASSOCIATED {weight}]->(:Unit)
    (:Passage)-[:IN_CLUSTER {weight}]->(:Cluster)
    (:IndexedFile {path, content_hash, size})   (:HippoMeta {key: "store", version, settings, ...})

Every embedded node (Passage, Entity, Fact, Unit, Cluster) carries ``embedding`` (its vector, indexed by a
cosine vector index), ``vec_row`` (its row in the in-process matrix of its kind, allocated in insertion
order exactly as the embedded store allocates them, so both stores number graph nodes alike) and ``seq``
(a store-wide insertion counter that gives the orders the embedded store reads by rowid). ``RELATES.weight``
is the number of (fact, passage) pairs behind a subject-object pair; it is recomputed from ``STATED_IN``
for every pair a write or a deletion touches, so it stays exact.

Values only ever travel as ``$parameters``. Labels cannot be parameters, so the per-kind queries are
built here, once, from the fixed :data:`LABELS` table; and the one schema statement that needs a number
(the vector dimension) takes it through :func:`vector_index_statement`, which accepts only a positive int.
"""

from __future__ import annotations

__all__ = ["LABELS", "SCHEMA", "SCHEMA_VERSION", "VECTOR_INDEX", "vector_index_statement"]

SCHEMA_VERSION = 1
META_KEY = "store"

LABELS = {"passage": "Passage", "entity": "Entity", "fact": "Fact", "unit": "Unit", "cluster": "Cluster"}
"""Embedded kind -> node label (the kinds of ``hippo.stores.schema.VECTOR_KINDS``)."""
ROW_KEYS = {kind: f"rows_{kind}" for kind in LABELS}
"""Embedded kind -> the meta property counting its committed vector rows."""
STORE_LABELS = ("Document", *LABELS.values(), "IndexedFile", "HippoMeta")
"""Every label the store writes (what :data:`DROP_BATCH` removes)."""
VECTOR_INDEX = {kind: f"hippo_{kind}_embedding" for kind in LABELS}
"""Embedded kind -> name of its vector index."""

_UNIQUE = [
    ("Document", "id"),
    *((label, "id") for label in LABELS.values()),
    ("IndexedFile", "path"),
    ("HippoMeta", "key"),
]
_RANGE = [
    ("Document", "source"),
    ("Document", "file"),
    ("Passage", "content_hash"),
    ("Passage", "seq"),
    ("Entity", "name"),
    ("Unit", "doc_id"),
    *((label, "vec_row") for label in LABELS.values()),
]
_CONSTRAINTS = {f"hippo_{label.lower()}_{prop}": (label, prop) for label, prop in _UNIQUE}
_INDEXES = {f"hippo_{label.lower()}_{prop}": (label, prop) for label, prop in _RANGE}
CONSTRAINT_NAMES = tuple(_CONSTRAINTS)
INDEX_NAMES = tuple(_INDEXES)
"""The names of the store's uniqueness constraints and range indexes (what ``hippo check`` looks for)."""
SCHEMA = tuple(
    [
        f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{prop} IS UNIQUE"
        for name, (label, prop) in _CONSTRAINTS.items()
    ]
    + [f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})" for name, (label, prop) in _INDEXES.items()]
)
"""Uniqueness constraints on ids and range indexes for the lookups; each runs in its own transaction."""
AWAIT_INDEXES = "CALL db.awaitIndexes($seconds)"


INDEXED_KINDS = ("passage",)
"""Kinds with a vector index: only passages, the one kind :meth:`Neo4jStore.nearest` asks an index for
(dense retrieval). Entities, facts, units and clusters are scored in-process from the matrices the
graph methods read anyway, so an index on them would only slow every write (each indexed vector is an
HNSW insertion at commit) and is dropped when found (see :mod:`hippo.stores.neo4j_meta`)."""
VECTOR_INDEX_CONFIG = {"vector.similarity_function": "cosine", "vector.quantization.enabled": False}
"""The index settings besides the dimension. Quantization is off: Neo4j 5.26 quantizes by default, which
made a stored vector's similarity to itself 0.978 instead of 1.0."""


def vector_index_statement(kind: str, dimensions: int) -> str:
    """``CREATE VECTOR INDEX`` for one embedded kind (cosine, unquantized, ``dimensions`` wide), idempotent.

    Index options cannot be parameters, so the dimension is written in, after checking that it is
    a positive integer (it comes from the embedding model, never from user text). ``IF NOT EXISTS``
    leaves an index with other settings alone: :func:`hippo.stores.neo4j_meta.index_changes` finds
    those and drops them first.

    >>> vector_index_statement("passage", 384)  # doctest: +NORMALIZE_WHITESPACE
    "CREATE VECTOR INDEX hippo_passage_embedding IF NOT EXISTS FOR (n:Passage) ON (n.embedding)
     OPTIONS {indexConfig: {`vector.dimensions`: 384, `vector.similarity_function`: 'cosine',
     `vector.quantization.enabled`: false}}"
    """
    if kind not in LABELS:
        raise ValueError(f"unknown vector kind {kind!r}; known: {', '.join(LABELS)}.")
    if isinstance(dimensions, bool) or not isinstance(dimensions, int) or not 0 < dimensions <= 4096:
        raise ValueError(f"vector dimensions must be an int in 1..4096, not {dimensions!r}.")
    return (
        f"CREATE VECTOR INDEX {VECTOR_INDEX[kind]} IF NOT EXISTS FOR (n:{LABELS[kind]}) ON (n.embedding) "
        f"OPTIONS {{indexConfig: {{`vector.dimensions`: {dimensions}, "
        "`vector.similarity_function`: 'cosine', `vector.quantization.enabled`: false}}"
    )


SHOW_VECTOR_INDEXES = (
    "SHOW VECTOR INDEXES YIELD name, labelsOrTypes, properties, options "
    "RETURN name, labelsOrTypes, properties, options"
)
"""Every vector index with its settings (``options.indexConfig``); hippo's are picked out by name."""
DROP_VECTOR_INDEX = {kind: f"DROP INDEX {name} IF EXISTS" for kind, name in VECTOR_INDEX.items()}


# --- the meta node: settings, counters, the write lock ---------------------------------------------
READ_META = "MATCH (m:HippoMeta {key: $key}) RETURN properties(m) AS meta"
CREATE_META = "MERGE (m:HippoMeta {key: $key}) ON CREATE SET m += $props RETURN properties(m) AS meta"
LOCK_META = (
    "MATCH (m:HippoMeta {key: $key}) SET m.writer = $writer "
    "RETURN properties(m) AS meta"
)  # the write lock on the meta node serialises writers until commit
SET_META = "MATCH (m:HippoMeta {key: $key}) SET m += $props"
VERSION = "MATCH (m:HippoMeta {key: $key}) RETURN m.version AS version"
OTHER_DATA = "MATCH (n) WHERE NOT n:HippoMeta RETURN labels(n) AS labels LIMIT 1"
DROP_BATCH = (
    "MATCH (n) WHERE any(label IN labels(n) WHERE label IN $labels) "
    "WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS deleted"
)
DROP_SCHEMA = tuple(
    [f"DROP CONSTRAINT {name} IF EXISTS" for name in _CONSTRAINTS]
    + [f"DROP INDEX {name} IF EXISTS" for name in (*_INDEXES, *VECTOR_INDEX.values())]
)
"""Drops every constraint and index of :data:`SCHEMA` and the vector indexes, by their fixed names."""

# --- files and documents ---------------------------------------------------------------------------
FILE_HASH = "MATCH (f:IndexedFile {path: $path}) RETURN f.content_hash AS hash"
SET_FILE = "MERGE (f:IndexedFile {path: $path}) SET f.content_hash = $hash, f.size = $size, f.indexed_at = $at"
FORGET_FILE = "MATCH (f:IndexedFile {path: $path}) DELETE f"
LIST_FILES = "MATCH (f:IndexedFile) RETURN f.path, f.content_hash, f.size ORDER BY f.path"
_DOC = "properties(d) AS doc"
"""A document as its property map: optional properties (``timestamp``) that no document has are never
named, so the server has no "property does not exist" notification to send on every read."""
DOCS_BY_ID = f"MATCH (d:Document {{id: $value}}) RETURN {_DOC} ORDER BY d.seq"
DOCS_BY_SOURCE = f"MATCH (d:Document {{source: $value}}) RETURN {_DOC} ORDER BY d.seq"
DOCS_BY_FILE = f"MATCH (d:Document {{file: $value}}) RETURN {_DOC} ORDER BY d.seq"
DOCS_BY_FILE_OR_SOURCE = f"MATCH (d:Document) WHERE d.file = $value OR d.source = $value RETURN {_DOC} ORDER BY d.seq"
LIST_DOCS = f"MATCH (d:Document) RETURN {_DOC}, COUNT {{ (d)-[:HAS]->(:Passage) }} AS passages ORDER BY d.seq"
PUT_DOCUMENTS = (
    "UNWIND $rows AS row MERGE (d:Document {id: row.doc.id}) SET d += row.doc "
    "WITH d, row UNWIND row.passages AS passage "
    "MERGE (p:Passage {id: passage.id}) SET p += passage "
    "MERGE (d)-[:HAS]->(p)"
)
"""Documents with their passages, many per statement (a document with no passage is still written: its
MERGE runs before the empty UNWIND)."""
DOC_PASSAGES = "MATCH (:Document {id: $doc_id})-[:HAS]->(p:Passage) RETURN count(p) AS passages"
DOC_FACTS = (
    "MATCH (:Document {id: $doc_id})-[:HAS]->(:Passage)<-[:STATED_IN]-(f:Fact) "
    "RETURN DISTINCT f.id, f.subject_id, f.object_id"
)
DOC_ENTITIES = "MATCH (:Document {id: $doc_id})-[:HAS]->(:Passage)-[:MENTIONS]->(e:Entity) RETURN DISTINCT e.id"
DELETE_DOC_UNITS = "MATCH (:Document {id: $doc_id})-[:HAS_UNIT]->(u:Unit) DETACH DELETE u"
DELETE_DOC_PASSAGES = "MATCH (:Document {id: $doc_id})-[:HAS]->(p:Passage) DETACH DELETE p"
DELETE_DOC = "MATCH (d:Document {id: $doc_id}) DETACH DELETE d"
DEAD_FACTS = (
    "UNWIND $ids AS id MATCH (f:Fact {id: id}) WHERE NOT EXISTS { (f)-[:STATED_IN]->() } "
    "WITH f, f.subject_id AS subject, f.object_id AS object DETACH DELETE f RETURN subject, object"
)
DEAD_ENTITIES = (
    "UNWIND $ids AS id MATCH (e:Entity {id: id}) "
    "WHERE NOT EXISTS { (e)<-[:MENTIONS]-() } AND NOT EXISTS { (e)<-[:SUBJECT|OBJECT]-(:Fact) } "
    "DETACH DELETE e"
)

# --- passages and vectors ----------------------------------------------------------------------------
_CONTEXT = "p.id, p.doc_id, p.text, d.title, d.source, p.position, p.key, p.time"
PASSAGE_CONTEXT = f"UNWIND $ids AS id MATCH (d:Document)-[:HAS]->(p:Passage {{id: id}}) RETURN {_CONTEXT}"
PASSAGES_AFTER = (
    "MATCH (p:Passage) WHERE p.seq > $after WITH p ORDER BY p.seq LIMIT $limit "
    f"MATCH (d:Document)-[:HAS]->(p) RETURN p.seq, {_CONTEXT} ORDER BY p.seq"
)
VECTORS_BY_HASH = (
    "UNWIND $hashes AS hash MATCH (p:Passage {content_hash: hash}) "
    "WITH hash, p ORDER BY p.seq RETURN hash, head(collect(p.embedding)) AS embedding"
)
VECTOR_OWNERS = {kind: f"MATCH (n:{label}) RETURN n.id, n.vec_row" for kind, label in LABELS.items()}
VECTOR_ROWS = {
    kind: f"MATCH (n:{label}) WHERE n.vec_row >= $start AND n.vec_row < $stop RETURN n.vec_row, n.embedding"
    for kind, label in LABELS.items()
}
NEAREST = (
    "UNWIND range(0, size($vectors) - 1) AS i "
    "CALL (i) { "
    "CALL db.index.vector.queryNodes($index, $candidates, $vectors[i]) YIELD node "
    "WITH node, vector.similarity.cosine(node.embedding, $vectors[i]) AS score "
    "ORDER BY score DESC, node.vec_row LIMIT $k "
    "RETURN node.id AS id, node.vec_row AS row, score } "
    "RETURN i, id, row, score"
)
"""``$candidates`` approximate neighbours per query from the index, each scored exactly against its stored
vector (``vector.similarity.cosine``), of which the best ``$k`` come back (ties in row order, as the
embedded store's exact search breaks them); see ``Neo4jStore.nearest``."""
_COUNTED = {
    "documents": "(:Document)",
    "passages": "(:Passage)",
    "entities": "(:Entity)",
    "facts": "(:Fact)",
    "mentions": "()-[:MENTIONS]->()",
    "synonyms": "()-[:SYNONYM]->()",
    "units": "(:Unit)",
    "associations": "()-[:ASSOCIATED]->()",
    "clusters": "(:Cluster)",
    "files": "(:IndexedFile)",
}
COUNT_NAMES = tuple(_COUNTED)
COUNTS = "RETURN " + ", ".join(f"COUNT {{ MATCH {pattern} }} AS {name}" for name, pattern in _COUNTED.items())
"""Every count in one statement; the full ``COUNT { MATCH ... }`` form, since the short form wants a path."""

# --- the graph ----------------------------------------------------------------------------------------
KNOWN_IDS = {kind: f"UNWIND $ids AS id MATCH (n:{LABELS[kind]} {{id: id}}) RETURN n.id" for kind in ("entity", "fact")}
PUT_ENTITIES = (
    "UNWIND $rows AS row MERGE (e:Entity {id: row.id}) "
    "ON CREATE SET e.name = row.name, e.display = row.display, e.label = row.label, e.vec_row = row.vec_row, "
    "e.seq = row.seq, e.embedding = row.embedding"
)
PUT_FACTS = (
    "UNWIND $rows AS row MATCH (s:Entity {id: row.subject_id}) MATCH (o:Entity {id: row.object_id}) "
    "MERGE (f:Fact {id: row.id}) "
    "ON CREATE SET f.subject_id = row.subject_id, f.predicate = row.predicate, f.object_id = row.object_id, "
    "f.vec_row = row.vec_row, f.seq = row.seq, f.embedding = row.embedding "
    "MERGE (f)-[:SUBJECT]->(s) MERGE (f)-[:OBJECT]->(o) RETURN count(f) AS written"
)
PUT_MENTIONS = (
    "UNWIND $rows AS row MATCH (p:Passage {id: row.passage_id}) MATCH (e:Entity {id: row.entity_id}) "
    "MERGE (p)-[m:MENTIONS]->(e) ON CREATE SET m.seq = row.seq RETURN count(m) AS written"
)
PUT_FACT_SOURCES = (
    "UNWIND $rows AS row MATCH (f:Fact {id: row.fact_id}) MATCH (p:Passage {id: row.passage_id}) "
    "MERGE (f)-[s:STATED_IN]->(p) ON CREATE SET s.extractor = row.extractor, s.seq = row.seq "
    "RETURN count(s) AS written"
)
PAIRS_OF_FACTS = "UNWIND $ids AS id MATCH (f:Fact {id: id}) RETURN DISTINCT f.subject_id, f.object_id"
REFRESH_RELATES = (
    "UNWIND $rows AS pair MATCH (s:Entity {id: pair[0]}) MATCH (o:Entity {id: pair[1]}) "
    "OPTIONAL MATCH (s)<-[:SUBJECT]-(f:Fact)-[:OBJECT]->(o) "
    "OPTIONAL MATCH (f)-[src:STATED_IN]->(:Passage) "
    "WITH s, o, count(src) AS weight, collect(DISTINCT CASE WHEN src IS NOT NULL THEN f.predicate END) AS predicates "
    "OPTIONAL MATCH (s)-[old:RELATES]->(o) "
    "FOREACH (x IN CASE WHEN weight = 0 AND old IS NOT NULL THEN [1] ELSE [] END | DELETE old) "
    "FOREACH (x IN CASE WHEN weight > 0 THEN [1] ELSE [] END | "
    "MERGE (s)-[r:RELATES]->(o) SET r.weight = weight, r.predicates = predicates)"
)
PUT_SYNONYMS = (
    "UNWIND $rows AS row MATCH (a:Entity {id: row[0]}) MATCH (b:Entity {id: row[1]}) "
    "MERGE (a)-[r:SYNONYM]->(b) SET r.score = row[2]"
)
EDGES_RELATES = "MATCH (s:Entity)-[r:RELATES]->(o:Entity) RETURN s.id, o.id, r.weight"
EDGES_MENTIONS = "MATCH (p:Passage)-[:MENTIONS]->(e:Entity) RETURN p.id, e.id"
EDGES_SYNONYMS = "MATCH (a:Entity)-[r:SYNONYM]->(b:Entity) RETURN a.id, b.id, r.score"
EDGES_FACTS = "MATCH (f:Fact) RETURN f.id, f.subject_id, f.object_id ORDER BY f.seq"
_ENTITY = "e.id, e.name, e.display, e.label"
ENTITIES_BY_ID = f"UNWIND $ids AS id MATCH (e:Entity {{id: id}}) RETURN {_ENTITY}"
FACTS_BY_ID = (
    "UNWIND $ids AS id MATCH (f:Fact {id: id}) MATCH (s:Entity {id: f.subject_id}) MATCH (o:Entity {id: f.object_id}) "
    "OPTIONAL MATCH (f)-[:STATED_IN]->(p:Passage) WITH f, s, o, p ORDER BY p.id "
    "RETURN f.id, f.subject_id, f.predicate, f.object_id, s.display, o.display, collect(p.id) AS passages"
)
FIND_ENTITIES = (
    f"MATCH (e:Entity) WHERE e.name CONTAINS $name WITH e, COUNT {{ (e)<-[:MENTIONS]-() }} AS n "
    f"RETURN {_ENTITY} ORDER BY e.name = $name DESC, e.name STARTS WITH $name DESC, n DESC, e.name LIMIT $limit"
)
FACTS_OF_ENTITY = (
    "MATCH (:Entity {id: $id})<-[:SUBJECT|OBJECT]-(f:Fact) RETURN DISTINCT f.id AS id ORDER BY id LIMIT $limit"
)
FACTS_BETWEEN = (
    "MATCH (:Entity {id: $a})<-[:SUBJECT|OBJECT]-(f:Fact)-[:SUBJECT|OBJECT]->(:Entity {id: $b}) "
    "RETURN DISTINCT f.id AS id, f.seq AS seq ORDER BY seq"
)
ENTITY_NAMES = "MATCH (e:Entity) RETURN e.id, e.name, e.display ORDER BY e.seq"
TOP_ENTITIES = (
    f"MATCH (e:Entity) WITH e, COUNT {{ (e)<-[:MENTIONS]-() }} AS n WHERE n > 0 "
    f"RETURN {_ENTITY} ORDER BY n DESC, e.name LIMIT $limit"
)
LIST_FACTS = "MATCH (f:Fact) RETURN f.id ORDER BY f.seq LIMIT $limit"
PASSAGES_OF_ENTITY = (
    f"MATCH (d:Document)-[:HAS]->(p:Passage)-[:MENTIONS]->(:Entity {{id: $id}}) "
    f"RETURN {_CONTEXT} ORDER BY p.seq LIMIT $limit"
)
SYNONYMS_OF = (
    f"MATCH (:Entity {{id: $id}})-[r:SYNONYM]-(e:Entity) RETURN {_ENTITY}, max(r.score) AS score ORDER BY score DESC"
)
MENTIONS_OF_PASSAGES = (
    f"UNWIND $ids AS id MATCH (p:Passage {{id: id}})-[m:MENTIONS]->(e:Entity) RETURN p.id, {_ENTITY} ORDER BY m.seq"
)
FACT_SOURCES = (
    "UNWIND $ids AS id MATCH (f:Fact)-[s:STATED_IN]->(p:Passage {id: id}) RETURN f.id, p.id, s.extractor ORDER BY s.seq"
)

# --- memory units (MemGAS) -------------------------------------------------------------------------------
PUT_UNITS = (
    "UNWIND $rows AS row MATCH (d:Document {id: row.doc_id}) MERGE (u:Unit {id: row.id}) ON CREATE SET u += row "
    "MERGE (d)-[:HAS_UNIT]->(u) RETURN count(u) AS written"
)
PUT_ASSOCIATIONS = (
    "UNWIND $rows AS row MATCH (a:Unit {id: row[0]}) MATCH (b:Unit {id: row[1]}) "
    "MERGE (a)-[r:ASSOCIATED]->(b) SET r.weight = row[2]"
)
MEMORY_UNITS = "MATCH (u:Unit) RETURN u.id, u.doc_id, u.granularity, u.passage_id ORDER BY u.seq"
MEMORY_ASSOCIATIONS = "MATCH (a:Unit)-[r:ASSOCIATED]->(b:Unit) RETURN a.id, b.id, r.weight"
MEMORY_PASSAGES = "MATCH (p:Passage) RETURN p.id, p.doc_id ORDER BY p.seq"
_UNIT = "u.id, u.granularity, u.text, u.doc_id, u.time, u.passage_id"
UNITS_BY_ID = f"UNWIND $ids AS id MATCH (u:Unit {{id: id}}) RETURN {_UNIT}"
DOCUMENT_UNITS = f"MATCH (u:Unit {{doc_id: $doc_id}}) RETURN {_UNIT} ORDER BY u.seq"

# --- layers (ComoRAG) -------------------------------------------------------------------------------------
PUT_CLUSTERS = "UNWIND $rows AS row MERGE (c:Cluster {id: row.id}) ON CREATE SET c += row"
PUT_MEMBERS = (
    "UNWIND $rows AS row MATCH (c:Cluster {id: row[0]}) MATCH (p:Passage {id: row[1]}) "
    "MERGE (p)-[r:IN_CLUSTER]->(c) SET r.weight = row[2]"
)
DELETE_CLUSTERS = "UNWIND $ids AS id MATCH (c:Cluster {id: id}) DETACH DELETE c"
CLUSTERS_BY_ID = "UNWIND $ids AS id MATCH (c:Cluster {id: id}) RETURN c.id, c.level, c.summary"
CLUSTER_LIST = "MATCH (c:Cluster) RETURN c.id, c.level ORDER BY c.seq"
CLUSTER_MEMBERS = "MATCH (p:Passage)-[r:IN_CLUSTER]->(c:Cluster) RETURN c.id, p.id, r.weight"

# --- hippo check (hippo.stores.neo4j_check) ----------------------------------------------------------------
SHOW_CONSTRAINTS = "SHOW CONSTRAINTS YIELD name RETURN name"
SHOW_INDEXES = "SHOW INDEXES YIELD name, state RETURN name, state"
_CHECKED = {
    "documents": "(:Document)",
    "passages": "(:Passage)",
    "entities": "(:Entity)",
    "facts": "(:Fact)",
    "mentions": "()-[:MENTIONS]->()",
    "synonyms": "()-[:SYNONYM]->()",
    "units": "(:Unit)",
    "associations": "()-[:ASSOCIATED]->()",
    "clusters": "(:Cluster)",
    "cluster_members": "()-[:IN_CLUSTER]->()",
    "fact_sources": "()-[:STATED_IN]->()",
    "relates": "()-[:RELATES]->()",
}
CHECKED_NAMES = tuple(_CHECKED)
CHECK_COUNTS = "RETURN " + ", ".join(f"COUNT {{ MATCH {pattern} }} AS {name}" for name, pattern in _CHECKED.items())
"""The records ``hippo check`` looks at, by the names the embedded store's check uses (plus RELATES)."""

_PAGE = "MATCH (n:{label}) WHERE n.id > $after WITH n ORDER BY n.id LIMIT $limit RETURN n.id AS id"
_VECTOR = ", n.vec_row AS vec_row, n.embedding AS embedding"
CHECK_PAGES = {
    "document": _PAGE.format(label="Document") + ", EXISTS { (n)-[:HAS]->(:Passage) } AS has_passages",
    "passage": _PAGE.format(label="Passage")
    + _VECTOR
    + ", EXISTS { MATCH (d:Document)-[:HAS]->(n) WHERE d.id = n.doc_id } AS in_document",
    "entity": _PAGE.format(label="Entity")
    + _VECTOR
    + ", (EXISTS { (:Passage)-[:MENTIONS]->(n) } OR EXISTS { (:Fact)-[:SUBJECT|OBJECT]->(n) }) AS used, "
    "[(n)-[r:RELATES]->(o:Entity) | [o.id, r.weight, "
    "COUNT { MATCH (n)<-[:SUBJECT]-(f:Fact)-[:OBJECT]->(o), (f)-[:STATED_IN]->(:Passage) }]] AS relates",
    "fact": _PAGE.format(label="Fact")
    + _VECTOR
    + ", EXISTS { (n)-[:STATED_IN]->(:Passage) } AS has_source, "
    "(EXISTS { MATCH (n)-[:SUBJECT]->(s:Entity) WHERE s.id = n.subject_id } "
    "AND EXISTS { MATCH (n)-[:OBJECT]->(o:Entity) WHERE o.id = n.object_id }) AS has_entities, "
    "[(n)-[:STATED_IN]->(p:Passage) "
    "WHERE NOT EXISTS { MATCH (p)-[:MENTIONS]->(s:Entity) WHERE s.id = n.subject_id } "
    "OR NOT EXISTS { MATCH (p)-[:MENTIONS]->(o:Entity) WHERE o.id = n.object_id } | p.id] AS unmentioned, "
    "EXISTS { MATCH (s:Entity)-[:RELATES]->(o:Entity) WHERE s.id = n.subject_id AND o.id = n.object_id } "
    "AS has_relates",
    "unit": _PAGE.format(label="Unit")
    + _VECTOR
    + ", (EXISTS { MATCH (d:Document)-[:HAS_UNIT]->(n) WHERE d.id = n.doc_id } "
    "AND (n.passage_id IS NULL OR EXISTS { MATCH (p:Passage) WHERE p.id = n.passage_id })) AS has_records",
    "cluster": _PAGE.format(label="Cluster") + _VECTOR,
}
"""One page of each label's nodes in id order (the uniqueness constraint's index serves the order), with
what ``hippo check`` needs to judge each node: its vector row and vector, and whether its links hold."""

_EDGE_CHECKS = {
    "fact source with missing record": "(a)-[:STATED_IN]->(b) WHERE NOT a:Fact OR NOT b:Passage",
    "mention with missing record": "(a)-[:MENTIONS]->(b) WHERE NOT a:Passage OR NOT b:Entity",
    "synonym with missing entity": "(a)-[:SYNONYM]->(b) WHERE a = b OR NOT a:Entity OR NOT b:Entity",
    "association with missing unit": "(a)-[:ASSOCIATED]->(b) WHERE NOT a:Unit OR NOT b:Unit",
    "cluster member with missing record": "(a)-[:IN_CLUSTER]->(b) WHERE NOT a:Passage OR NOT b:Cluster",
    "relates with missing entity": "(a)-[:RELATES]->(b) WHERE NOT a:Entity OR NOT b:Entity",
}
EDGE_CHECK_KINDS = tuple(_EDGE_CHECKS)
EDGE_CHECK_COUNTS = "RETURN " + ", ".join(
    f"COUNT {{ MATCH {pattern} }} AS edges_{i}" for i, pattern in enumerate(_EDGE_CHECKS.values())
)
"""Edges joining the wrong kinds of node (a deleted record leaves none in Neo4j: its edges go with it)."""
EDGE_CHECK_EXAMPLES = {
    kind: f"MATCH {pattern} RETURN a.id, b.id LIMIT $limit" for kind, pattern in _EDGE_CHECKS.items()
}


def statement_names() -> dict[str, str]:
    """Statement text -> the name of the constant holding it (``VECTOR_ROWS[entity]`` for table entries).

    For profiles (``Neo4jConnection.profile``), which are keyed by the text actually sent.
    """
    names: dict[str, str] = {}
    for name, value in globals().items():
        if name.startswith("_") or not name.isupper():
            continue
        entries = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, tuple) else None
        if entries is None:
            if isinstance(value, str):
                names.setdefault(value, name)
            continue
        for key, text in entries:
            if isinstance(text, str):
                names.setdefault(text, f"{name}[{key}]")
    return names
