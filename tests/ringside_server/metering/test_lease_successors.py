"""ringside_server/metering/leases.py: a steady caller's next lease is asked for ahead, with its lease's
report, so that no call waits for a grant (issue 24).

The core is a fake (lease_fakes.py); time is a fake clock.
"""

from __future__ import annotations

import asyncio

from ringside.core.v1 import common_pb2, metering_pb2
from ringside_server.admission import MAX_LEASE_CALLS
from ringside_server.errors import RingsideError
from ringside_server.metering import leases
from ringside_server.metering.lease import granted, lease_key
from ringside_server.metering.leases import LeaseManager
from tests.ringside_server.metering.lease_fakes import (
    ACQUIRE,
    DEADLINE_S,
    SETTLE,
    WINDOW_S,
    FakeClock,
    FakeCore,
    call,
    eventually,
    flush_until_quiet,
    outcome,
    ticket,
)


async def test_a_steady_callers_next_lease_is_granted_before_it_is_needed(
    manager: LeaseManager, core: FakeCore
) -> None:
    """Past half of a lease, its successor is asked for with the lease's next report: the call that
    finds the lease spent goes on under the successor at once (issue 24: no call waits for a grant)."""
    core.lease_calls = 4
    first = [await ticket(manager) for _ in range(2)]
    await manager.flush()  # the report round: the successor rides the report
    assert len(core.asked()) == 2
    core.gate = asyncio.Event()  # from now on an acquisition would wait: none may be asked for
    rest = [await ticket(manager) for _ in range(2)]
    assert all(t.lease is first[0].lease for t in rest)
    successor = await ticket(manager)
    assert successor.lease is not first[0].lease and len(core.asked()) == 2
    for t in [*first, *rest]:
        manager.finish(t, outcome())
    core.gate.set()
    await flush_until_quiet(manager, core)
    assert any(r.close for r in core.reports(first[0].lease.id)), "the spent lease is closed in the background"


async def test_a_refused_acquisition_ahead_changes_nothing(manager: LeaseManager, core: FakeCore) -> None:
    core.lease_calls = 2
    first = await ticket(manager)
    core.answer = lambda request: metering_pb2.AcquireLeaseResponse(granted=False)
    await ticket(manager)  # past half: the successor is asked for (with the next report), and refused
    await manager.flush()
    assert len(core.asked()) == 2
    core.answer = None
    third = await ticket(manager)  # the spent lease: asked for now, as without the ahead attempt
    assert third.lease is not first.lease and len(core.asked()) == 3 and len(core.sent(ACQUIRE)) == 2


async def test_a_free_models_lease_of_nothing_admits_its_calls_and_renews_ahead(
    manager: LeaseManager, core: FakeCore
) -> None:
    """fc:local/* is priced 0: its lease is worth 0 nano-USD and bounded by calls only (a vector
    store search's query embedding admitted with no round trip to the core)."""
    core.lease_calls = 4
    free = call()
    free.price.CopyFrom(common_pb2.Price())
    tickets = [await ticket(manager, free) for _ in range(4)]
    assert tickets[0].lease.amount_nano == 0 and all(t.lease is tickets[0].lease for t in tickets)
    await manager.flush()  # past half of its calls: the successor rode the report
    assert len(core.asked()) == 2
    for t in tickets:
        manager.finish(t, outcome())
    await flush_until_quiet(manager, core)
    assert sorted(core.reported_ids(tickets[0].lease.id)) == sorted(t.request_id for t in tickets)


