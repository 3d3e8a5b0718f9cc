"""An erasure cannot be outlived by a search logged while it runs (issue 27): a search by the
customer being erased, or of its store, is not logged once the erasure is asked; one logged in the
same group commit as the erasure's deletions is deleted by them; and searches racing the erasure's
commit leave no row behind."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, or_, select

from core.domain.erasure import CustomerQueriesErased
from core.domain.vector_store_files import StoreQuery
from core.server import open_core
from core.services import accounts, customers, erasure, vector_store_queries, vector_stores
from core.services.core import Core, Principal
from core.store.tables import VECTOR_STORE_QUERIES
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id
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


async def _setup(core: Core) -> tuple[Principal, str, str, str]:
    """An account, its customer, the customer's store and the account's shared store."""
    new = await accounts.bootstrap(core)
    assert new is not None
    principal = Principal(account_id=new.account.id, livemode=True, scopes=ADMIN)
    customer, _ = await customers.create(core, principal, customers.CustomerInput(external_id="erased-soon"))

    def fields(shared: bool) -> vector_stores.StoreInput:
        return vector_stores.StoreInput("s", "fc:local/minilm", "fc:local/minilm", "{}", "{}", 0, shared)

    own = await vector_stores.create(core, principal, customer.id, fields(False))
    shared = await vector_stores.create(core, principal, "", fields(True))
    return principal, customer.id, own.id, shared.id


async def _search(core: Core, principal: Principal, store_id: str, customer_ref: str, text: str) -> None:
    await vector_store_queries.record(core, principal, store_id, customer_ref, text, 3, 1, [], 4)


def _rows(core: Core, customer_id: str, store_id: str) -> int:
    q = VECTOR_STORE_QUERIES.c
    with core.engine.connect() as connection:
        found = connection.execute(
            select(func.count()).where(or_(q.customer_id == customer_id, q.store_id == store_id))
        ).scalar_one()
    return int(found)


async def test_searches_during_an_erasure_are_not_logged(core: Core) -> None:
    principal, customer_id, own, shared = await _setup(core)
    await _search(core, principal, own, customer_id, "my address is 1 Elm St")
    await _search(core, principal, shared, customer_id, "my phone is 555")
    assert _rows(core, customer_id, own) == 2
    await erasure.request(core, principal, customer_id, False)
    await _search(core, principal, shared, customer_id, "while pending")  # the customer asking
    await _search(core, principal, own, "", "the account asking in the customer's store")
    assert _rows(core, customer_id, own) == 2  # the two from before, which the erasure deletes
    await erasure.complete(core, core.state.customers[customer_id])
    assert _rows(core, customer_id, own) == 0


async def test_a_search_in_the_erasures_commit_is_deleted_by_it(core: Core) -> None:
    principal, customer_id, own, _ = await _setup(core)
    row = StoreQuery(new_sortable_id("vsq"), own, principal.account_id, True, customer_id, "secret", 1, 1, 1, "[]", 1)
    # Enqueued in one step of the event loop: the writer takes both into one commit.
    await asyncio.gather(core.writer.write([row]), core.writer.write([CustomerQueriesErased(customer_id)]))
    assert _rows(core, customer_id, own) == 0


async def test_searches_racing_the_erasures_commit_leave_nothing(core: Core) -> None:
    principal, customer_id, own, shared = await _setup(core)
    await erasure.request(core, principal, customer_id, False)
    customer = core.state.customers[customer_id]
    # The erasure is marked in memory; searches that validated before the mark are the race: make
    # the service see the customer as not erasing, as one enqueued just before the mark would.
    customer.erasure = ""
    completing = asyncio.ensure_future(erasure.complete(core, customer))
    searches = 0
    while not completing.done():
        for store_id, ref in ((own, ""), (shared, customer_id), (own, customer_id)):
            try:
                await _search(core, principal, store_id, ref, f"racing {searches}")
                searches += 1
            except RingsideError:  # the store or the customer is gone: refused, nothing logged
                pass
        await asyncio.sleep(0)
    await completing
    assert searches > 0
    assert _rows(core, customer_id, own) == 0
