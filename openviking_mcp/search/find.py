"""``find``: hybrid, directory-recursive semantic search.

1. **Hybrid scoring.** Each search runs a vector query (cosine) and a full-text query (BM25)
   with the same filters. Rows first collapse into their document (a file's passages into
   the file, a directory's L0 and L1 into the directory), each signal keeping its best row,
   and then fuse linearly: ``w*cosine + (1-w)*bm25/max_bm25``. The weight ``w`` moves with
   the query's lexical gap (:mod:`.fusion`: the share of its words that the vector search's
   best rows miss) from one share when nothing is missing to another when everything is.
   Documents keep the vector ranking when nothing is missing and take up to 15% BM25 for
   codenames, rare names and identifiers (``retrieval.hybrid_vector_weight`` 1.0,
   ``retrieval.identifier_vector_weight`` 0.85); memories, short and dense in names, dates
   and specifics, take 40% to 70% (``retrieval.memory_vector_weight`` 0.6,
   ``retrieval.memory_identifier_vector_weight`` 0.3). A cross-validated sweep on MS MARCO,
   DBpedia and LoCoMo chose them (benchmarks/fusion_sweep.py, benchmarks/RESULTS.md).
2. **Directory recursion**, always on (the original only did it with a reranker): the best
   directories (by their L0/L1 rows) are expanded best-first; each child's score is
   ``alpha*child + (1-alpha)*parent`` (``retrieval.score_propagation_alpha``) and
   sub-directories are expanded in turn, a few per round, until the top results stop changing.
3. **One result per document.** The file's URI, its best passage's score and that passage as
   ``match``; a directory's hit carries the ``/.abstract.md`` or ``/.overview.md`` suffix. A
   directory that only wraps one file (an imported document's folder, whose rows share the
   file's vector) gives way to the file, so one document never takes two places.

No hard-coded cut-off: the default threshold is 0 (scores are relative); callers may pass one.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from openviking_mcp.config import RetrievalConfig
from openviking_mcp.models.base import Embedder, Vector
from openviking_mcp.models.rerank import Reranker
from openviking_mcp.search.fusion import lexical_gap, query_terms, vector_share
from openviking_mcp.storage.index import IndexFilter, IndexRecord, normalize_uri, record_id

if TYPE_CHECKING:
    from openviking_mcp.storage.index import SearchIndex

__all__ = ["FindQuery", "Retriever", "bucket_hits"]

_SUFFIX = {0: "/.abstract.md", 1: "/.overview.md"}
_BUCKETS = {"memory": "memories", "resource": "resources", "skill": "skills"}
_MAX_ROUNDS = 4
_DIRS_PER_ROUND = 3
_MATCH_CHARS = 500


@dataclass(frozen=True, slots=True)
class FindQuery:
    query: str
    base: IndexFilter
    limit: int = 10
    score_threshold: float = 0.0
    levels: tuple[int, ...] = ()
    include_provenance: bool = False


@dataclass(slots=True)
class _Scored:
    record: IndexRecord
    score: float
    vector_score: float
    keyword_score: float
    vector_weight: float = 1.0
    via: str = ""
    trajectory: list[dict[str, Any]] = field(default_factory=list)


def _cosine(query: Vector, vector: np.ndarray) -> float:
    if vector.size != query.size:
        return 0.0
    return float(np.dot(query, vector))


def _offer(pool: dict[str, _Scored], item: _Scored) -> None:
    """Keep ``item`` in ``pool`` unless a record with the same id already scores at least as
    high."""
    known = pool.get(item.record.id)
    if known is None or item.score > known.score:
        pool[item.record.id] = item


def _pool_signal(
    docs: dict[str, _Scored], rec: IndexRecord, *, vector: float = -1.0, keyword: float = -1.0
) -> None:
    """Fold one row's signal into its document's entry in ``docs`` (by URI): each signal
    keeps its best row, and the entry is represented by the row with the best cosine."""
    item = docs.get(rec.uri)
    if item is None:
        docs[rec.uri] = _Scored(rec, 0.0, max(0.0, vector), max(0.0, keyword))
        return
    if vector > item.vector_score:
        item.record, item.vector_score = rec, vector
    item.keyword_score = max(item.keyword_score, keyword)


def _top_uris(pool: dict[str, _Scored], limit: int) -> tuple[str, ...]:
    """The URIs of the ``limit`` best-scored records of ``pool`` (ties in pool order)."""
    return tuple(s.record.uri for s in sorted(pool.values(), key=lambda s: -s.score)[:limit])


@dataclass(slots=True)
class _Frontier:
    """Directories (L0/L1 records) waiting to be expanded, best score first (ties by URI);
    each URI is expanded at most once."""

    heap: list[tuple[float, str]] = field(default_factory=list)
    expanded: set[str] = field(default_factory=set)

    def offer(self, item: _Scored) -> None:
        """Queue ``item`` if it is a directory that has not been expanded yet."""
        if item.record.level in (0, 1) and item.record.uri not in self.expanded:
            heapq.heappush(self.heap, (-item.score, item.record.uri))

    def next_batch(self) -> list[tuple[float, str]]:
        """Up to ``_DIRS_PER_ROUND`` ``(score, uri)`` pairs of unexpanded directories, best
        first, now marked as expanded."""
        batch: list[tuple[float, str]] = []
        while self.heap and len(batch) < _DIRS_PER_ROUND:
            neg, uri = heapq.heappop(self.heap)
            if uri not in self.expanded:
                self.expanded.add(uri)
                batch.append((-neg, uri))
        return batch


class Retriever:
    def __init__(
        self,
        index: SearchIndex,
        embedder: Embedder,
        config: RetrievalConfig,
        reranker: Reranker | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config
        self.reranker = reranker

    def lexical_gap(self, query: str, texts: Sequence[str]) -> float:
        """The lexical gap of ``query`` in its vector search's best rows, ``texts`` (see
        :mod:`.fusion`)."""
        return lexical_gap(query_terms(query), texts[: self.config.lexical_gap_depth])

    def vector_weight(self, gap: float, context_type: str) -> float:
        """The vector share of the hybrid score of a row of ``context_type`` for a query with
        lexical ``gap``: memories have their own pair of shares."""
        cfg = self.config
        if context_type == "memory":
            return vector_share(gap, cfg.memory_vector_weight, cfg.memory_identifier_vector_weight)
        return vector_share(gap, cfg.hybrid_vector_weight, cfg.identifier_vector_weight)

    async def _hybrid(
        self,
        query: str,
        qvec: Vector,
        flt: IndexFilter,
        k: int,
        *,
        gap: float | None = None,
        by_parent: bool = False,
    ) -> tuple[list[_Scored], float]:
        """Vector and keyword hits of ``flt``, one per document, fused (see the module
        docs), best first, with the lexical gap used (``gap``, or the query's own). BM25
        is scaled by the best BM25 of the result, or, ``by_parent``, of each parent
        directory's rows, so that one query over several directories scores each as its own
        query would."""
        vec_hits, fts_hits = await asyncio.gather(
            self.index.vector_search(qvec, flt, k), self.index.fts_search(query, flt, k)
        )
        if gap is None:
            gap = self.lexical_gap(query, [h.record.text for h in vec_hits])
        top: dict[str, float] = {}
        for hit in fts_hits:
            key = hit.record.parent_uri if by_parent else ""
            top[key] = max(top.get(key, 0.0), hit.score)
        docs: dict[str, _Scored] = {}
        for hit in vec_hits:
            _pool_signal(docs, hit.record, vector=max(0.0, hit.score))
        cosine_known = {hit.record.id for hit in vec_hits}
        for hit in fts_hits:
            rec = hit.record
            best = top[rec.parent_uri if by_parent else ""] or 1.0
            vector = -1.0  # a row the vector search scored keeps that score
            if rec.id not in cosine_known:
                vector = max(0.0, _cosine(qvec, np.asarray(rec.vector, dtype=np.float32)))
            _pool_signal(docs, rec, vector=vector, keyword=max(0.0, hit.score) / best)
        for item in docs.values():
            w = self.vector_weight(gap, item.record.context_type)
            item.vector_weight = w
            item.score = w * item.vector_score + (1 - w) * item.keyword_score
        return sorted(docs.values(), key=lambda s: s.score, reverse=True), gap

    async def find(self, q: FindQuery) -> list[dict[str, Any]]:
        qvec = await self.embedder.embed_query(q.query)
        k = max(q.limit * 3, 30)
        pool: dict[str, _Scored] = {}
        async with self.index.read_scope():  # one view of the index for every round
            first, gap = await self._hybrid(q.query, qvec, q.base, k)
            for item in first:
                _offer(pool, item)
            searched = await self._expand_directories(q, qvec, pool, gap)
            best = self._best_per_uri(pool.values(), q)
            await self._fold_wrappers(best)
        hits = self._render(best, q, searched, keep=max(q.limit * 3, 30))
        if self.reranker is not None and hits:
            hits = await self._rerank(q, hits)
        return hits[: q.limit]

    async def _expand_directories(
        self, q: FindQuery, qvec: Vector, pool: dict[str, _Scored], gap: float
    ) -> list[dict[str, Any]]:
        """Directory recursion: expand the best directories of ``pool`` a few per round, adding
        their children with propagated scores, until the top ``q.limit`` results are the same
        two rounds in a row (or ``_MAX_ROUNDS`` is reached). Returns the expanded directories
        as ``{uri, score}`` in expansion order."""
        searched: list[dict[str, Any]] = []
        frontier = _Frontier()
        for item in pool.values():
            frontier.offer(item)
        previous_top: tuple[str, ...] = ()
        stable_rounds = 0
        for _ in range(_MAX_ROUNDS):
            batch = frontier.next_batch()
            if not batch:
                break
            per_dir = max(q.limit * 2, 20)
            parents = [uri for _, uri in batch]
            children = await self._children(q, qvec, parents, per_dir, gap)
            for parent_score, uri in batch:
                searched.append({"uri": uri, "score": round(parent_score, 4)})
                found = children.get(normalize_uri(uri), [])
                self._absorb_children(found, parent_score, uri, pool, frontier)
            top = _top_uris(pool, q.limit)
            stable_rounds = stable_rounds + 1 if top == previous_top else 0
            previous_top = top
            if stable_rounds >= 1 and len(top) >= q.limit:
                break
        return searched

    async def _children(
        self, q: FindQuery, qvec: Vector, parents: list[str], per_dir: int, gap: float
    ) -> dict[str, list[_Scored]]:
        """The best ``per_dir`` children of each of ``parents``, by parent URI: one vector and
        one keyword query for all of them (a round of the descent), not one per directory."""
        flt = replace(q.base, parent_uris=tuple(parents))
        scored, _ = await self._hybrid(
            q.query, qvec, flt, per_dir * len(parents), gap=gap, by_parent=True
        )
        grouped: dict[str, list[_Scored]] = {}
        for item in scored:  # best first
            group = grouped.setdefault(item.record.parent_uri, [])
            if len(group) < per_dir:
                group.append(item)
        return grouped

    def _absorb_children(
        self,
        children: list[_Scored],
        parent_score: float,
        parent_uri: str,
        pool: dict[str, _Scored],
        frontier: _Frontier,
    ) -> None:
        """Blend each child's score with its parent's (``score_propagation_alpha``), add it to
        ``pool`` and queue it on ``frontier`` when it is a directory."""
        alpha = self.config.score_propagation_alpha
        for child in children:
            child.score = alpha * child.score + (1 - alpha) * parent_score
            child.via = parent_uri
            _offer(pool, child)
            frontier.offer(child)

    async def _rerank(self, q: FindQuery, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Blend reranker relevance into the hybrid scores (0.3 hybrid + 0.7 rerank)."""
        assert self.reranker is not None
        texts = [h.get("match") or h.get("abstract") or h["uri"] for h in hits]
        scores = await self.reranker.scores(q.query, texts)
        if scores is None:
            return hits
        for hit, score in zip(hits, scores, strict=True):
            hit["score"] = round(0.3 * hit["score"] + 0.7 * score, 6)
            if "score_parts" in hit:
                hit["score_parts"]["rerank"] = round(float(score), 6)
            hit["match_reason"] = (hit["match_reason"] + " + rerank").lstrip(" +")
        ranked = sorted(hits, key=lambda h: -h["score"])
        return [h for h in ranked if h["score"] > q.score_threshold]

    def _best_per_uri(self, items: Iterable[_Scored], q: FindQuery) -> dict[str, _Scored]:
        """The best-scored item of each URI at the levels ``q`` asks for (directory scores
        weighted by ``directory_score_weight``)."""
        best: dict[str, _Scored] = {}
        dir_weight = self.config.directory_score_weight
        for item in items:
            rec = item.record
            if q.levels and rec.level not in q.levels:
                continue
            if rec.level != 2:
                item = replace(item, score=item.score * dir_weight)
            if rec.uri not in best or item.score > best[rec.uri].score:
                best[rec.uri] = item
        return best

    async def _fold_wrappers(self, best: dict[str, _Scored]) -> None:
        """Drop from ``best`` each directory that only wraps a file also in ``best``: its
        rows carry that file's first-passage vector (fetched when the file is represented by
        a later passage). The file keeps the better of the two scores."""
        pairs: list[tuple[_Scored, _Scored]] = []
        for item in best.values():
            parent = best.get(item.record.parent_uri) if item.record.level == 2 else None
            if parent is not None and parent.record.level != 2 and parent.record.vector.size:
                pairs.append((item, parent))
        if not pairs:
            return
        first: dict[str, np.ndarray] = {
            f.record.uri: f.record.vector for f, _ in pairs if f.record.anchor in ("", "p0")
        }
        later = [
            record_id(f.record.account_id, f.record.uri, 2, "p0")
            for f, _ in pairs
            if f.record.uri not in first
        ]
        if later:
            first.update((r.uri, r.vector) for r in await self.index.get(later))
        for file_item, dir_item in pairs:
            vector = first.get(file_item.record.uri)
            if vector is None or not np.array_equal(vector, dir_item.record.vector):
                continue
            file_item.score = max(file_item.score, dir_item.score)
            file_item.keyword_score = max(file_item.keyword_score, dir_item.keyword_score)
            best.pop(dir_item.record.uri, None)

    def _render(
        self, best: dict[str, _Scored], q: FindQuery, searched: list[dict[str, Any]], keep: int
    ) -> list[dict[str, Any]]:
        """The hits of ``best``, best first, above the threshold, at most ``keep``."""
        hits: list[dict[str, Any]] = []
        for item in sorted(best.values(), key=lambda s: s.score, reverse=True):
            if not item.score > q.score_threshold:
                continue
            rec = item.record
            reasons = [
                r
                for r, s in (("semantic", item.vector_score), ("keyword", item.keyword_score))
                if s > 0
            ]
            hit: dict[str, Any] = {
                "context_type": rec.context_type,
                "uri": rec.uri + _SUFFIX.get(rec.level, ""),
                "level": rec.level,
                "score": round(float(item.score), 6),
                "abstract": rec.abstract,
                "tags": list(rec.tags),
                "match_reason": " + ".join(reasons) + (f" (via {item.via})" if item.via else ""),
            }
            if rec.level == 2:
                hit["match"] = rec.text[:_MATCH_CHARS]
            if q.include_provenance:
                hit["trajectory"] = searched
                hit["score_parts"] = _parts(item)
            hits.append(hit)
            if len(hits) >= keep:
                break
        return hits


def _parts(item: _Scored) -> dict[str, float]:
    """The signals fused into ``item``'s score (a hit's ``score_parts``)."""
    return {
        "vector": round(float(item.vector_score), 6),
        "keyword": round(float(item.keyword_score), 6),
        "vector_weight": round(float(item.vector_weight), 6),
    }


def bucket_hits(hits: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The original's result shape: ``{memories, resources, skills, total}``."""
    out: dict[str, Any] = {"memories": [], "resources": [], "skills": []}
    for hit in hits:
        out[_BUCKETS.get(hit["context_type"], "resources")].append(hit)
    out["total"] = len(hits)
    return out
