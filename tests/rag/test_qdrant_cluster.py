"""A Qdrant cluster (issue 25): new collections are created with the configured shards, replicas and
write consistency. No Qdrant server installs here, so the server code path runs on qdrant-client's
in-process mode (DECISIONS.md, 16), which accepts the layout and ignores it: the test reads what
the code handed the client's create_collection, the one call a cluster would act on."""

from __future__ import annotations

from typing import Any

import pytest
from qdrant_client import QdrantClient

from rag.index import CollectionLayout, index_name, open_indexes
from tests.rag.test_index import DIMENSIONS, points, unit


def test_a_new_collection_is_created_with_the_cluster_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[dict[str, Any]] = []
    create_collection = QdrantClient.create_collection

    def recording(self: QdrantClient, collection_name: str, **options: Any) -> bool:
        created.append({"name": collection_name, **options})
        return create_collection(self, collection_name, **options)

    monkeypatch.setattr(QdrantClient, "create_collection", recording)
    layout = CollectionLayout(shards=6, replication_factor=3, write_consistency_factor=2)
    indexes = open_indexes(url=":memory:", layout=layout)
    name = index_name("vs_cluster", 1)
    try:
        indexes.create(name, DIMENSIONS)
        indexes.create(name, DIMENSIONS)  # an existing collection is kept as it is: no second create
        indexes.upsert(name, points(store="vs_cluster", files=2))
        assert indexes.search(name, unit(3), limit=1)[0].file_id == "file-0"
    finally:
        indexes.close()
    assert [
        (c["name"], c["shard_number"], c["replication_factor"], c["write_consistency_factor"]) for c in created
    ] == [(name, 6, 3, 2)]


def test_the_default_layout_is_one_shard_and_a_write_needs_no_more_copies_than_exist() -> None:
    assert CollectionLayout() == CollectionLayout(shards=1, replication_factor=1, write_consistency_factor=1)
    with pytest.raises(ValueError, match="WRITE_CONSISTENCY_FACTOR"):
        CollectionLayout(shards=2, replication_factor=2, write_consistency_factor=3)
