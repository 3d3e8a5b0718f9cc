"""A report round's reports in one SettleLeaseReports call (issue 24), against a real core (gRPC over
a socket, SQLite and PostgreSQL): every due lease's report rides one call, each report is settled
exactly as SettleLeaseCalls settles it (idempotent by request id, its successor granted once under
its id, its close), and one report refused fails no other."""

from __future__ import annotations

import pathlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from ringside.core.v1 import metering_pb2
from ringside_server.core_routing import NOT_OWNER_CODE
from ringside_server.metering import lease_reports
from ringside_server.metering.lease import Ticket
from ringside_server.metering.leases import LeaseManager
from tests.ringside_server.test_request_log_reports import WINDOW_S, _call, _finished, counting
from tests.workers.billing_core import InProcessCore, core_on


@pytest.fixture(params=["sqlite", "postgres"])
async def core(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[InProcessCore]:
    async with core_on(request.param, tmp_path, time.time()) as running:
        yield running


def _counting(core: InProcessCore) -> Counter[str]:
    return counting(core, "AcquireLease", "SettleLeaseCalls", "SettleLeaseReports")


def _caller(core: InProcessCore, number: int) -> metering_pb2.AuthorizeRequest:
    call = _call(core.live_key)
    call.client_ip = f"10.0.0.{number}"  # a lease per caller (lease.lease_key)
    return call


async def _leases(core: InProcessCore, manager: LeaseManager, callers: int) -> list[Ticket]:
    """One finished call under each of `callers` leases, unreported."""
    tickets = []
    for number in range(callers):
        ticket = await manager.admit(_caller(core, number))
        assert isinstance(ticket, Ticket), ticket
        manager.finish(ticket, _finished())
        tickets.append(ticket)
    assert len({ticket.lease.id for ticket in tickets}) == callers
    return tickets


async def test_a_round_reports_every_due_lease_in_one_call(core: InProcessCore) -> None:
    calls = _counting(core)
    manager = LeaseManager(core.client, "edge-test", WINDOW_S)
    tickets = await _leases(core, manager, 3)

    await manager.flush()

    assert calls == Counter({"AcquireLease": 3, "SettleLeaseReports": 1})
    for ticket in tickets:
        assert not ticket.lease.reports and not ticket.lease.admissions and not ticket.lease.failures
    await manager.close(5.0)


async def test_a_report_the_core_refuses_fails_no_other(core: InProcessCore) -> None:
    calls = _counting(core)
    manager = LeaseManager(core.client, "edge-test", WINDOW_S)
    good, bad = await _leases(core, manager, 2)
    bad.lease.reports[0].outcome = metering_pb2.SETTLE_OUTCOME_UNSPECIFIED  # the core refuses it

    await manager.flush()

    assert calls["SettleLeaseReports"] == 1 and not calls["SettleLeaseCalls"]
    assert not good.lease.reports and not good.lease.failures  # recorded and acknowledged
    assert len(bad.lease.reports) == 1 and bad.lease.failures == 1  # kept for the next round
    bad.lease.reports[0].outcome = metering_pb2.SETTLE_OUTCOME_COMPLETED
    await manager.flush()
    assert not bad.lease.reports and not bad.lease.failures
    await manager.close(5.0)


async def test_each_report_of_a_call_is_settled_as_settle_lease_calls_settles_it(core: InProcessCore) -> None:
    manager = LeaseManager(core.client, "edge-test", WINDOW_S)
    closing, renewing = await _leases(core, manager, 2)
    finished = [_finished(), _finished()]
    finished[0].request_id, finished[0].estimate_nano_usd = closing.request_id, closing.estimate_nano
    finished[1].request_id, finished[1].estimate_nano_usd = renewing.request_id, renewing.estimate_nano
    successor = metering_pb2.AcquireLeaseRequest(call=_caller(core, 1), calls=4, lease_id="lse_batchSuccessor001")
    request = metering_pb2.SettleLeaseReportsRequest(
        reports=[
            metering_pb2.SettleLeaseCallsRequest(
                lease_id=closing.lease.id, calls=[finished[0]], admitted=closing.lease.admissions, close=True
            ),
            metering_pb2.SettleLeaseCallsRequest(
                lease_id=renewing.lease.id, calls=[finished[1]], admitted=renewing.lease.admissions, successor=successor
            ),
            # refused (a call with no outcome): the others stand
            metering_pb2.SettleLeaseCallsRequest(lease_id="lse_neverGrantedAtAll01", calls=[metering_pb2.LeaseCall()]),
        ]
    )
    first = await core.client.internal(core.client.metering.SettleLeaseReports, request)
    again = await core.client.internal(core.client.metering.SettleLeaseReports, request)  # its answer cut off

    closed, renewed, refused = first.results
    assert closed.answer.recorded == 1 and closed.answer.closed
    assert renewed.answer.recorded == 1 and not renewed.answer.closed
    assert renewed.answer.successor.granted and renewed.answer.successor.lease_id == "lse_batchSuccessor001"
    assert not refused.HasField("answer") and refused.error_code == "invalid_request"
    closed, renewed, refused = again.results
    assert closed.answer.recorded == 0 and closed.answer.closed  # nothing recorded twice
    assert renewed.answer.recorded == 0
    assert renewed.answer.successor.lease_id == "lse_batchSuccessor001"  # the same grant, not a second
    assert renewed.answer.successor.amount_nano_usd == first.results[1].answer.successor.amount_nano_usd
    holds = core.core.state.holds
    assert closing.lease.id not in holds and renewing.lease.id in holds and "lse_batchSuccessor001" in holds
    assert refused.error_code == first.results[2].error_code
    closing.lease.reports.clear()  # reported above, by hand
    renewing.lease.reports.clear()
    await manager.close(5.0)


async def test_the_reports_go_one_a_call_to_a_core_without_the_batch(core: InProcessCore) -> None:
    calls = _counting(core)

    async def unimplemented(*_: Any, **__: Any) -> Any:
        calls["SettleLeaseReports"] += 1
        raise grpc.aio.AioRpcError(grpc.StatusCode.UNIMPLEMENTED, grpc.aio.Metadata(), grpc.aio.Metadata(), "no")

    core.client.metering.SettleLeaseReports = unimplemented  # an older core (a rolling upgrade)
    manager = LeaseManager(core.client, "edge-test", WINDOW_S)
    tickets = await _leases(core, manager, 2)

    await manager.flush()

    assert calls == Counter({"AcquireLease": 2, "SettleLeaseReports": 1, "SettleLeaseCalls": 2})
    assert all(not ticket.lease.reports and not ticket.lease.failures for ticket in tickets)
    await _leases(core, manager, 2)
    await manager.flush()  # the next rounds do not ask that core again for a while
    assert calls["SettleLeaseReports"] == 1 and calls["SettleLeaseCalls"] == 4
    await manager.close(5.0)


async def test_a_retiring_leases_close_carries_its_successors_first_calls(
    core: InProcessCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_reports, "REPORT_AFTER_S", 3600.0)  # the successor's report not due by itself
    calls = _counting(core)
    manager = LeaseManager(core.client, "edge-test", WINDOW_S)
    first = await manager.admit(_caller(core, 1))
    assert isinstance(first, Ticket), first
    first.lease.admit_until = time.monotonic()  # its window over while its call is in flight
    second = await manager.admit(_caller(core, 1))
    assert isinstance(second, Ticket) and second.lease is not first.lease, second
    manager.finish(first, _finished())  # the first lease's last call: it is due, to close it

    await manager.flush(coalesce=True)

    assert calls == Counter({"AcquireLease": 2, "SettleLeaseReports": 1})
    assert first.lease not in manager._reports.open  # closed
    assert not second.lease.admissions  # its admission rode the close
    await manager.close(5.0)


async def test_a_report_of_another_cores_lease_is_answered_not_owner_on_its_own(core: InProcessCore) -> None:
    manager = LeaseManager(core.client, "edge-test", WINDOW_S)
    first, second = await _leases(core, manager, 2)
    reports = [
        metering_pb2.SettleLeaseCallsRequest(lease_id=ticket.lease.id, admitted=ticket.lease.admissions)
        for ticket in (first, second)
    ]
    ownership = core.core.ownership
    ownership.serving = frozenset()  # the account's partition moved to another core

    answer = await core.client.internal(
        core.client.metering.SettleLeaseReports, metering_pb2.SettleLeaseReportsRequest(reports=reports)
    )

    assert [result.error_code for result in answer.results] == [NOT_OWNER_CODE, NOT_OWNER_CODE]
    ownership.serving = None  # back: the edge's reports land
    await manager.close(5.0)
