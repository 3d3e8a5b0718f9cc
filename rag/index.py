"""The vector index behind managed RAG: one index per (store, generation) (DECISIONS.md, 16 — the
store's row names its live generation, so a migration's swap is one core write and the embedded
engine needs no aliases).

Two implementations of one interface: `EdgeIndexes` (rag/index_edge.py, the default: Qdrant's
embedded engine, one process owns its path) and `QdrantIndexes` (rag/index_qdrant.py, a Qdrant
server through qdrant-client, when RINGSIDE_QDRANT_URL is set). `open_indexes` picks one.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from rag.filters import Filter

MAX_POINTS_PER_UPSERT = 1024
MAX_SEARCH_LIMIT = 50
MAX_FILES_LISTED = 100_000  # files per index the sweep looks at in one pass
_INDEX_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
# What index_name makes of a store's id: the sweep touches no index (collection) of another shape.
_STORE_INDEX = re.compile(r"^(vs_[A-Za-z0-9]{1,80})--g([0-9]{1,9})$")

# The payload every point carries: what a search result shows without asking the core.
PAYLOAD_FILE_ID = "file_id"
PAYLOAD_FILENAME = "filename"
PAYLOAD_CHUNK_INDEX = "chunk_index"
PAYLOAD_TEXT = "text"
PAYLOAD_ATTRIBUTES = "attributes"
# The store file's attributes_version the point's attributes are (the core numbers each update):
# set_attributes writes only over an older one, so a late write never undoes a newer update.
PAYLOAD_ATTRIBUTES_VERSION = "attributes_version"


@dataclass(frozen=True)
class IndexPoint:
    """A chunk to store: its id (rag.chunking.chunk_id), vector, file, position, text and the
    file's attributes (what search filters read)."""

    id: str
    vector: Sequence[float]
    file_id: str
    chunk_index: int
    text: str
    filename: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    attributes_version: int = 0

    def payload(self) -> dict[str, Any]:
        """The point's payload in the engine."""
        return {
            PAYLOAD_FILE_ID: self.file_id,
            PAYLOAD_FILENAME: self.filename,
            PAYLOAD_CHUNK_INDEX: self.chunk_index,
            PAYLOAD_TEXT: self.text,
            PAYLOAD_ATTRIBUTES: dict(self.attributes),
            PAYLOAD_ATTRIBUTES_VERSION: self.attributes_version,
        }


@dataclass(frozen=True)
class SearchHit:
    """One search result: a chunk and its similarity to the query (cosine, higher is closer)."""

    id: str
    score: float
    file_id: str
    filename: str
    chunk_index: int
    text: str
    attributes: dict[str, Any]

    @classmethod
    def from_payload(cls, point_id: object, score: float, payload: Mapping[str, Any] | None) -> SearchHit:
        """A hit from an engine's point id, score and payload."""
        payload = payload or {}
        return cls(
            id=str(point_id),
            score=float(score),
            file_id=str(payload.get(PAYLOAD_FILE_ID, "")),
            filename=str(payload.get(PAYLOAD_FILENAME, "")),
            chunk_index=int(payload.get(PAYLOAD_CHUNK_INDEX, 0)),
            text=str(payload.get(PAYLOAD_TEXT, "")),
            attributes=dict(payload.get(PAYLOAD_ATTRIBUTES) or {}),
        )


class IndexNotFoundError(LookupError):
    """The index does not exist (never created, or dropped)."""


