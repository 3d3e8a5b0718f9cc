"""The index on a Qdrant server through qdrant-client (RINGSIDE_QDRANT_URL): what several rag
processes share. One collection per index.

TLS is the URL's scheme (https://), with the API key Qdrant Cloud or a secured cluster asks for.
`url=":memory:"` runs qdrant-client's in-process mode through the same client calls: no Qdrant
server binary can be installed from this project's registries, so the tests exercise this code
path that way (DECISIONS.md, 16).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qdrant

from rag.attribute_indexes import AttributeIndexPlan, Schema
from rag.filters import Filter, translate
from rag.index import (
    MAX_FILES_LISTED,
    PAYLOAD_ATTRIBUTES,
    PAYLOAD_ATTRIBUTES_VERSION,
    PAYLOAD_FILE_ID,
    CollectionLayout,
    IndexNotFoundError,
    IndexPoint,
    SearchHit,
    check_index_name,
    check_search,
    check_upsert,
    store_of_index,
)

# A bound on how long one call to the server may take.
_TIMEOUT_S = 30
_SCHEMAS = {
    "keyword": qdrant.PayloadSchemaType.KEYWORD,
    "float": qdrant.PayloadSchemaType.FLOAT,
    "bool": qdrant.PayloadSchemaType.BOOL,
}


class QdrantIndexes:
    """The indexes of a Qdrant server (or qdrant-client's in-process mode for ":memory:")."""

    def __init__(self, url: str, api_key: str | None = None, layout: CollectionLayout | None = None) -> None:
        # In-process mode has no payload indexes (it scans; it takes and forgets the calls making them).
        self._server = url != ":memory:"
        self._attribute_indexes = AttributeIndexPlan()  # rag/attribute_indexes.py
        self._layout = layout or CollectionLayout()
        if not self._server:
            self._client = QdrantClient(location=":memory:")
        else:
            self._client = QdrantClient(url=url, api_key=api_key, timeout=_TIMEOUT_S)

    def create(self, name: str, dimensions: int) -> None:
        """Creates the collection if it does not exist; an existing one must have these dimensions."""
        check_index_name(name)
        if self._client.collection_exists(name):
            vectors = self._client.get_collection(name).config.params.vectors
            size = vectors.size if isinstance(vectors, qdrant.VectorParams) else None
            if size != dimensions:
                raise ValueError(f"index {name!r} holds {size}-d vectors, not {dimensions}-d")
            return
        self._client.create_collection(
            name,
            vectors_config=qdrant.VectorParams(size=dimensions, distance=qdrant.Distance.COSINE),
            shard_number=self._layout.shards,
            replication_factor=self._layout.replication_factor,
            write_consistency_factor=self._layout.write_consistency_factor,
        )
        if self._server:
            # Deleting a file's points filters on file_id: an index keeps that cheap in a large store.
            self._client.create_payload_index(name, PAYLOAD_FILE_ID, qdrant.PayloadSchemaType.KEYWORD, wait=True)

    def exists(self, name: str) -> bool:
        """Whether the collection exists."""
        check_index_name(name)
        return bool(self._client.collection_exists(name))

    def upsert(self, name: str, points: Sequence[IndexPoint]) -> None:
        """Writes the points and waits until they are searchable."""
        check_upsert(points)
        if not points:
            return
        self._require(name)
        self._index_attributes(name, [point.attributes for point in points])
        structs = [
            qdrant.PointStruct(id=point.id, vector=[float(x) for x in point.vector], payload=point.payload())
            for point in points
        ]
        self._client.upsert(name, points=structs, wait=True)

    def delete_file(self, name: str, file_id: str) -> None:
        """Removes every point of the file and waits until searches no longer see them."""
        self._require(name)
        self._client.delete(name, points_selector=qdrant.FilterSelector(filter=_file_filter(file_id)), wait=True)

    def set_attributes(self, name: str, file_id: str, attributes: Mapping[str, Any], version: int = 0) -> None:
        """Replaces the attributes of the file's points holding an older version than `version` (0: of
        all its points) and waits until filters see them."""
        self._require(name)
        self._index_attributes(name, [attributes])
        selected = _file_filter(file_id)
        if version:  # a compare-and-set per point: a point at this version or a newer one keeps its own
            newer = qdrant.FieldCondition(key=PAYLOAD_ATTRIBUTES_VERSION, range=qdrant.Range(gte=version))
            selected = qdrant.Filter(must=[selected], must_not=[newer])
        self._client.set_payload(
            name,
            payload={PAYLOAD_ATTRIBUTES: dict(attributes), PAYLOAD_ATTRIBUTES_VERSION: version},
            points=qdrant.FilterSelector(filter=selected),
            wait=True,
        )

    def names(self) -> list[str]:
        """The collections that are indexes (a shared server may hold others: never listed)."""
        found = (c.name for c in self._client.get_collections().collections)
        return sorted(name for name in found if store_of_index(name))

    def drop(self, name: str) -> None:
        """Deletes the collection (a no-op when it does not exist)."""
        check_index_name(name)
        if self._client.collection_exists(name):
            self._client.delete_collection(name)
        self._attribute_indexes.forget(name)

    def count(self, name: str, file_id: str | None = None) -> int:
        """Points in the collection, or in one of its files."""
        self._require(name)
        result = self._client.count(name, count_filter=_file_filter(file_id) if file_id else None, exact=True)
        return int(result.count)

    def file_ids(self, name: str) -> list[str]:
        """The file ids in the collection (a facet over the keyword-indexed file_id)."""
        self._require(name)
        found = self._client.facet(name, PAYLOAD_FILE_ID, limit=MAX_FILES_LISTED, exact=True)
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
        self._require(name)
        response = self._client.query_points(
            name,
            query=[float(x) for x in vector],
            query_filter=to_qdrant_filter(filters) if filters is not None else None,
            limit=limit,
            score_threshold=score_threshold,
            with_payload=True,
            with_vectors=False,
        )
        return [SearchHit.from_payload(point.id, point.score, point.payload) for point in response.points]

    def attribute_fields(self, name: str) -> dict[str, str]:
        """The attribute payload indexes of the collection: field path → type (in-process mode keeps
        none: there, those this client created)."""
        self._require(name)
        if not self._server:
            return self._attribute_indexes.fields(name)
        return _attribute_fields(self._client.get_collection(name).payload_schema)

    def optimize(self, name: str) -> None:
        """A no-op: the server builds its HNSW graph on its own."""
        self._require(name)

    def unindexed(self, name: str) -> int:
        """0: a Qdrant server builds its graphs itself (its optimizers' indexing threshold)."""
        self._require(name)
        return 0

    def close(self) -> None:
        """Closes the client."""
        self._client.close()

    def _require(self, name: str) -> None:
        check_index_name(name)
        if not self._client.collection_exists(name):
            raise IndexNotFoundError(name)

    def _index_attributes(self, name: str, attributes: list[Mapping[str, Any]]) -> None:
        """Creates the payload index of each attribute key (and type) the collection has not seen yet;
        what a server persisted is read back once per collection (another process may have made it)."""
        if not self._attribute_indexes.knows(name):
            self._attribute_indexes.remember(name, _attribute_fields(self._client.get_collection(name).payload_schema))
        for path, schema in self._attribute_indexes.new_fields(name, attributes, _field_of):
            try:
                with warnings.catch_warnings():  # in-process mode warns that it keeps none
                    warnings.simplefilter("ignore", UserWarning)
                    self._client.create_payload_index(name, path, _SCHEMAS[schema], wait=True)
            except BaseException:
                self._attribute_indexes.unclaim(name, path)
                raise


def _field_of(key: str, schema: Schema) -> tuple[str, str]:
    return f"{PAYLOAD_ATTRIBUTES}.{key}", schema


def _attribute_fields(schema: Mapping[str, Any]) -> dict[str, str]:
    return {
        path: str(getattr(info.data_type, "value", info.data_type)).lower()
        for path, info in schema.items()
        if path.startswith(f"{PAYLOAD_ATTRIBUTES}.")
    }


def _file_filter(file_id: str) -> qdrant.Filter:
    return qdrant.Filter(must=[qdrant.FieldCondition(key=PAYLOAD_FILE_ID, match=qdrant.MatchValue(value=file_id))])


def to_qdrant_filter(tree: Filter) -> qdrant.Filter:
    """Qdrant's filter for an OpenAI attribute filter (keys under the payload's attributes)."""
    return translate(tree, _QdrantFilterBuilder())


class _QdrantFilterBuilder:
    def all_of(self, parts: list[qdrant.Filter]) -> qdrant.Filter:
        return qdrant.Filter(must=list(parts))

    def any_of(self, parts: list[qdrant.Filter]) -> qdrant.Filter:
        return qdrant.Filter(should=list(parts))

    def none_of(self, parts: list[qdrant.Filter]) -> qdrant.Filter:
        return qdrant.Filter(must_not=list(parts))

    def match(self, key: str, value: str | int | bool) -> qdrant.Filter:
        condition = qdrant.FieldCondition(key=f"{PAYLOAD_ATTRIBUTES}.{key}", match=qdrant.MatchValue(value=value))
        return qdrant.Filter(must=[condition])

    def match_any(self, key: str, values: list[str] | list[int]) -> qdrant.Filter:
        condition = qdrant.FieldCondition(key=f"{PAYLOAD_ATTRIBUTES}.{key}", match=qdrant.MatchAny(any=values))
        return qdrant.Filter(must=[condition])

    def range(self, key: str, bounds: dict[str, float]) -> qdrant.Filter:
        condition = qdrant.FieldCondition(key=f"{PAYLOAD_ATTRIBUTES}.{key}", range=qdrant.Range(**bounds))
        return qdrant.Filter(must=[condition])
