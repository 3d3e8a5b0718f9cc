"""ringside_server/metering/lease_reports.py: the edge reports the calls it admitted under a lease,
in rounds between requests, and closes the lease once its calls are in.

The core is a fake (lease_fakes.py); time is a fake clock.
"""

from __future__ import annotations

import asyncio

import pytest

from ringside.core.v1 import metering_pb2
from ringside_server.answering import QUIET_WAIT_LIMIT_S
from ringside_server.errors import RingsideError
from ringside_server.metering import lease_reports, leases
from ringside_server.metering.keepalive import KeepAlive
from ringside_server.metering.lease import granted, lease_key
from ringside_server.metering.leases import MAX_CALLS_PER_REPORT, LeaseManager
from tests.ringside_server.metering.lease_fakes import (
    ACQUIRE,
    DEADLINE_S,
    EXTEND,
    ONE_CALL,
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


async def test_finish_queues_the_call_under_its_request_id_and_estimate(manager: LeaseManager, core: FakeCore) -> None:
    admitted = await ticket(manager)
    posted = manager.finish(admitted, outcome(input_tokens=800, output_tokens=200))
    assert posted == 800 * 150 + 200 * 600
    assert core.reports() == []  # queued, not sent on the call's path
    await manager.flush()
    (report,) = core.reports()
    assert report.lease_id == admitted.lease.id and report.close is False
    (reported,) = report.calls
    assert reported.request_id == admitted.request_id
    assert reported.estimate_nano_usd == admitted.estimate_nano == ONE_CALL
    assert reported.usage.output_tokens == 200


async def test_a_call_reporting_more_than_its_estimate_uses_only_its_estimate(
    manager: LeaseManager, core: FakeCore
) -> None:
    core.lease_calls = 2
    admitted = await ticket(manager)
    assert manager.finish(admitted, outcome(output_tokens=50_000)) == ONE_CALL
    await ticket(manager)  # the second call still fits the two-call lease
    assert len(core.sent(ACQUIRE)) == 1


async def test_reports_go_in_batches_of_at_most_500_calls(manager: LeaseManager, core: FakeCore) -> None:
    core.lease_calls = 2_000
    tickets = [await ticket(manager) for _ in range(1_200)]
    assert len(core.sent(ACQUIRE)) == 1
    for t in tickets:
        manager.finish(t, outcome())
    await flush_until_quiet(manager, core)
    sizes = [len(report.calls) for report in core.reports()]
    assert sizes == [MAX_CALLS_PER_REPORT, MAX_CALLS_PER_REPORT, 200]
    reported = core.reported_ids()
    assert sorted(reported) == sorted(t.request_id for t in tickets)  # each call once


async def test_a_retired_lease_closes_only_when_no_call_is_in_flight(
    manager: LeaseManager, core: FakeCore, clock: FakeClock
) -> None:
    first, second = await ticket(manager), await ticket(manager)
    lease_id = first.lease.id
    manager.finish(first, outcome())
    clock.now += WINDOW_S
    await flush_until_quiet(manager, core)
    assert [(len(r.calls), r.close) for r in core.reports(lease_id)] == [(1, False)]
    manager.finish(second, outcome())
    await flush_until_quiet(manager, core)
    assert [(len(r.calls), r.close) for r in core.reports(lease_id)] == [(1, False), (1, True)]
    await flush_until_quiet(manager, core)
    assert len(core.reports(lease_id)) == 2  # closed: never reported again
    assert (await ticket(manager)).lease.id != lease_id


async def test_a_retired_lease_gives_its_untaken_slots_back_before_its_calls_end(
    manager: LeaseManager, core: FakeCore, clock: FakeClock
) -> None:
    """Once a lease admits no more, the core hears it at once (`retired`), not at close: another
    edge's call refused only for this lease's untaken rate-limit slots waits for that (issue 15)."""
    open_call = await ticket(manager)
    lease_id = open_call.lease.id
    await manager.flush()
    assert [(r.retired, r.close) for r in core.reports(lease_id)] == [(False, False)]
    clock.now += WINDOW_S
    await flush_until_quiet(manager, core)
    assert [(r.retired, r.close) for r in core.reports(lease_id)] == [(False, False), (True, False)]
    manager.finish(open_call, outcome())
    await flush_until_quiet(manager, core)
    assert [(r.retired, r.close) for r in core.reports(lease_id)][2:] == [(False, True)]


async def test_a_report_the_core_could_not_take_is_sent_again(manager: LeaseManager, core: FakeCore) -> None:
    admitted = await ticket(manager)
    manager.finish(admitted, outcome())
    core.report_error = RingsideError("service_unavailable", "down")
    await manager.flush()
    core.report_error = None
    assert core.reports() == [] and len(core.sent(SETTLE)) == 1
    await flush_until_quiet(manager, core)
    assert core.reported_ids() == [admitted.request_id]


async def test_a_slow_callers_calls_share_one_report(manager: LeaseManager, core: FakeCore, clock: FakeClock) -> None:
    """At a low rate the report rounds wait for company (issue 24): a lone call's admission and its
    finish go in one report once the oldest has waited REPORT_AFTER_S, not one report each."""
    admitted = await ticket(manager)
    await manager.flush(coalesce=True)
    assert core.reports() == []  # admitted just now: it waits for the next call or REPORT_AFTER_S
    clock.now += lease_reports.REPORT_AFTER_S / 2
    manager.finish(admitted, outcome())
    await manager.flush(coalesce=True)
    assert core.reports() == []
    clock.now += lease_reports.REPORT_AFTER_S / 2 + 0.001  # the admission has now waited REPORT_AFTER_S
    await manager.flush(coalesce=True)
    (report,) = core.reports()
    assert [c.request_id for c in report.admitted] == [c.request_id for c in report.calls] == [admitted.request_id]
    # sent at most one round (and its wait for a quiet spell, answering.py) later, within the lag limit
    assert lease_reports.REPORT_AFTER_S + lease_reports.FLUSH_EVERY_S + QUIET_WAIT_LIMIT_S < leases.REPORT_LAG_LIMIT_S


async def test_a_busy_leases_report_goes_every_round(manager: LeaseManager, core: FakeCore) -> None:
    """REPORT_AT_ITEMS admissions and finished calls waiting: the round sends them at once."""
    tickets = [await ticket(manager) for _ in range(lease_reports.REPORT_AT_ITEMS // 2)]
    await manager.flush(coalesce=True)
    assert core.reports() == []
    for admitted in tickets:
        manager.finish(admitted, outcome())
    await manager.flush(coalesce=True)
    (report,) = core.reports()
    assert len(report.admitted) == len(report.calls) == len(tickets)


async def test_a_call_is_reported_admitted_before_it_finishes(manager: LeaseManager, core: FakeCore) -> None:
    """Admissions go out with the next report (issue 14): if this edge dies with the call open, the
    core posts the call at its estimate and releases the lease's other slots."""
    admitted = await ticket(manager)
    await manager.flush()
    (first,) = core.reports(admitted.lease.id)
    assert [(c.request_id, c.estimate_nano_usd, c.model_ref) for c in first.admitted] == [
        (admitted.request_id, ONE_CALL, "fc:openai/gpt-4o-mini")
    ]
    assert not first.calls and not first.close
    manager.finish(admitted, outcome())
    await flush_until_quiet(manager, core)
    later = core.reports(admitted.lease.id)[1:]
    assert core.reported_ids() == [admitted.request_id]
    assert all(not report.admitted for report in later), "an admission was reported twice"


async def test_the_keepalive_extends_the_lease_of_an_open_call_until_it_is_released(core: FakeCore) -> None:
    kept = KeepAlive(core, hold_ttl_s=900)  # type: ignore[arg-type]
    kept.keep("lse_0")
    kept.keep("lse_0")
    kept.keep("req_1")
    await kept.extend_all()
    assert sorted(r.request_id for r in core.sent(EXTEND)) == ["lse_0", "req_1"]
    kept.release("lse_0")
    kept.release("req_1")
    assert kept.kept == {"lse_0"}  # one call under the lease is still open
    kept.release("lse_0")
    assert kept.kept == frozenset()


async def test_close_reports_every_call_and_closes_every_lease(manager: LeaseManager, core: FakeCore) -> None:
    manager.start()
    tickets = [await ticket(manager, call(ref)) for ref in ("cus_1", "cus_1", "cus_2")]
    for t in tickets:
        manager.finish(t, outcome())
    await manager.close(timeout_s=DEADLINE_S)
    assert sorted(set(core.reported_ids())) == sorted(t.request_id for t in tickets)
    closed = {report.lease_id for report in core.reports() if report.close}
    assert closed == {t.lease.id for t in tickets}


async def test_close_does_not_close_a_lease_with_a_call_still_in_flight(manager: LeaseManager, core: FakeCore) -> None:
    done, running = await ticket(manager), await ticket(manager)
    manager.finish(done, outcome())
    await manager.close(timeout_s=DEADLINE_S)
    assert core.reported_ids() == [done.request_id]
    assert not any(report.close for report in core.reports())  # the running call still needs its money
    assert running.lease.in_flight == 1


async def test_calls_dropped_while_the_core_was_unreachable_are_still_paid_for(
    manager: LeaseManager, core: FakeCore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_reports, "MAX_PENDING_REPORTS", 2)
    tickets = [await ticket(manager) for _ in range(4)]
    core.report_error = RingsideError("service_unavailable", "down")
    for t in tickets:
        manager.finish(t, outcome())
        await manager.flush()
    core.report_error = None
    clock.now += WINDOW_S
    await flush_until_quiet(manager, core)
    lease_id = tickets[0].lease.id
    closed = any(report.close for report in core.reports(lease_id))
    unreported = {t.request_id for t in tickets} - set(core.reported_ids(lease_id))
    # Either the lease stays open (its expiry posts the remainder) or every call was reported.
    assert not (closed and unreported), f"lease closed with {len(unreported)} calls never reported"


async def test_a_lease_whose_reports_do_not_land_admits_no_more(
    manager: LeaseManager, core: FakeCore, clock: FakeClock
) -> None:
    """The core down (or slow): after REPORT_LAG_LIMIT_S with its admissions unreported, the lease
    takes no more calls — if this edge died then, those calls would go unbilled."""
    first = await ticket(manager)
    core.report_error = RingsideError("service_unavailable", "down")
    await manager.flush()
    clock.now += leases.REPORT_LAG_LIMIT_S / 2
    assert (await ticket(manager)).lease is first.lease  # still inside the limit
    clock.now += leases.REPORT_LAG_LIMIT_S
    assert clock.now - first.lease.granted_at < WINDOW_S  # inside its window all the same
    assert (await ticket(manager)).lease is not first.lease
    core.report_error = None
    await flush_until_quiet(manager, core)
    assert first.lease.unreported_since is None


# -- between requests (answering.py) ---------------------------------------------------------------


async def test_a_report_round_waits_for_a_quiet_spell_before_it_sends(core: FakeCore) -> None:
    """The rounds' loop asks for a quiet spell (answering.py) before each round's reports go."""
    asked = asyncio.Event()
    quiet = asyncio.Event()

    async def quiet_spell() -> None:
        asked.set()
        await quiet.wait()

    reports = lease_reports.LeaseReports(core, None, lambda lease: None, quiet=quiet_spell)  # type: ignore[arg-type]
    lease = granted(
        core.grant(metering_pb2.AcquireLeaseRequest(call=call(), calls=4)), lease_key(call()), 0.0, WINDOW_S
    )
    reports.open.add(lease)
    lease.retired = True  # due at once: its slots go back (and it closes) in the next round
    rounds = asyncio.create_task(reports.flush_forever(lambda: False))
    await asyncio.wait_for(asked.wait(), timeout=DEADLINE_S)
    assert core.reports() == []
    quiet.set()
    await eventually(core.reports)
    assert [r.lease_id for r in core.reports()] == [lease.id]
    rounds.cancel()
    with pytest.raises(asyncio.CancelledError):
        await rounds
