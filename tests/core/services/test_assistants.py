"""The core's Assistants objects, on SQLite and PostgreSQL: a worker's write never undoes a cancel
that came first, lists keep creation order (within one millisecond too) and their cursors, and a
customer sees its own threads and the account's assistants — which it may not change."""

from __future__ import annotations

import dataclasses
import pathlib
import secrets
from collections.abc import AsyncIterator

import pytest

from core.domain.assistants import AssistantObject
from core.domain.entities import SCOPES
from core.server import open_core
from core.services import accounts, assistants, client_tokens, customers
from core.services.core import Core, Principal
from core.services.customers import CustomerInput
from ringside_server.errors import RingsideError
from ringside_server.settings import Settings
from tests.harness import create_postgres_database, drop_postgres_database, free_port


@pytest.fixture(params=["sqlite", "postgres"])
async def world(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[tuple[Core, Principal]]:
    url = None if request.param == "sqlite" else create_postgres_database()
    settings = Settings(
        data_dir=tmp_path, database_url=url, grpc_port=free_port(), internal_token="rsint_" + secrets.token_hex(16)
    )
    core = await open_core(settings)
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        yield core, Principal(new.account.id, True, frozenset(SCOPES), new.live_key.key.id)
    finally:
        await core.writer.close()
        core.engine.dispose()
        if url is not None:
            drop_postgres_database(url)


def _object(kind: str, prefix: str, parent_id: str = "", status: str = "") -> AssistantObject:
    object_id = f"{prefix}_{secrets.token_hex(8)}"
    return AssistantObject(object_id, kind, "", False, "", parent_id, status, f'{{"id":"{object_id}"}}', "{}", 0, 0)


def _ask(
    kind: str, parent_id: str = "", customer_ref: str = "", order: str = "asc", **cursor: str
) -> assistants.ListAsk:
    return assistants.ListAsk(
        kind, parent_id, customer_ref, 2, order, cursor.get("after", ""), cursor.get("before", "")
    )


async def test_a_workers_write_does_not_undo_a_cancel_that_came_first(world: tuple[Core, Principal]) -> None:
    core, principal = world
    thread = await assistants.create(core, principal, _object("thread", "thread"), "")
    run = await assistants.create(core, principal, _object("run", "run", thread.id, "in_progress"), "")
    assert run.key_id == principal.key_id  # the worker acts for the key that made the run
    target = (run.id, "run", "", thread.id)
    cancelled = await assistants.update(core, principal, target, ('{"status":"cancelling"}', "{}", "cancelling"), ())
    assert cancelled.status == "cancelling"
    # the worker read `in_progress` before the cancel: its write is conditioned on it, and skipped
    kept = await assistants.update(
        core, principal, target, ('{"status":"completed"}', "{}", "completed"), ("in_progress",)
    )
    assert (kept.status, kept.body_json) == ("cancelling", '{"status":"cancelling"}')
    done = await assistants.update(
        core, principal, target, ('{"status":"cancelled"}', "{}", "cancelled"), ("cancelling",)
    )
    assert done.status == "cancelled"
    assert [r.id for r in await assistants.pending_runs(core, 10)] == []


async def test_lists_keep_creation_order_and_their_cursors(world: tuple[Core, Principal]) -> None:
    core, principal = world
    core.clock = lambda: 1_800_000_000.0  # every message made in the same millisecond
    thread = await assistants.create(core, principal, _object("thread", "thread"), "")
    made = [(await assistants.create(core, principal, _object("message", "msg", thread.id), "")).id for _ in range(5)]
    first, more = await assistants.list_objects(core, principal, _ask("message", thread.id))
    assert [m.id for m in first] == made[:2] and more
    second, more = await assistants.list_objects(core, principal, _ask("message", thread.id, after=made[1]))
    assert [m.id for m in second] == made[2:4] and more
    newest, more = await assistants.list_objects(core, principal, _ask("message", thread.id, order="desc"))
    assert [m.id for m in newest] == [made[4], made[3]] and more
    before, more = await assistants.list_objects(core, principal, _ask("message", thread.id, before=made[4]))
    assert [m.id for m in before] == made[2:4] and more
    await assistants.delete(core, principal, thread.id, "thread", "", "")  # with its messages
    with pytest.raises(RingsideError) as gone:
        await assistants.get(core, principal, made[0], "message", "", thread.id)
    assert gone.value.code == "not_found"


async def test_a_customer_sees_its_own_threads_and_the_accounts_assistants(world: tuple[Core, Principal]) -> None:
    core, principal = world
    alice, _ = await customers.create(core, principal, CustomerInput(external_id="alice"))
    bob, _ = await customers.create(core, principal, CustomerInput(external_id="bob"))
    shared = await assistants.create(core, principal, _object("assistant", "asst"), "")
    thread = await assistants.create(core, principal, _object("thread", "thread"), alice.id)
    message = await assistants.create(core, principal, _object("message", "msg", thread.id), "")
    assert (thread.customer_id, message.customer_id) == (alice.id, alice.id)  # a message is its thread's
    assert (await assistants.get(core, principal, shared.id, "assistant", bob.id, "")).id == shared.id
    listed, _ = await assistants.list_objects(core, principal, _ask("assistant", customer_ref=bob.id))
    assert [a.id for a in listed] == [shared.id]
    refused = [
        assistants.get(core, principal, thread.id, "thread", bob.id, ""),
        assistants.get(core, principal, message.id, "message", bob.id, thread.id),
        assistants.list_objects(core, principal, _ask("message", thread.id, customer_ref=bob.id)),
        assistants.create(core, principal, _object("message", "msg", thread.id), bob.id),
        assistants.delete(core, principal, shared.id, "assistant", bob.id, ""),  # the account's: read-only to bob
        assistants.get(core, principal, thread.id, "run", "", ""),  # an id of another kind
    ]
    for attempt in refused:
        with pytest.raises(RingsideError) as error:
            await attempt
        assert error.value.code == "not_found"


async def test_a_client_token_writes_its_customers_threads_as_the_key_that_minted_it(
    world: tuple[Core, Principal],
) -> None:
    core, principal = world
    alice, _ = await customers.create(core, principal, CustomerInput(external_id="alice_ct"))
    await client_tokens.ensure_signing_key(core)  # what the core's start does
    minter = await accounts.create_key(core, principal, True, ["api:write"], "minter")
    as_minter = Principal(principal.account_id, True, minter.key.scopes, minter.key.id)
    minted = await client_tokens.mint(core, as_minter, alice.id, 300, "https://app.example", "", ["POST /v1/threads"])
    assert minted.claims.key_id == minter.key.id  # the token names its minting key
    token = client_tokens.principal_of(core, minted.token)
    thread = await assistants.create(core, token, _object("thread", "thread"), "")
    run = await assistants.create(core, token, _object("run", "run", thread.id, "queued"), "")
    # the thread is the token's customer's; the run is made (and will run) as the minting key
    assert (thread.customer_id, run.customer_id, run.key_id) == (alice.id, alice.id, minter.key.id)
    for attempt, code in [
        (assistants.create(core, token, _object("assistant", "asst"), ""), "endpoint_not_allowed"),
        # a token minted before tokens named their key: it verifies, but starts no run
        (
            assistants.create(core, dataclasses.replace(token, minting_key_id=""), _object("thread", "thread"), ""),
            "invalid_client_token",
        ),
    ]:
        with pytest.raises(RingsideError) as refused:
            await attempt
        assert refused.value.code == code
    await accounts.delete_key(core, principal, minter.key.id)
    with pytest.raises(RingsideError) as revoked:  # the minting key revoked: no new run starts
        await assistants.create(core, token, _object("run", "run", thread.id, "queued"), "")
    assert revoked.value.code == "invalid_client_token"
    assert (await assistants.get(core, token, thread.id, "thread", "", "")).id == thread.id  # reads go on


async def test_a_revoked_keys_worker_may_only_end_its_run(world: tuple[Core, Principal]) -> None:
    core, principal = world
    thread = await assistants.create(core, principal, _object("thread", "thread"), "")
    run = await assistants.create(core, principal, _object("run", "run", thread.id, "in_progress"), "")
    worker = dataclasses.replace(principal, key_revoked=True)
    target = (run.id, "run", "", thread.id)
    for attempt in [
        assistants.update(core, worker, target, ('{"status":"in_progress"}', "{}", "in_progress"), ()),
        assistants.get(core, worker, thread.id, "thread", "", ""),
        assistants.create(core, worker, _object("message", "msg", thread.id), ""),
        assistants.list_objects(core, worker, _ask("run", thread.id)),
    ]:
        with pytest.raises(RingsideError) as refused:
            await attempt
        assert refused.value.code == "invalid_api_key"
    assert (await assistants.get(core, worker, run.id, "run", "", thread.id)).status == "in_progress"
    ended = await assistants.update(core, worker, target, ('{"status":"failed"}', "{}", "failed"), ("in_progress",))
    assert ended.status == "failed"
