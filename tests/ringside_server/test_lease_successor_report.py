"""A lease's successor and its caller's allowed_models lists ride the lease's report to a real core
(gRPC over a socket, SQLite), instead of AcquireLease and ModelPolicy calls of their own (issue 24):
the successor is granted after the report is recorded, once however often the report is sent (by
its lease id), and a steady caller's calls go on under it with one AcquireLease in all."""

from __future__ import annotations

from collections import Counter

import pytest

from ringside.core.v1 import metering_pb2
from ringside_server.metering import leases
from ringside_server.metering.lease import Ticket
from ringside_server.metering.leases import LeaseManager
from tests.ringside_server.test_request_log_reports import WINDOW_S, _call, _finished, counting
from tests.workers.billing_core import InProcessCore


def _counting(core: InProcessCore) -> Counter[str]:
    return counting(core, "AcquireLease", "SettleLeaseCalls", "ModelPolicy")


async def test_a_steady_callers_successor_rides_its_report(
    core: InProcessCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This loop's pace is a burst's (no upstream): as a steady caller's lease, its report is not
    # sent ahead of the rounds (a busy lease's is: tests/ringside_server/metering/test_leases.py).
    monkeypatch.setattr(leases, "REPORT_AFTER_S", -leases.FLUSH_EVERY_S)
    calls = _counting(core)
    manager = LeaseManager(core.client, "edge-test", WINDOW_S)
    tickets: list[Ticket] = []
    while not tickets or tickets[-1].lease is tickets[0].lease:
        ticket = await manager.admit(_call(core.live_key))
        assert isinstance(ticket, Ticket), ticket
        manager.finish(ticket, _finished())
        tickets.append(ticket)
        await manager.flush(coalesce=True)  # the report rounds, as the edge runs them
        assert len(tickets) <= leases.LEASE_CALLS + 1, "no successor before the first lease was spent"
    assert calls["AcquireLease"] == 1, calls  # the first lease's only: its successor rode a report
    assert len(tickets) == leases.LEASE_CALLS + 1
    await manager.close(5.0)


async def test_a_reports_successor_is_granted_once_under_its_id(core: InProcessCore) -> None:
    manager = LeaseManager(core.client, "edge-test", WINDOW_S)
    ticket = await manager.admit(_call(core.live_key))
    assert isinstance(ticket, Ticket), ticket
    question = metering_pb2.ModelPolicyRequest(api_key=core.live_key)
    report = metering_pb2.SettleLeaseCallsRequest(
        lease_id=ticket.lease.id,
        successor=metering_pb2.AcquireLeaseRequest(
            call=_call(core.live_key), calls=4, lease_id="lse_successorResent01"
        ),
        policy=question,
    )
    first = await core.client.internal(core.client.metering.SettleLeaseCalls, report)
    again = await core.client.internal(core.client.metering.SettleLeaseCalls, report)  # its answer cut off
    assert first.successor.granted and again.successor.granted
    assert first.successor.lease_id == again.successor.lease_id == "lse_successorResent01"
    assert again.successor.amount_nano_usd == first.successor.amount_nano_usd > 0
    held = [hold for hold in core.core.state.holds.values() if hold.id == "lse_successorResent01"]
    assert len(held) == 1
    assert first.HasField("policy") and first.policy == metering_pb2.ModelPolicyResponse()  # every model
    assert first.successor.HasField("policy")
    # no id, no successor: a report may be sent twice, and only an id makes a grant safe to repeat
    report.successor.lease_id = ""
    unnamed = await core.client.internal(core.client.metering.SettleLeaseCalls, report)
    assert unnamed.HasField("successor") and not unnamed.successor.granted
    await manager.close(5.0)
