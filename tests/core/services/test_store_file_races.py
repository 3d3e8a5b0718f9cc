"""Read-modify-writes of one store file racing each other (issue 16's lost update).

The core reads a row from memory and queues the write of its new version; memory changes only once
that write is applied. An attribute update queued first and an ingest's finish that read the row
before the update was applied used to write the old attributes back (memory and database), and an
update queued after a finish wrote `in_progress` back into the database. `asyncio.gather` starts the
two calls in the same turn of the event loop, so each reads before the other's write is applied:
the interleaving happens every run, not by chance."""

from __future__ import annotations

import asyncio
import hashlib
import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from core.domain.vector_store_files import VectorStoreFile
from core.server import open_core
from core.services import accounts, files, vector_store_files, vector_store_ingests, vector_stores
from core.services.core import Core, Principal
from core.store.tables import VECTOR_STORE_FILES
from ringside_server.errors import RingsideError
from ringside_server.settings import Settings

ADMIN = frozenset({"api:write", "api:read", "api:admin"})


@pytest.fixture
async def core(tmp_path: pathlib.Path) -> AsyncIterator[Core]:
    opened = await open_core(
        Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/r.db", log_level="WARNING")
    )
    try:
        yield opened
    finally:
        await opened.writer.close()
        opened.engine.dispose()


async def _attached(core: Core, batch: bool = False) -> tuple[Principal, VectorStoreFile]:
    new = await accounts.bootstrap(core)
    assert new is not None
    principal = Principal(account_id=new.account.id, livemode=True, scopes=ADMIN)
    fields = vector_stores.StoreInput("s", "fc:local/minilm", "fc:local/minilm", "{}", "{}", 0, False)
    store = await vector_stores.create(core, principal, "", fields)
    stored = await files.create(
        core, principal, "file-race0001", "", "a.txt", "assistants", 5, hashlib.sha256(b"hello").hexdigest()
    )
    if batch:
        _, rows = await vector_store_files.attach_batch(
            core, principal, store.id, "", [vector_store_files.BatchFile(stored.id, '{"v": "a"}')]
        )
        return principal, rows[0]
    row = await vector_store_files.attach(core, principal, store.id, "", stored.id, '{"v": "a"}', "")
    return principal, row


def _in_database(core: Core, row: VectorStoreFile) -> dict[str, Any]:
    c = VECTOR_STORE_FILES.c
    with core.engine.connect() as connection:
        found = connection.execute(
            select(c.status, c.attributes_json, c.attributes_version).where(
                c.store_id == row.store_id, c.file_id == row.file_id
            )
        ).one()
    return dict(found._mapping)


def _in_memory(core: Core, row: VectorStoreFile) -> dict[str, Any]:
    now = core.state.store_files[row.store_id][row.file_id]
    return {"status": now.status, "attributes_json": now.attributes_json, "attributes_version": now.attributes_version}


def _finish(core: Core, row: VectorStoreFile) -> Callable[[], Awaitable[VectorStoreFile]]:
    return lambda: vector_store_files.finish(core, row.store_id, row.file_id, row.attach_id, "completed", 3, "", "")


@pytest.mark.parametrize("update_first", [True, False])
async def test_an_attribute_update_and_an_ingests_finish_both_land(core: Core, update_first: bool) -> None:
    principal, row = await _attached(core)

    def update() -> Awaitable[VectorStoreFile]:
        return vector_store_files.update_attributes(core, principal, row.store_id, "", row.file_id, '{"v": "b"}')

    calls = [update, _finish(core, row)]
    updated, finished = await asyncio.gather(*(call() for call in (calls if update_first else calls[::-1])))
    if not update_first:
        updated, finished = finished, updated
    expected = {"status": "completed", "attributes_json": '{"v": "b"}', "attributes_version": 1}
    assert _in_memory(core, row) == expected
    assert _in_database(core, row) == expected  # what a restarted core would load
    assert updated.attributes_version == 1 and updated.attributes_json == '{"v": "b"}'
    # The finish answers the attributes the row holds once it is written: the ingest compares their
    # version with its points' (workers/rag_ingest/activities.py).
    assert finished.status == "completed"
    assert finished.attributes_version == (1 if update_first else 0)


async def test_updates_racing_each_other_number_their_attributes_in_order(core: Core) -> None:
    principal, row = await _attached(core)
    answers = await asyncio.gather(
        *(
            vector_store_files.update_attributes(core, principal, row.store_id, "", row.file_id, f'{{"v": {n}}}')
            for n in range(5)
        )
    )
    assert sorted(answer.attributes_version for answer in answers) == [1, 2, 3, 4, 5]
    last = max(answers, key=lambda answer: answer.attributes_version)
    expected = {"status": "in_progress", "attributes_json": last.attributes_json, "attributes_version": 5}
    assert _in_memory(core, row) == expected == _in_database(core, row)


@pytest.mark.parametrize("cancel_first", [True, False])
async def test_cancelling_a_batch_and_an_ingests_finish_agree(core: Core, cancel_first: bool) -> None:
    principal, row = await _attached(core, batch=True)

    def cancel() -> Awaitable[list[VectorStoreFile]]:
        return vector_store_files.cancel_batch(core, principal, row.store_id, "", row.batch_id)

    finish = _finish(core, row)
    if cancel_first:
        _, finished = await asyncio.gather(cancel(), finish())
    else:
        finished, _ = await asyncio.gather(finish(), cancel())
    expected_status = "cancelled" if cancel_first else "completed"
    assert _in_memory(core, row)["status"] == expected_status == _in_database(core, row)["status"]
    # A finish that lost to the cancel answers `cancelled`: the ingest then removes what it wrote.
    assert finished.status == expected_status


async def test_cancelling_one_ingest_and_its_finish_agree(core: Core) -> None:
    principal, row = await _attached(core)
    cancelled, finished = await asyncio.gather(
        vector_store_ingests.cancel(core, principal, row.store_id, "", row.file_id), _finish(core, row)()
    )
    assert cancelled.status == finished.status == "cancelled"
    assert _in_memory(core, row)["status"] == "cancelled" == _in_database(core, row)["status"]


async def test_a_finish_does_not_bring_back_a_file_detached_meanwhile(core: Core) -> None:
    principal, row = await _attached(core)
    _, finished = await asyncio.gather(
        vector_store_files.detach(core, principal, row.store_id, "", row.file_id),
        _finish(core, row)(),
        return_exceptions=True,
    )
    assert isinstance(finished, RingsideError) and finished.code == "not_found"  # the ingest removes its points
    assert row.file_id not in core.state.store_files.get(row.store_id, {})
    with core.engine.connect() as connection:
        c = VECTOR_STORE_FILES.c
        assert connection.execute(select(c.file_id).where(c.store_id == row.store_id)).first() is None
