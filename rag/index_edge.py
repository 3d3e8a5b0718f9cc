"""The default index: Qdrant's embedded engine (qdrant-edge-py), one shard directory per index
under one root. No server to install; HNSW in-process (~ms per query at 100k points, where
qdrant-client's local mode is a Python brute force at ~140 ms).

One process owns the root: a second one fails at open instead of corrupting the shards.
"""

from __future__ import annotations

import fcntl
import pathlib
import shutil
import threading
from collections.abc import Mapping, Sequence
from typing import IO, Any

import qdrant_edge as edge

from rag.attribute_indexes import MAX_INDEXED_KEYS, AttributeIndexPlan, Schema
from rag.filters import Filter, translate
from rag.index import (
    MAX_FILES_LISTED,
    PAYLOAD_ATTRIBUTES,
    PAYLOAD_ATTRIBUTES_VERSION,
    PAYLOAD_FILE_ID,
    IndexNotFoundError,
    IndexPoint,
    SearchHit,
    check_index_name,
    check_search,
    check_upsert,
    store_of_index,
)

_LOCK_FILE = ".owner.lock"
# qdrant-edge-py 0.9 reads a Python bool in MatchValue as an integer (False -> 0), which never
# matches a JSON boolean in the payload. Boolean attributes are therefore also kept as the strings
# "true"/"false" under this key, and boolean comparisons match those.
_BOOLEAN_SHADOW = "attribute_booleans"
_ATTRIBUTE_FIELDS = (f"{PAYLOAD_ATTRIBUTES}.", f"{_BOOLEAN_SHADOW}.")
_SCHEMAS = {"keyword": edge.PayloadSchemaType.Keyword, "float": edge.PayloadSchemaType.Float}


