"""The embedded store's graph reads: entities, facts and their passages, and the edges PageRank walks.

Separate from :mod:`hippo.stores.sqlite` because these are plain queries over committed rows, with
no part in transactions, vectors or the write lock; :class:`SQLiteGraphReads` is a mixin that runs
them on the store's connection (``_conn`` under ``_lock``, ``_all``, ``snapshot``).
"""

from __future__ import annotations

from collections.abc import Sequence

from hippo.model import Entity, Fact
from hippo.stores.base import GraphEdges, PassageContext
from hippo.stores.rows import chunks, columns
from hippo.text import normalize_name

__all__ = ["SQLiteGraphReads"]


class SQLiteGraphReads:
    """Graph reads of :class:`~hippo.stores.sqlite.SQLiteStore`, which supplies the connection and helpers."""

    def graph_edges(self) -> GraphEdges:
        with self._lock, self.snapshot():
            relations = self._conn.execute(
                "SELECT f.subject_id, f.object_id, COUNT(*) FROM facts f JOIN fact_sources s ON s.fact_id = f.id "
                "GROUP BY f.subject_id, f.object_id"
            ).fetchall()
            mentions = self._conn.execute("SELECT passage_id, entity_id FROM mentions").fetchall()
            synonyms = self._conn.execute("SELECT a, b, score FROM synonyms").fetchall()
            facts = self._conn.execute("SELECT id, subject_id, object_id FROM facts").fetchall()
        return GraphEdges(relations=columns(relations, 3), mentions=columns(mentions, 2),
                          synonyms=columns(synonyms, 3), facts=columns(facts, 3))

    def entities(self, ids: Sequence[str]) -> dict[str, Entity]:
        out: dict[str, Entity] = {}
        with self._lock:
            for chunk in chunks(list(set(ids)), 500):
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                    f"SELECT id, name, display, label FROM entities WHERE id IN ({marks})", chunk
                ):
                    out[row[0]] = Entity(*row)
        return out

    def facts(self, ids: Sequence[str]) -> dict[str, Fact]:
        out: dict[str, Fact] = {}
        with self._lock:
            for chunk in chunks(list(set(ids)), 500):
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    "SELECT f.id, f.subject_id, f.predicate, f.object_id, s.display, o.display, "
                    "(SELECT group_concat(passage_id, ' ') FROM fact_sources WHERE fact_id = f.id) "
                    "FROM facts f JOIN entities s ON s.id = f.subject_id JOIN entities o ON o.id = f.object_id "
                    f"WHERE f.id IN ({marks})", chunk,
                ).fetchall()
                for r in rows:
                    out[r[0]] = Fact(r[0], r[1], r[2], r[3], r[4], r[5], tuple((r[6] or "").split()))
        return out

    def find_entities(self, text: str, limit: int = 20) -> list[Entity]:
        name = normalize_name(text)
        if not name:
            return []
        like = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._all(
            "SELECT e.id, e.name, e.display, e.label FROM entities e "
            "LEFT JOIN (SELECT entity_id, COUNT(*) AS n FROM mentions GROUP BY entity_id) m ON m.entity_id = e.id "
            "WHERE e.name LIKE ? ESCAPE '\\' "
            "ORDER BY (e.name = ?) DESC, (e.name LIKE ? ESCAPE '\\') DESC, COALESCE(m.n, 0) DESC, e.name LIMIT ?",
            (f"%{like}%", name, f"{like}%", limit),
        )
        return [Entity(*r) for r in rows]

    def facts_of_entity(self, entity_id: str, limit: int = 200) -> list[Fact]:
        ids = [r[0] for r in self._all(
            "SELECT id FROM facts WHERE subject_id = ? UNION SELECT id FROM facts WHERE object_id = ? LIMIT ?",
            (entity_id, entity_id, limit),
        )]
        found = self.facts(ids)
        return [found[i] for i in ids if i in found]

    def entity_names(self) -> tuple[list[str], list[str], list[str]]:
        return columns(self._all("SELECT id, name, display FROM entities"), 3)

    def top_entities(self, limit: int = 50) -> list[Entity]:
        rows = self._all(
            "SELECT e.id, e.name, e.display, e.label FROM entities e JOIN "
            "(SELECT entity_id, COUNT(*) AS n FROM mentions GROUP BY entity_id) m ON m.entity_id = e.id "
            "ORDER BY m.n DESC, e.name LIMIT ?", (limit,),
        )
        return [Entity(*r) for r in rows]

    def list_facts(self, limit: int = 200) -> list[Fact]:
        ids = [r[0] for r in self._all("SELECT id FROM facts ORDER BY rowid LIMIT ?", (limit,))]
        found = self.facts(ids)
        return [found[i] for i in ids if i in found]

    def passages_of_entity(self, entity_id: str, limit: int = 50) -> list[PassageContext]:
        rows = self._all(
            "SELECT p.id, p.doc_id, p.text, d.title, d.source, p.position, p.key, p.time FROM mentions m "
            "JOIN passages p ON p.id = m.passage_id JOIN documents d ON d.id = p.doc_id "
            "WHERE m.entity_id = ? ORDER BY p.rowid LIMIT ?", (entity_id, limit),
        )
        return [PassageContext(*r) for r in rows]

    def synonyms_of(self, entity_id: str) -> list[tuple[Entity, float]]:
        rows = self._all(
            "SELECT e.id, e.name, e.display, e.label, MAX(x.score) AS score FROM ("
            "SELECT b AS other, score FROM synonyms WHERE a = ? UNION ALL "
            "SELECT a AS other, score FROM synonyms WHERE b = ?) x JOIN entities e ON e.id = x.other "
            "GROUP BY e.id ORDER BY score DESC", (entity_id, entity_id),
        )
        return [(Entity(*r[:4]), float(r[4])) for r in rows]

    def facts_between(self, a: str, b: str) -> list[Fact]:
        ids = [r[0] for r in self._all(
            "SELECT id FROM facts WHERE (subject_id = ? AND object_id = ?) OR (subject_id = ? AND object_id = ?)",
            (a, b, b, a),
        )]
        found = self.facts(ids)
        return [found[i] for i in ids if i in found]

    def mentions_of_passages(self, passage_ids: Sequence[str]) -> dict[str, list[Entity]]:
        out: dict[str, list[Entity]] = {}
        with self._lock:
            for chunk in chunks(list(passage_ids), 500):
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                    "SELECT m.passage_id, e.id, e.name, e.display, e.label FROM mentions m "
                    f"JOIN entities e ON e.id = m.entity_id WHERE m.passage_id IN ({marks}) ORDER BY m.rowid", chunk
                ):
                    out.setdefault(row[0], []).append(Entity(*row[1:]))
        return out

    def fact_sources(self, passage_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        rows: list[tuple[str, str, str]] = []
        with self._lock:
            for chunk in chunks(list(passage_ids), 500):
                marks = ",".join("?" * len(chunk))
                rows += self._conn.execute(
                    f"SELECT fact_id, passage_id, extractor FROM fact_sources WHERE passage_id IN ({marks}) "
                    "ORDER BY rowid", chunk
                ).fetchall()
        return rows

    def facts_of_passages(self, passage_ids: Sequence[str]) -> dict[str, list[Fact]]:
        pairs: list[tuple[str, str]] = []
        with self._lock:
            for chunk in chunks(list(passage_ids), 500):
                marks = ",".join("?" * len(chunk))
                pairs += self._conn.execute(
                    f"SELECT passage_id, fact_id FROM fact_sources WHERE passage_id IN ({marks}) ORDER BY rowid", chunk
                ).fetchall()
        found = self.facts([f for _, f in pairs])
        out: dict[str, list[Fact]] = {}
        for passage_id, fact_id in pairs:
            if fact_id in found:
                out.setdefault(passage_id, []).append(found[fact_id])
        return out