class VectorIndexes(Protocol):
    """The indexes of one rag role. Every write is idempotent: points are keyed by their id."""

    def create(self, name: str, dimensions: int) -> None:
        """Creates the index if it does not exist (a no-op when it does, with the same dimensions)."""

    def exists(self, name: str) -> bool:
        """Whether the index exists."""

    def names(self) -> list[str]:
        """Every index there is (the rag role's sweep drops those of stores no longer live)."""

    def upsert(self, name: str, points: Sequence[IndexPoint]) -> None:
        """Writes the points (at most MAX_POINTS_PER_UPSERT), replacing any with the same id; an
        attribute key the index has not seen gets its payload index (rag/attribute_indexes.py)."""

    def delete_file(self, name: str, file_id: str) -> None:
        """Removes every point of the file; searches stop returning it when this returns."""

    def set_attributes(self, name: str, file_id: str, attributes: Mapping[str, Any], version: int = 0) -> None:
        """Replaces the attributes of every point of the file (an attribute update) whose attributes
        are older than `version` (0: every point); filters see them when this returns (a new key
        gets its payload index, as at upsert)."""

    def drop(self, name: str) -> None:
        """Removes the index and its storage (a no-op when it does not exist)."""

    def count(self, name: str, file_id: str | None = None) -> int:
        """How many points the index (or one file in it) holds."""

    def file_ids(self, name: str) -> list[str]:
        """The distinct files with points in the index (at most MAX_FILES_LISTED; the sweep's check)."""

    def search(
        self,
        name: str,
        vector: Sequence[float],
        limit: int,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[SearchHit]:
        """The `limit` (1..MAX_SEARCH_LIMIT) nearest points passing `filters` on the file
        attributes, best first, none scoring under `score_threshold`."""

    def attribute_fields(self, name: str) -> dict[str, str]:
        """The payload indexes on attributes the index has: field path → type (keyword, float, bool)."""

    def optimize(self, name: str) -> None:
        """Builds the search structures after a batch of writes (a no-op where the engine does it)."""

    def unindexed(self, name: str) -> int:
        """Points a search still scans by brute force until `optimize` (0 where the engine optimizes
        on its own: a Qdrant server)."""

    def close(self) -> None:
        """Releases the engine (files, locks, connections)."""


def index_name(store_id: str, generation: int) -> str:
    """The index of a store's generation, e.g. `vs_abc123--g2`."""
    if generation < 0:
        raise ValueError("generation must not be negative")
    name = f"{store_id}--g{generation}"
    check_index_name(name)
    return name


def store_of_index(name: str) -> str | None:
    """The store id in an index name made by index_name, else None (not one of Ringside's)."""
    found = _STORE_INDEX.fullmatch(name)
    return found.group(1) if found else None


def check_index_name(name: str) -> None:
    """Index names become directory and collection names: letters, digits, '_' and '-' only."""
    if not _INDEX_NAME.fullmatch(name):
        raise ValueError(f"invalid index name {name!r}")


def check_search(limit: int, vector: Sequence[float]) -> None:
    """Bounds every implementation applies before asking its engine."""
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise ValueError(f"limit must be from 1 to {MAX_SEARCH_LIMIT}")
    if not len(vector):
        raise ValueError("the query vector is empty")


def check_upsert(points: Sequence[IndexPoint]) -> None:
    """The bound on one write."""
    if len(points) > MAX_POINTS_PER_UPSERT:
        raise ValueError(f"at most {MAX_POINTS_PER_UPSERT} points per upsert")


@dataclass(frozen=True)
class CollectionLayout:
    """How a new collection spreads over a Qdrant cluster (RINGSIDE_QDRANT_SHARDS, …): shards across
    the nodes, copies of each shard, and how many copies must take a write before it is answered.
    An existing collection keeps the layout it was created with (Qdrant reshards on its own terms)."""

    shards: int = 1
    replication_factor: int = 1
    write_consistency_factor: int = 1

    def __post_init__(self) -> None:
        if self.write_consistency_factor > self.replication_factor:
            raise ValueError(
                "RINGSIDE_QDRANT_WRITE_CONSISTENCY_FACTOR cannot exceed RINGSIDE_QDRANT_REPLICATION_FACTOR"
            )


def open_indexes(
    *,
    path: pathlib.Path | None = None,
    url: str | None = None,
    api_key: str | None = None,
    layout: CollectionLayout | None = None,
) -> VectorIndexes:
    """The embedded engine at `path`, or the Qdrant server at `url` (`url=":memory:"` is
    qdrant-client's in-process mode: the server's code path, for tests where no server runs)."""
    if url:
        from rag.index_qdrant import QdrantIndexes

        return QdrantIndexes(url=url, api_key=api_key, layout=layout)
    if path is None:
        raise ValueError("the embedded index needs a storage path")
    from rag.index_edge import EdgeIndexes

    return EdgeIndexes(path)
