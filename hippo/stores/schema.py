"""The embedded store's SQLite schema (version 2).

Edges are tables of id pairs; RELATES weights are not stored but counted from
``fact_sources`` when the graph matrix is built, so deleting a passage decrements them
exactly by construction. Vectors live beside the database (see ``vectors.py``); each
embedded row records its ``vec_row`` in the matrix of its kind.

Version 2 added ``passages.key`` and ``passages.time`` (a conversation turn's id and time)
and ``units.passage_id``; :data:`MIGRATIONS` upgrades a version-1 store in place when it is opened.
"""

SCHEMA_VERSION = 2

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    path         TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    size         INTEGER NOT NULL,
    indexed_at   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id           TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    file         TEXT,
    title        TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    added_at     REAL NOT NULL,
    metadata     TEXT NOT NULL DEFAULT '{}',
    timestamp    TEXT
);
CREATE INDEX IF NOT EXISTS documents_file ON documents(file);
CREATE INDEX IF NOT EXISTS documents_title ON documents(title);
CREATE TABLE IF NOT EXISTS passages (
    id           TEXT PRIMARY KEY,
    doc_id       TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    text         TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    vec_row      INTEGER NOT NULL,
    key          TEXT NOT NULL DEFAULT '',
    time         TEXT
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id, position);
CREATE INDEX IF NOT EXISTS passages_hash ON passages(content_hash);
CREATE TABLE IF NOT EXISTS entities (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    display TEXT NOT NULL,
    label   TEXT,
    vec_row INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entities_name ON entities(name);
CREATE TABLE IF NOT EXISTS facts (
    id         TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL REFERENCES entities(id),
    predicate  TEXT NOT NULL,
    object_id  TEXT NOT NULL REFERENCES entities(id),
    vec_row    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS facts_subject ON facts(subject_id);
CREATE INDEX IF NOT EXISTS facts_object ON facts(object_id);
CREATE TABLE IF NOT EXISTS fact_sources (
    fact_id    TEXT NOT NULL REFERENCES facts(id) ON DELETE CASCADE,
    passage_id TEXT NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    extractor  TEXT NOT NULL,
    PRIMARY KEY (fact_id, passage_id)
);
CREATE INDEX IF NOT EXISTS fact_sources_passage ON fact_sources(passage_id);
CREATE TABLE IF NOT EXISTS mentions (
    passage_id TEXT NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    entity_id  TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    PRIMARY KEY (passage_id, entity_id)
);
CREATE INDEX IF NOT EXISTS mentions_entity ON mentions(entity_id);
CREATE TABLE IF NOT EXISTS synonyms (
    a     TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    b     TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    score REAL NOT NULL,
    PRIMARY KEY (a, b)
);
CREATE INDEX IF NOT EXISTS synonyms_b ON synonyms(b);
CREATE TABLE IF NOT EXISTS units (
    id          TEXT PRIMARY KEY,
    granularity TEXT NOT NULL,
    text        TEXT NOT NULL,
    doc_id      TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    time        TEXT,
    vec_row     INTEGER NOT NULL,
    passage_id  TEXT REFERENCES passages(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS units_doc ON units(doc_id);
CREATE INDEX IF NOT EXISTS units_passage ON units(passage_id);
CREATE TABLE IF NOT EXISTS associations (
    a      TEXT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    b      TEXT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    weight REAL NOT NULL,
    PRIMARY KEY (a, b)
);
CREATE INDEX IF NOT EXISTS associations_b ON associations(b);
CREATE TABLE IF NOT EXISTS clusters (
    id      TEXT PRIMARY KEY,
    level   INTEGER NOT NULL,
    summary TEXT NOT NULL,
    vec_row INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cluster_members (
    cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    passage_id TEXT NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    weight     REAL NOT NULL,
    PRIMARY KEY (cluster_id, passage_id)
);
"""

MIGRATIONS = {
    1: """
ALTER TABLE passages ADD COLUMN key TEXT NOT NULL DEFAULT '';
ALTER TABLE passages ADD COLUMN time TEXT;
ALTER TABLE units ADD COLUMN passage_id TEXT REFERENCES passages(id) ON DELETE CASCADE;
CREATE INDEX IF NOT EXISTS units_passage ON units(passage_id);
CREATE INDEX IF NOT EXISTS associations_b ON associations(b);
""",
}
"""SQL that upgrades a store from version ``v`` to ``v + 1``, by ``v``."""

VECTOR_KINDS = ("passage", "entity", "fact", "unit", "cluster")
"""Embedded kinds; each has a matrix file and a table with a ``vec_row`` column."""

KIND_TABLE = {"passage": "passages", "entity": "entities", "fact": "facts", "unit": "units", "cluster": "clusters"}
