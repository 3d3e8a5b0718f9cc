"""ringside_server/metering/leases.py: the edge admits calls against leases the core grants.

The core is a fake (lease_fakes.py); time is a fake clock. Reports: test_lease_reports.py;
successors asked for ahead: test_lease_renewal.py.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from ringside.core.v1 import metering_pb2
from ringside_server.errors import RingsideError
from ringside_server.metering import leases
from ringside_server.metering.leases import LeaseManager, Ticket
from tests.ringside_server.metering.lease_fakes import (
    ACQUIRE,
    DEADLINE_S,
    ONE_CALL,
    WINDOW_S,
    FakeClock,
    FakeCore,
    call,
    flush_until_quiet,
    outcome,
    ticket,
)


async def test_concurrent_calls_of_one_caller_share_one_acquisition(manager: LeaseManager, core: FakeCore) -> None:
    core.gate = asyncio.Event()
    tasks = [asyncio.create_task(manager.admit(call())) for _ in range(10)]
    async with asyncio.timeout(DEADLINE_S):
        await core.acquiring.wait()
    core.gate.set()
    async with asyncio.timeout(DEADLINE_S):
        admitted = await asyncio.gather(*tasks)
    assert len(core.sent(ACQUIRE)) == 1
    assert all(isinstance(a, Ticket) for a in admitted), admitted
    tickets = [a for a in admitted if isinstance(a, Ticket)]
    assert {t.lease.id for t in tickets} == {"lse_0"}
    assert len({t.request_id for t in tickets}) == 10
    assert all(t.estimate_nano == ONE_CALL for t in tickets)
    assert tickets[0].lease.available_nano == 6 * ONE_CALL


async def test_each_caller_has_its_own_lease(manager: LeaseManager, core: FakeCore) -> None:
    first = await ticket(manager, call("cus_1"))
    second = await ticket(manager, call("cus_2"))
    again = await ticket(manager, call("cus_1"))
    assert first.lease is again.lease and first.lease is not second.lease
    assert [r.call.customer_ref for r in core.sent(ACQUIRE)] == ["cus_1", "cus_2"]
    assert all(r.calls == leases.LEASE_CALLS and r.edge == "edge-test" for r in core.sent(ACQUIRE))


async def test_a_call_past_the_leases_money_acquires_a_new_lease(manager: LeaseManager, core: FakeCore) -> None:
    core.lease_calls = 3
    first = [await ticket(manager) for _ in range(3)]
    assert len(core.sent(ACQUIRE)) == 1
    fourth = await ticket(manager)  # under the successor asked for at 2/3 (with a report sent now)
    assert len(core.asked()) == 2
    assert fourth.lease is not first[0].lease
    # Each lease's id is the edge's own, a fresh one per acquisition: a request cut off in flight
    # is resent under it (core_routing.safe_to_resend) and answered with the lease granted.
    chosen = [request.lease_id for request in core.asked()]
    assert len(set(chosen)) == 2 and all(re.fullmatch(r"lse_[0-9A-Za-z]{8,60}", lease_id) for lease_id in chosen)
    # The exhausted lease is retired: once its calls are reported it is closed, window or not.
    for t in first:
        manager.finish(t, outcome())
    await flush_until_quiet(manager, core)
    reports = core.reports(first[0].lease.id)  # a busy lease's successor may have gone in a first one
    assert reports[-1].close and sum(len(r.calls) for r in reports) == 3
    assert not any(r.close for r in reports[:-1])
    assert not any(r.close for r in core.reports(fourth.lease.id))


async def test_waiters_the_new_lease_cannot_cover_wait_for_one_more_lease(
    manager: LeaseManager, core: FakeCore
) -> None:
    # A burst (or a grant slower than the lease it follows): more calls wait than the new lease
    # covers. The rest wait for the next lease, not an Authorize and a Settle each.
    core.lease_calls = 2
    core.gate = asyncio.Event()
    tasks = [asyncio.create_task(manager.admit(call())) for _ in range(5)]
    async with asyncio.timeout(DEADLINE_S):
        await core.acquiring.wait()
    core.gate.set()
    async with asyncio.timeout(DEADLINE_S):
        admitted = await asyncio.gather(*tasks)
    assert all(isinstance(a, Ticket) for a in admitted), admitted
    tickets = [a for a in admitted if isinstance(a, Ticket)]
    assert len({t.request_id for t in tickets}) == 5
    assert all(sum(t.lease is lease for t in tickets) <= 2 for lease in {t.lease for t in tickets})
    assert core.sent(ACQUIRE), "no per-call path: every call under a lease"


async def test_waiters_no_further_lease_covers_fall_back_to_the_per_call_path(
    manager: LeaseManager, core: FakeCore
) -> None:
    # Near a cap the core grants the first lease and refuses the next: the calls it cannot cover
    # take the per-call path (exact by construction), and the core is asked once more, not per call.
    core.lease_calls = 2
    core.gate = asyncio.Event()
    granted_once: list[metering_pb2.AcquireLeaseRequest] = []

    def first_only(request: metering_pb2.AcquireLeaseRequest) -> metering_pb2.AcquireLeaseResponse:
        granted_once.append(request)
        return core.grant(request) if len(granted_once) == 1 else metering_pb2.AcquireLeaseResponse(granted=False)

    core.answer = first_only
    tasks = [asyncio.create_task(manager.admit(call())) for _ in range(4)]
    async with asyncio.timeout(DEADLINE_S):
        await core.acquiring.wait()
    core.gate.set()
    async with asyncio.timeout(DEADLINE_S):
        admitted = await asyncio.gather(*tasks)
    assert sum(isinstance(a, Ticket) for a in admitted) == 2
    assert admitted.count(None) == 2
    assert len(core.sent(ACQUIRE)) == 2


async def test_a_lease_admits_no_call_once_its_window_has_passed(
    manager: LeaseManager, core: FakeCore, clock: FakeClock
) -> None:
    first = await ticket(manager)
    clock.now += WINDOW_S
    second = await ticket(manager)  # the lease still has money, but the core must be asked again
    assert len(core.sent(ACQUIRE)) == 2
    assert second.lease is not first.lease


async def test_no_lease_means_per_call_and_the_core_is_not_asked_again_within_the_window(
    manager: LeaseManager, core: FakeCore, clock: FakeClock
) -> None:
    core.answer = lambda request: metering_pb2.AcquireLeaseResponse(granted=False)
    assert await manager.admit(call()) is None
    assert await manager.admit(call()) is None
    assert len(core.sent(ACQUIRE)) == 1
    assert await manager.admit(call("cus_2")) is None  # another caller asks for itself
    assert len(core.sent(ACQUIRE)) == 2
    clock.now += WINDOW_S * 0.99
    assert await manager.admit(call()) is None
    assert len(core.sent(ACQUIRE)) == 2
    clock.now += WINDOW_S * 0.02
    core.answer = None  # the room grew back: a lease again
    assert isinstance(await manager.admit(call()), Ticket)
    assert len(core.sent(ACQUIRE)) == 3


async def test_a_denial_is_returned_as_is_and_not_remembered(manager: LeaseManager, core: FakeCore) -> None:
    denial = metering_pb2.Denial(code="customer_blocked", message="Customer cus_1 is blocked.")
    core.answer = lambda request: metering_pb2.AcquireLeaseResponse(granted=False, denial=denial)
    assert await manager.admit(call()) == denial
    core.answer = None  # unblocked: the very next call gets through
    assert isinstance(await manager.admit(call()), Ticket)
    assert len(core.sent(ACQUIRE)) == 2


async def test_a_core_failure_while_acquiring_reaches_the_caller(manager: LeaseManager, core: FakeCore) -> None:
    def unavailable(request: metering_pb2.AcquireLeaseRequest) -> metering_pb2.AcquireLeaseResponse:
        raise RingsideError("service_unavailable", "down")

    core.answer = unavailable
    with pytest.raises(RingsideError) as raised:
        await manager.admit(call())
    assert raised.value.code == "service_unavailable"
    core.answer = None
    assert isinstance(await manager.admit(call()), Ticket)  # nothing stuck behind the failure
