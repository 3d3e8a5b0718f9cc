"""An Authorize or AcquireLease asked again under the id its caller chose (its first answer cut off,
maybe by the core's death) is answered with what was granted first, reserved once and durable — and
what that answer carried survives a reload, which is what a core taking the partition over reads
(issue 25; docs/scaling.md "Resending"). Real core, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import pathlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import func, select

from core.domain.calls import CallRequest
from core.domain.metering import MAX_LEASE_CALLS, Admission
from core.domain.state import State
from core.services import customers, leases, metering
from core.services.core import Core, Principal
from core.services.customers import CustomerInput
from core.store.loader import load_state
from core.store.tables import HOLDS, TRANSFERS
from ringside.core.v1 import metering_pb2
from ringside_server.errors import RingsideError
from ringside_server.money import Price
from tests.core.services.bootstrapped import GPT_4O_MINI, bootstrapped_core, model_call
from tests.workers.billing_core import MODEL_REF, PRICE, InProcessCore


@dataclass
class World:
    core: Core
    principal: Principal
    secret: str

    def call(self, customer_id: str, price: Price = GPT_4O_MINI) -> CallRequest:
        return model_call(self.secret, customer_id, price)

    async def rows(self, hold_id: str) -> tuple[int, int]:
        """(hold rows, pending transfers) the database holds for `hold_id`."""

        def count() -> tuple[int, int]:
            with self.core.engine.connect() as connection:
                holds = connection.execute(select(func.count()).where(HOLDS.c.id == hold_id)).scalar_one()
                pending = connection.execute(
                    select(func.count()).where(TRANSFERS.c.request_id == hold_id, TRANSFERS.c.kind == "pending")
                ).scalar_one()
            return int(holds), int(pending)

        return await asyncio.get_running_loop().run_in_executor(None, count)

    async def reloaded(self) -> State:
        return await asyncio.get_running_loop().run_in_executor(None, load_state, self.core.engine, self.core.now())


@pytest.fixture(params=["sqlite", "postgres"])
async def world(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[World]:
    async with bootstrapped_core(request.param, tmp_path) as opened:
        yield World(opened.core, opened.principal, opened.live_secret)


async def test_a_lease_asked_again_under_its_id_is_the_lease_granted_reserved_once(world: World) -> None:
    core = world.core
    customer, _ = await customers.create(core, world.principal, CustomerInput(rate_limit_tpm=10_000_000))
    call = world.call(customer.id)
    first = await leases.acquire_lease(core, call, MAX_LEASE_CALLS, "lse_resentLease0001")
    assert isinstance(first, Admission), first
    held = customer.held_nano
    again = await leases.acquire_lease(core, call, MAX_LEASE_CALLS, "lse_resentLease0001")
    assert isinstance(again, Admission), again
    assert again.replayed and again.hold is first.hold
    assert (again.lease_calls, again.lease_tokens) == (first.lease_calls, first.lease_tokens)
    assert first.lease_tokens > 0
    assert customer.held_nano == held == first.hold.amount_nano
    assert await world.rows("lse_resentLease0001") == (1, 1)
    # What a taker adopts: the same calls and tokens, so its answer is the first one.
    adopted = (await world.reloaded()).holds["lse_resentLease0001"]
    assert (adopted.lease_calls, adopted.lease_tokens) == (first.lease_calls, first.lease_tokens)


async def test_a_closed_leases_id_is_refused_not_granted_again(world: World) -> None:
    core = world.core
    customer, _ = await customers.create(core, world.principal, CustomerInput())
    call = world.call(customer.id)
    first = await leases.acquire_lease(core, call, MAX_LEASE_CALLS, "lse_resentLease0002")
    assert isinstance(first, Admission), first
    await leases.settle_lease_calls(core, "lse_resentLease0002", [], close=True)
    assert customer.held_nano == 0
    with pytest.raises(RingsideError) as refused:
        await leases.acquire_lease(core, call, MAX_LEASE_CALLS, "lse_resentLease0002")
    assert (refused.value.code, refused.value.param) == ("invalid_request", "lease_id")
    assert customer.held_nano == 0 and "lse_resentLease0002" not in core.state.holds
    # A new id still leases (the refused attempt reserved nothing, left nothing behind).
    assert isinstance(await leases.acquire_lease(core, call, MAX_LEASE_CALLS, "lse_resentLease0003"), Admission)


async def test_an_authorize_asked_again_carries_its_first_output_bound_after_a_reload(world: World) -> None:
    """A TPM window cut a free model's call to 500 output tokens (its amount, 0, covers any bound):
    the hold keeps the bound, so the taker that adopts it answers a resend with 500 too."""
    core = world.core
    customer, _ = await customers.create(core, world.principal, CustomerInput(rate_limit_tpm=1_500))
    call = replace(world.call(customer.id, Price(input=0, output=0)), request_id="req_resentCall00001")
    first = await metering.authorize(core, call)
    assert isinstance(first, Admission), first
    assert (first.max_output_tokens, first.output_limited) == (500, True)
    again = await metering.authorize(core, call)
    assert isinstance(again, Admission) and again.replayed
    assert (again.max_output_tokens, again.output_limited) == (500, True)
    assert (await world.reloaded()).holds["req_resentCall00001"].output_tokens == 500


async def test_over_grpc_a_resent_lease_or_count_is_answered_as_first_and_bad_ids_are_refused(
    tmp_path: pathlib.Path,
) -> None:
    """The same through the core's gRPC server and the client the edge uses: the ids travel in the
    protos (AcquireLeaseRequest.lease_id, CountRequestRequest.request_id) and a malformed one is
    refused in the documented envelope, never taken for "no id"."""
    started = await InProcessCore.start(tmp_path, time.time())
    client = started.client
    try:
        customer_id = await started.new_customer(10**12)
        call = metering_pb2.AuthorizeRequest(
            api_key=started.live_key,
            customer_ref=customer_id,
            model_ref=MODEL_REF,
            provider="openai",
            price=PRICE,
            input_tokens_bound=1_000,
            requested_output_tokens=1_000,
            model_max_output_tokens=16_384,
        )
        asked = metering_pb2.AcquireLeaseRequest(call=call, calls=16, edge="test", lease_id="lse_overGrpc000001")
        first = await client.internal(client.metering.AcquireLease, asked)
        again = await client.internal(client.metering.AcquireLease, asked)
        assert first.granted and first.lease_id == "lse_overGrpc000001"
        fields = ("lease_id", "amount_nano_usd", "calls", "tokens", "customer_id", "expires_at")
        assert [getattr(again, f) for f in fields] == [getattr(first, f) for f in fields]
        assert (await started.customer(customer_id)).held_nano_usd == first.amount_nano_usd  # reserved once

        count = metering_pb2.CountRequestRequest(
            authorization=f"Bearer {started.live_key}", client_ip="203.0.113.7", request_id="req_overGrpc000001"
        )
        counted = await client.internal(client.metering.CountRequest, count)
        assert await client.internal(client.metering.CountRequest, count) == counted
        count.request_id = "req_overGrpc000002"
        assert await client.internal(client.metering.CountRequest, count) != counted  # another request: counted

        for method, bad in (
            (client.metering.AcquireLease, metering_pb2.AcquireLeaseRequest(call=call, calls=16, lease_id="lse_x")),
            (client.metering.CountRequest, metering_pb2.CountRequestRequest(client_ip="203.0.113.7", request_id="x")),
        ):
            with pytest.raises(RingsideError) as refused:
                await client.internal(method, bad)
            assert refused.value.code == "invalid_request" and refused.value.param in ("lease_id", "request_id")
    finally:
        await started.stop()