class EdgeIndexes:
    """The indexes under `root`, each an embedded Qdrant shard in `root/<index name>/`."""

    def __init__(self, root: pathlib.Path, max_indexed_keys: int = MAX_INDEXED_KEYS) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)
        self._lock_file: IO[bytes] | None = _own(root / _LOCK_FILE)
        self._shards: dict[str, edge.EdgeShard] = {}
        # Guards the shard cache (open, create, drop); the shards themselves take concurrent calls.
        self._guard = threading.Lock()
        self._attribute_indexes = AttributeIndexPlan(max_indexed_keys)  # rag/attribute_indexes.py

    def create(self, name: str, dimensions: int) -> None:
        """Creates the index if it does not exist; opening an existing one checks its dimensions."""
        check_index_name(name)
        config = edge.EdgeConfig(vectors=edge.EdgeVectorParams(size=dimensions, distance=edge.Distance.Cosine))
        with self._guard:
            if name in self._shards:
                return
            path = self._root / name
            if path.exists():
                self._opened(name, edge.EdgeShard.load(str(path), config))
                return
            shard = edge.EdgeShard.create(str(path), config)
            # Deleting a file's points filters on file_id: an index keeps that cheap in a large store.
            shard.update(edge.UpdateOperation.create_field_index(PAYLOAD_FILE_ID, edge.PayloadSchemaType.Keyword))
            self._opened(name, shard)

    def exists(self, name: str) -> bool:
        """Whether the index exists (open or on disk)."""
        check_index_name(name)
        return name in self._shards or (self._root / name).is_dir()

    def names(self) -> list[str]:
        """The index directories under the root."""
        return sorted(path.name for path in self._root.iterdir() if path.is_dir() and store_of_index(path.name))

    def upsert(self, name: str, points: Sequence[IndexPoint]) -> None:
        """Writes the points, replacing those with the same ids."""
        check_upsert(points)
        if not points:
            return
        shard = self._shard(name)
        self._index_attributes(name, shard, [point.attributes for point in points])
        shard.update(
            edge.UpdateOperation.upsert_points(
                [edge.Point(point.id, [float(x) for x in point.vector], _payload(point)) for point in points]
            )
        )

    def delete_file(self, name: str, file_id: str) -> None:
        """Removes every point of the file."""
        self._shard(name).update(edge.UpdateOperation.delete_points_by_filter(_file_filter(file_id)))

    def set_attributes(self, name: str, file_id: str, attributes: Mapping[str, Any], version: int = 0) -> None:
        """Replaces the attributes (and their boolean shadow) of the file's points holding an older
        version than `version` (0: of all its points), keys set whole."""
        payload = {
            PAYLOAD_ATTRIBUTES: dict(attributes),
            _BOOLEAN_SHADOW: _booleans(attributes),
            PAYLOAD_ATTRIBUTES_VERSION: version,
        }
        shard = self._shard(name)
        self._index_attributes(name, shard, [attributes])
        selected = _file_filter(file_id)
        if version:  # a compare-and-set per point: a point at this version or a newer one keeps its own
            newer = edge.FieldCondition(PAYLOAD_ATTRIBUTES_VERSION, range=edge.RangeFloat(gte=float(version)))
            selected = edge.Filter(must=[selected], must_not=[newer])
        shard.update(edge.UpdateOperation.set_payload_by_filter(selected, payload))

    def drop(self, name: str) -> None:
        """Closes the index and deletes its directory."""
        check_index_name(name)
        with self._guard:
            shard = self._shards.pop(name, None)
            if shard is not None:
                shard.close()
            self._attribute_indexes.forget(name)
            shutil.rmtree(self._root / name, ignore_errors=True)

    def count(self, name: str, file_id: str | None = None) -> int:
        """Points in the index, or in one of its files."""
        request = edge.CountRequest(exact=True, filter=_file_filter(file_id) if file_id else None)
        return int(self._shard(name).count(request))

    def file_ids(self, name: str) -> list[str]:
        """The file ids in the index (a facet over the keyword-indexed file_id)."""
        found = self._shard(name).facet(edge.FacetRequest(PAYLOAD_FILE_ID, limit=MAX_FILES_LISTED, exact=True))
        return sorted(str(hit.value) for hit in found.hits if hit.count > 0)  # a deleted file may stay at 0

    def search(
        self,
        name: str,
        vector: Sequence[float],
        limit: int,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[SearchHit]:
        """The nearest points by cosine similarity, best first."""
        check_search(limit, vector)
        request = edge.QueryRequest(
            limit=limit,
            query=edge.Query.Nearest([float(x) for x in vector]),
            filter=to_edge_filter(filters) if filters is not None else None,
            score_threshold=score_threshold,
            with_payload=True,
            with_vector=False,
        )
        return [SearchHit.from_payload(hit.id, hit.score, hit.payload) for hit in self._shard(name).query(request)]

    def attribute_fields(self, name: str) -> dict[str, str]:
        """The attribute payload indexes the engine holds for the index: field path → type."""
        return _attribute_fields(self._shard(name))

    def optimize(self, name: str) -> None:
        """Builds the HNSW graph and merges segments; until then searches scan the new points."""
        self._shard(name).optimize()

    def unindexed(self, name: str) -> int:
        """Points not yet in an HNSW graph (deletes can leave the indexed count above the points')."""
        info = self._shard(name).info()
        return max(0, int(info.points_count) - int(info.indexed_vectors_count))

    def close(self) -> None:
        """Closes every shard and gives up the root."""
        with self._guard:
            for shard in self._shards.values():
                shard.close()
            self._shards.clear()
            if self._lock_file is not None:
                self._lock_file.close()  # closing the descriptor releases the flock
                self._lock_file = None

    def _shard(self, name: str) -> edge.EdgeShard:
        check_index_name(name)
        with self._guard:
            shard = self._shards.get(name)
            if shard is not None:
                return shard
            path = self._root / name
            if not path.is_dir():
                raise IndexNotFoundError(name)
            shard = edge.EdgeShard.load(str(path))
            self._opened(name, shard)
            return shard

    def _opened(self, name: str, shard: edge.EdgeShard) -> None:
        """Caches an open shard and what attribute indexes it persisted (under the guard)."""
        self._shards[name] = shard
        self._attribute_indexes.forget(name)
        self._attribute_indexes.remember(name, _attribute_fields(shard))

    def _index_attributes(self, name: str, shard: edge.EdgeShard, attributes: list[Mapping[str, Any]]) -> None:
        """Creates the payload index of each attribute key (and type) the index has not seen yet."""
        for path, schema in self._attribute_indexes.new_fields(name, attributes, _field_of):
            try:
                create_field_index(shard, path, schema)
            except BaseException:
                self._attribute_indexes.unclaim(name, path)
                raise


def _own(lock_path: pathlib.Path) -> IO[bytes]:
    lock_file = lock_path.open("ab")
    try:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        raise RuntimeError(f"another process owns the embedded index at {lock_path.parent}") from None
    return lock_file


def create_field_index(shard: edge.EdgeShard, path: str, schema: str) -> None:
    """One attribute's payload index (a function of its own: the tests count the calls)."""
    shard.update(edge.UpdateOperation.create_field_index(path, _SCHEMAS[schema]))


def _field_of(key: str, schema: Schema) -> tuple[str, str]:
    if schema == "bool":
        return f"{_BOOLEAN_SHADOW}.{key}", "keyword"  # matched on its string shadow (see above)
    return f"{PAYLOAD_ATTRIBUTES}.{key}", schema


def _attribute_fields(shard: edge.EdgeShard) -> dict[str, str]:
    found = shard.info().payload_schema
    return {
        path: str(info.data_type).rsplit(".", 1)[-1].lower()
        for path, info in found.items()
        if path.startswith(_ATTRIBUTE_FIELDS)
    }


def _payload(point: IndexPoint) -> dict[str, Any]:
    payload = point.payload()
    payload[_BOOLEAN_SHADOW] = _booleans(point.attributes)
    return payload


def _booleans(attributes: Mapping[str, Any]) -> dict[str, str]:
    return {key: "true" if value else "false" for key, value in attributes.items() if isinstance(value, bool)}


def _file_filter(file_id: str) -> edge.Filter:
    return edge.Filter(must=[edge.FieldCondition(PAYLOAD_FILE_ID, match=edge.MatchValue(file_id))])


def to_edge_filter(tree: Filter) -> edge.Filter:
    """The engine's filter for an OpenAI attribute filter (keys under the payload's attributes)."""
    return translate(tree, _EdgeFilterBuilder())


class _EdgeFilterBuilder:
    def all_of(self, parts: list[edge.Filter]) -> edge.Filter:
        return edge.Filter(must=list(parts))

    def any_of(self, parts: list[edge.Filter]) -> edge.Filter:
        return edge.Filter(should=list(parts))

    def none_of(self, parts: list[edge.Filter]) -> edge.Filter:
        return edge.Filter(must_not=list(parts))

    def match(self, key: str, value: str | int | bool) -> edge.Filter:
        if isinstance(value, bool):
            shadow = edge.MatchValue("true" if value else "false")
            return edge.Filter(must=[edge.FieldCondition(f"{_BOOLEAN_SHADOW}.{key}", match=shadow)])
        return edge.Filter(must=[edge.FieldCondition(f"{PAYLOAD_ATTRIBUTES}.{key}", match=edge.MatchValue(value))])

    def match_any(self, key: str, values: list[str] | list[int]) -> edge.Filter:
        return edge.Filter(must=[edge.FieldCondition(f"{PAYLOAD_ATTRIBUTES}.{key}", match=edge.MatchAny(values))])

    def range(self, key: str, bounds: dict[str, float]) -> edge.Filter:
        return edge.Filter(must=[edge.FieldCondition(f"{PAYLOAD_ATTRIBUTES}.{key}", range=edge.RangeFloat(**bounds))])