async def test_a_steady_callers_successor_is_asked_for_late_in_its_lease(
    manager: LeaseManager, core: FakeCore, clock: FakeClock
) -> None:
    """A successor's window runs from its grant, so it is asked for at 3/4 of the calls or 4/5 of
    the window, not at half: a steady caller is granted about one lease a window (issue 24)."""
    free = call()
    free.price.CopyFrom(common_pb2.Price())  # a lease of nothing: only its calls and window count
    calls = [await ticket(manager, free) for _ in range(leases.LEASE_CALLS // 2 + 1)]
    await manager.flush()  # reported: the lease is not held back by REPORT_LAG_LIMIT_S
    clock.now += WINDOW_S / 2
    calls.append(await ticket(manager, free))
    await manager.flush()
    assert len(core.asked()) == 1, "asked for its successor at half"
    clock.now += WINDOW_S * (leases.AHEAD_AT_WINDOW - 0.5) + 0.001
    calls.append(await ticket(manager, free))
    await manager.flush()  # the successor rides the report
    assert len(core.asked()) == 2
    assert all(t.lease is calls[0].lease for t in calls)


async def test_a_busy_callers_successor_is_asked_for_while_its_pace_leaves_time_for_the_grant(
    manager: LeaseManager, core: FakeCore, clock: FakeClock
) -> None:
    """At 400 calls a second a 64-call lease lasts 0.16 s: its last quarter (40 ms) is no time to
    have a report carrying the successor answered through a busy core (issue 24 target 3: the call
    that found it spent waited for a grant, and every call after it). Its successor is asked for once
    its pace spends it within RENEW_AHEAD_S — here as soon as that pace is seen."""
    core.lease_calls = MAX_LEASE_CALLS
    step_s = 1 / 400
    first = await ticket(manager)
    taken = 1
    while not first.lease.successor_asked and taken < MAX_LEASE_CALLS:
        clock.now += step_s
        await ticket(manager)
        taken += 1
    await manager.flush()  # the successor rides the report
    assert len(core.asked()) == 2 and core.asked()[1].calls == MAX_LEASE_CALLS
    # asked once its pace was seen (leases.PACE_SEEN_S), well before half its money or 3/4 of its calls
    assert taken <= leases.PACE_SEEN_S / step_s + 1 < MAX_LEASE_CALLS * leases.AHEAD_AT_MONEY
    assert (MAX_LEASE_CALLS - taken) * step_s > leases.RENEW_AHEAD_S / 2


async def test_calls_sent_together_are_not_a_pace_that_renews_ahead(
    manager: LeaseManager, core: FakeCore, clock: FakeClock
) -> None:
    """A slow caller's concurrent calls would seem to spend its lease at once: its pace is read only
    once its first call is PACE_SEEN_S old, so they ask for no successor a window early."""
    free = call()
    free.price.CopyFrom(common_pb2.Price())  # a lease of nothing: only its calls and window count
    first = [await ticket(manager, free) for _ in range(4)]
    clock.now += leases.PACE_SEEN_S * 2
    later = await ticket(manager, free)
    await manager.flush()
    assert later.lease is first[0].lease and not later.lease.successor_asked and len(core.asked()) == 1


async def test_a_busy_callers_next_lease_asks_for_its_pace_up_to_the_cap(
    manager: LeaseManager, core: FakeCore, clock: FakeClock
) -> None:
    """A caller that takes its lease's calls in a fraction of a window asks for as many as its pace
    fills in a window: fewer grants at high rates (issue 24), never more than the core's cap."""
    core.lease_calls = 4
    for _ in range(2):
        await ticket(manager)
        clock.now += 0.01
    await manager.flush()  # the successor rides the report
    first, ahead = core.asked()
    assert (first.calls, ahead.calls) == (leases.LEASE_CALLS, MAX_LEASE_CALLS)  # 2 calls in 0.01 s: 200 a window


async def test_a_slow_callers_next_lease_asks_for_few_calls(
    manager: LeaseManager, core: FakeCore, clock: FakeClock
) -> None:
    """A caller that takes two calls in a window asks for the floor next, so its lease holds little of
    a cap or a rate limit that other edges share."""
    await ticket(manager)
    clock.now += WINDOW_S / 4
    await ticket(manager)
    clock.now += WINDOW_S  # out of its window
    await ticket(manager)
    asked = [request.calls for request in core.asked()]
    assert asked[0] == leases.LEASE_CALLS and asked[-1] == leases.MIN_LEASE_CALLS, asked


async def test_a_successor_rides_the_report_under_one_id_however_often_it_is_sent(
    manager: LeaseManager, core: FakeCore
) -> None:
    """A steady caller's successor lease is asked for in its lease's report, not by an AcquireLease of
    its own (issue 24: a lone call to the core costs ~1 ms of CPU on each side); a report that did
    not land is sent again asking under the same lease id, which the core answers with the same
    lease (AcquireLease's idempotency), never a second one."""
    core.lease_calls = 4
    first = [await ticket(manager) for _ in range(2)]
    core.report_error = RingsideError("core_unavailable", "down")
    await manager.flush()  # the report (and the successor in it) does not land
    core.report_error = None
    await manager.flush()
    carried = [r.successor.lease_id for r in core.sent(SETTLE) if r.HasField("successor")]
    assert len(carried) >= 2 and len(set(carried)) == 1 and carried[0].startswith("lse_"), carried
    assert len(core.sent(ACQUIRE)) == 1, "no AcquireLease for the successor"
    rest = [await ticket(manager) for _ in range(2)]
    successor = await ticket(manager)
    assert successor.lease is not first[0].lease and all(t.lease is first[0].lease for t in rest)
    assert len(core.sent(ACQUIRE)) == 1


async def test_a_busy_leases_successor_is_asked_for_at_once(
    manager: LeaseManager, core: FakeCore, clock: FakeClock
) -> None:
    """A lease its caller's pace spends before its next report would go sends that report at once
    with the successor in it: a busy caller's call does not wait for a grant either."""
    core.lease_calls = 8
    first = [await ticket(manager) for _ in range(6)]  # 6 calls in no time: 2 left, gone at once
    for _ in range(10):  # the report sent ahead of its round runs now
        await asyncio.sleep(0)
    assert [r.HasField("successor") for r in core.reports()] == [True] and len(core.sent(ACQUIRE)) == 1
    rest = [await ticket(manager) for _ in range(3)]
    assert rest[-1].lease is not first[0].lease and len(core.sent(ACQUIRE)) == 1


async def test_a_busy_leases_successor_goes_right_after_the_report_in_flight(
    manager: LeaseManager, core: FakeCore
) -> None:
    """The report sent ahead of its round for a busy lease's successor, asked while the lease's
    previous report is still in flight, goes as soon as that one is answered — not at the next round,
    which brought the successor after the lease was spent (issue 24 target 3)."""
    core.lease_calls = 8
    first = [await ticket(manager) for _ in range(2)]
    core.report_gate = asyncio.Event()
    in_flight = asyncio.create_task(manager.flush())
    await eventually(lambda: core.sent(SETTLE))  # its report has reached the core, which holds it
    rest = [await ticket(manager) for _ in range(4)]  # 6 of its 8 calls at once: gone before the next round
    assert first[0].lease.successor_asked and all(t.lease is first[0].lease for t in rest)
    core.report_gate.set()
    await in_flight
    await eventually(lambda: len(core.reports()) == 2)
    assert [r.HasField("successor") for r in core.reports()] == [False, True]
    assert len(core.sent(ACQUIRE)) == 1


async def test_a_call_finding_its_lease_spent_waits_for_the_successor_in_flight(
    manager: LeaseManager, core: FakeCore
) -> None:
    """A lease spent while the report carrying its successor is still in flight (a core slow to
    commit): the calls that find it spent go on under that successor once it is answered, not under
    a lease asked for by an AcquireLease of their own, granted later still (issue 24 target 3)."""
    core.lease_calls = 4
    first = [await ticket(manager) for _ in range(3)]  # 3/4 of its calls: the successor is asked for
    core.report_gate = asyncio.Event()
    in_flight = asyncio.create_task(manager.flush())  # the report carrying it waits in the core
    await eventually(lambda: core.sent(SETTLE))
    assert core.sent(SETTLE)[0].HasField("successor")
    last = await ticket(manager)
    waiting = [asyncio.create_task(ticket(manager)) for _ in range(3)]  # the lease is spent
    await asyncio.sleep(0.01)
    assert not any(task.done() for task in waiting)
    core.report_gate.set()
    await in_flight
    after = await asyncio.wait_for(asyncio.gather(*waiting), DEADLINE_S)
    assert last.lease is first[0].lease and all(t.lease is not first[0].lease for t in after)
    assert len({t.lease.id for t in after}) == 1 and len(core.sent(ACQUIRE)) == 1


def test_the_pace_is_asked_within_the_bounds() -> None:
    response = metering_pb2.AcquireLeaseResponse(granted=True, lease_id="lse_x", calls=16, admit_for_ms=1000)
    lease = granted(response, lease_key(call()), 1.0, 1.0)
    lease.calls_taken = 10
    assert leases.calls_to_ask(lease, 1.5, 1.0) == 20  # 10 calls in 0.5 s: 20 a window
    assert leases.calls_to_ask(lease, 1.0, 1.0) == MAX_LEASE_CALLS  # all at once: the cap
    assert leases.calls_to_ask(lease, 101.0, 1.0) == leases.MIN_LEASE_CALLS  # 10 in 100 s: the floor
