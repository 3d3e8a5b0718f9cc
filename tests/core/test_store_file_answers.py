"""core/rpc/vector_stores.py: the file a detach, an attribute update or an ingest's cancel answers
names the store's generation and, while a migration builds the next index, that one's generation
too: the edge changes the file in both indexes (edge_http/handlers/vector_store_files.py)."""

from __future__ import annotations

import hashlib
import pathlib
from typing import Any

import pytest

from core.rpc.vector_stores import VectorStoresServicer
from core.services import files, vector_store_files, vector_store_migrations, vector_stores
from core.services.core import Core, Principal
from ringside.core.v1 import vector_stores_pb2 as pb
from tests.core.services.bootstrapped import bootstrapped_core


class _Caller:
    """The servicer's authenticator, for one principal (the gRPC key check is not what is tested)."""

    def __init__(self, principal: Principal) -> None:
        self._principal = principal

    def principal(self, context: Any) -> Principal:
        return self._principal


async def _store_with_files(core: Core, principal: Principal, migrating: bool) -> tuple[VectorStoresServicer, str, int]:
    fields = vector_stores.StoreInput("s", "fc:local/minilm", "fc:local/minilm", "{}", "{}", 0, False)
    store = await vector_stores.create(core, principal, "", fields)
    for n in range(3):
        stored = await files.create(
            core, principal, f"file-answer000{n}", "", "a.txt", "assistants", 5, hashlib.sha256(b"hello").hexdigest()
        )
        await vector_store_files.attach(core, principal, store.id, "", stored.id, "{}", "")
    next_generation = 0
    if migrating:
        started = await vector_store_migrations.start(
            core, principal, store.id, "", "fc:openai/text-embedding-3-small", ""
        )
        next_generation = started.to_generation
    return VectorStoresServicer(core, _Caller(principal)), store.id, next_generation  # type: ignore[arg-type]


@pytest.mark.parametrize("migrating", [True, False])
async def test_a_changed_file_names_the_index_a_running_migration_builds(
    tmp_path: pathlib.Path, migrating: bool
) -> None:
    async with bootstrapped_core("sqlite", tmp_path) as bootstrapped:
        core = bootstrapped.core
        servicer, store_id, next_generation = await _store_with_files(core, bootstrapped.principal, migrating)
        context: Any = None  # no metadata is read: the caller is _Caller's principal
        answers = [
            await servicer.UpdateStoreFile(
                pb.StoreFileRequest(store_id=store_id, file_id="file-answer0000", attributes_json='{"v": 1}'), context
            ),
            await servicer.CancelStoreFile(pb.StoreFileRequest(store_id=store_id, file_id="file-answer0001"), context),
            await servicer.DetachFile(pb.StoreFileRequest(store_id=store_id, file_id="file-answer0002"), context),
        ]
        generation = core.state.vector_stores[store_id].generation
    assert [(a.file.generation, a.file.migrating_generation) for a in answers] == [(generation, next_generation)] * 3
    assert not migrating or next_generation != generation
