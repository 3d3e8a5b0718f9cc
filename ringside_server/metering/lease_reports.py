"""Reporting the calls admitted under this edge's leases to the core, in batches.

Admissions and finished calls (priced here with the same integer arithmetic as the core) are
reported in rounds every FLUSH_EVERY_S, each going between two requests (answering.py: it waits up
to QUIET_WAIT_LIMIT_S for a spell with none in flight), one report per lease at a time; a lease's report goes once
REPORT_AT_ITEMS are waiting or the oldest has waited REPORT_AFTER_S, so a slow caller's calls share
a report (and a core commit) instead of taking one each. A lease whose window has passed
retires: its unused slots are given back at once, and it is closed (its unused rest released) once
its last call is reported. Each admission and finished call is also in this process's journal
(journal.py) until the core has acknowledged it, so that no answer waits for a report. A report
carries the request-log entries of its lease's calls that the request log holds (request_log.py),
recorded in the report's commit: no RecordRequests call of their own. It also carries, when due, the
lease's successor (granted after the report is recorded: no AcquireLease) and its caller's
allowed_models question (the answer cached by the gateway: no ModelPolicy).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from ringside.core.v1 import metering_pb2, requests_pb2
from ringside_server.admission import posted_nano
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.metering.journal import Journal
from ringside_server.metering.lease import Lease, Ticket
from ringside_server.metering.report_batches import Outcome, ReportSender
from ringside_server.money import billable_nano, cost_nano
from ringside_server.money_proto import price_from, usage_from
from ringside_server.request_log import RequestRecorder

log = logging.getLogger("ringside.edge.leases")
# The report interval: one report (one gRPC call, one group commit in the core) per lease per
# interval carries every call the interval saw. 20 ms made a report of ~2 calls at 100 req/s, and
# reports were most of the core's commits; a read never waits for it (`sync`), and the journal
# covers what a dying edge had not reported yet.
FLUSH_EVERY_S = 0.05
# A lease's report waits for company (issue 24, low rates): at 20 req/s a round held ~1 item, so
# each call cost one report for its admission and often another for its finish — a gRPC call and a
# core commit each. A report now goes once this many admissions and finished calls wait (a busy
# lease: every round, as before) or the oldest has waited REPORT_AFTER_S: sent at most one round
# (and its wait for a quiet spell) later, it lands well inside lease.REPORT_LAG_LIMIT_S. A read
# never waits for it (`sync`), and the journal covers what a dying edge had not reported yet.
REPORT_AT_ITEMS = 8
REPORT_AFTER_S = 0.1
MAX_CALLS_PER_REPORT = 500
# The edge's trust in an API key (edge_http/verified_keys.py): (key, asked at, valid), per report.
KeyConfirmed = Callable[[str, float, bool], None]
# A successor asked for in a report was answered: (the reporting lease, the request, the answer, when
# a report first carried it).
SuccessorAnswered = Callable[[Lease, metering_pb2.AcquireLeaseRequest, metering_pb2.AcquireLeaseResponse, float], None]


class PolicyCache(Protocol):
    """The gateway's cache of allowed_models lists (gateway.py), kept fresh for a leased caller by
    its lease's grant and reports instead of ModelPolicy calls of their own (issue 24)."""

    def policy_wanted(self, question: metering_pb2.ModelPolicyRequest, now: float) -> bool:
        """Whether a report should ask for these lists (none cached, or cached long enough ago)."""

    def policy_learned(
        self, question: metering_pb2.ModelPolicyRequest, answer: metering_pb2.ModelPolicyResponse, asked_at: float
    ) -> None:
        """The core answered `question` after `asked_at`, as ModelPolicy would have."""


MAX_PENDING_REPORTS = 50_000  # per lease; past it the oldest are dropped (the lease's expiry pays for them)
SYNC_ROUNDS = 3  # reports a read may send for one lease (each up to MAX_CALLS_PER_REPORT calls)


class LeaseReports:
    """The leases open on this edge (granted, not yet closed in the core) and their reports."""

    def __init__(
        self,
        core: CoreClient,
        journal: Journal | None,
        retire: Callable[[Lease], None],
        request_log: RequestRecorder | None = None,
        key_confirmed: KeyConfirmed | None = None,
        successor_answered: SuccessorAnswered | None = None,
        quiet: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._sender = ReportSender(core)
        self._successor_answered = successor_answered  # the manager's: a successor rides a report
        self.policies: PolicyCache | None = None  # a report asks for its caller's lists when they are due
        self._quiet = quiet  # a round waits for a spell with no request in flight (answering.py)
        self.journal = journal
        self.request_log = request_log  # its entries of a lease's calls ride the lease's report
        self.key_confirmed = key_confirmed  # a report confirms its lease's API key (no VerifyApiKey)
        self._retire = retire  # admit no more under a lease (the manager's bookkeeping)
        self.open: set[Lease] = set()
        self._soon: set[asyncio.Task[None]] = set()  # reports sent ahead of their round (referenced until done)

    def finish(self, ticket: Ticket, call: metering_pb2.LeaseCall) -> int:
        """Record a finished call for the next report; returns what it will post (nano-USD)."""
        lease = ticket.lease
        billable = billable_nano(cost_nano(usage_from(call.usage), price_from(call.price)), lease.markup_bp)
        posted = posted_nano(billable, ticket.estimate_nano)
        lease.reserved_nano -= ticket.estimate_nano
        lease.used_nano += posted
        lease.in_flight -= 1
        call.request_id = ticket.request_id
        call.estimate_nano_usd = ticket.estimate_nano
        lease.unreported(time.monotonic())
        lease.reports.append(call)
        if self.journal is not None:  # before the answer ends: an edge dying now still bills it
            lease.report_segments.append(self.journal.write(lease.id, finished=call))
        if len(lease.reports) > MAX_PENDING_REPORTS:
            dropped = lease.reports[: len(lease.reports) - MAX_PENDING_REPORTS]
            del lease.reports[: len(dropped)]
            del lease.report_segments[: len(dropped)]  # their segments are kept: a next start reports them
            lease.dropped = True  # never close it now: its expiry must pay for what was dropped
            log.error(
                "lease %s: dropped %d unreported calls (the core unreachable); its expiry pays for them",
                lease.id,
                len(dropped),
            )
        return posted

    async def flush_forever(self, stopping: Callable[[], bool]) -> None:
        while not stopping():
            await asyncio.sleep(FLUSH_EVERY_S)
            if self._quiet is not None:
                await self._quiet()
            try:
                await self.flush(coalesce=True)
            except Exception:
                log.exception("lease report round failed")

    async def flush(self, coalesce: bool = False) -> None:
        """One report round: every lease with something to report — or, with `coalesce` (the
        rounds' loop), only those whose reports are due (REPORT_AT_ITEMS, REPORT_AFTER_S)."""
        now = time.monotonic()
        for lease in self.open:
            if not lease.retired and now >= lease.admit_until:
                self._retire(lease)
        # One call per core for them all (report_batches.py): not one per lease (issue 24). A lease
        # whose report is in flight (sent ahead, or by a read's sync) waits for the next round.
        due = [lease for lease in self.open if _due(lease, now, coalesce) and not lease.reporting.locked()]
        if due:
            await self._send_all(_with_their_callers(due, self.open))
        if self.journal is not None:
            self.journal.tidy()

    async def report(self, lease: Lease) -> None:
        if lease.reporting.locked() or lease not in self.open:
            return  # one report per lease at a time: two would send (and then drop) the same batch
        async with lease.reporting:
            await self._send(lease)

    def report_soon(self, lease: Lease) -> None:
        """Send `lease`'s report now, not at its round (a successor that would come too late then)."""
        task = asyncio.get_running_loop().create_task(self.report_successor(lease), name="lease-report-soon")
        self._soon.add(task)
        task.add_done_callback(self._soon.discard)

    async def report_successor(self, lease: Lease) -> None:
        """Returns once `lease`'s successor has been asked for and answered (or its report failed): a
        report carrying it goes now — right after the report in flight, if one is and it was built
        before the successor was asked for (dropping it until the next round made a busy lease's
        successor come after the lease was spent)."""
        async with lease.reporting:
            if lease in self.open and lease.successor is not None:
                await self._send(lease)

    async def sync(self) -> None:
        """Read-your-writes (DECISIONS.md 14): every call this process has answered is recorded by
        the core when this returns — the pending reports are sent now (after any report in flight),
        not at the next round. Bounded: a core that cannot be reached leaves them for the rounds."""
        pending = [lease for lease in self.open if lease.reports]
        await asyncio.gather(*(self._sync(lease) for lease in pending))

    async def _sync(self, lease: Lease) -> None:
        answered = len(lease.reports)  # reports of later calls need not wait
        for _ in range(SYNC_ROUNDS):
            async with lease.reporting:
                before = len(lease.reports)
                if not lease.reports or lease not in self.open:
                    return
                await self._send(lease)
                answered -= before - len(lease.reports)
                if answered <= 0 or lease.failures:
                    return

    async def _send(self, lease: Lease) -> None:
        report = self._prepare(lease)
        if report is not None:
            outcome = (await self._sender.send([(lease.account_id, report.request)]))[0]
            self._answered(report, outcome)

    async def _send_all(self, leases: list[Lease]) -> None:
        """One round's reports of `leases` (each free of a report in flight), in one call per core."""
        async with contextlib.AsyncExitStack() as holding:
            for lease in leases:
                await holding.enter_async_context(lease.reporting)  # free: taken at once
            reports = [report for report in map(self._prepare, leases) if report is not None]
            if reports:
                outcomes = await self._sender.send([(report.lease.account_id, report.request) for report in reports])
                for report, outcome in zip(reports, outcomes, strict=True):
                    self._answered(report, outcome)

    def _prepare(self, lease: Lease) -> _Report | None:
        """`lease`'s report as it stands (None: nothing to send, the lease is done with)."""
        batch = lease.reports[:MAX_CALLS_PER_REPORT]
        admitted = lease.admissions[:MAX_CALLS_PER_REPORT]
        finished = lease.retired and lease.in_flight == 0 and len(batch) == len(lease.reports)
        if finished and not batch and lease.dropped:
            self.open.discard(lease)  # left open in the core: it expires at its unreported remainder
            return None
        close = finished and not lease.dropped
        # Retired with every admission in this report or an earlier one: its unused slots go back
        # at once (another edge's call may be waiting on them), not when its last call ends.
        retired = lease.retired and not lease.retire_told and len(admitted) == len(lease.admissions)
        entries = self.request_log.take(lease.id) if self.request_log is not None else []
        api_key = lease.key[0] if self.key_confirmed is not None else ""
        request = metering_pb2.SettleLeaseCallsRequest(
            lease_id=lease.id,
            calls=batch,
            close=close,
            admitted=admitted,
            retired=retired,
            entries=entries,
            confirm_api_key=api_key,
        )
        asked_at = time.monotonic()
        question = lease.policy_question
        if question is not None and self.policies is not None and self.policies.policy_wanted(question, asked_at):
            request.policy.CopyFrom(question)
        else:
            question = None
        successor = lease.successor if self._successor_answered is not None else None
        if successor is not None:
            request.successor.CopyFrom(successor)
            if lease.successor_sent_at is None:  # a resend is answered with the first one's grant
                lease.successor_sent_at = asked_at
        return _Report(lease, request, len(batch), len(admitted), finished, retired, entries, question, asked_at)

    def _answered(self, report: _Report, outcome: Outcome) -> None:
        """What the core answered `report` (or why it failed: then it goes again next round)."""
        lease, request, entries = report.lease, report.request, report.entries
        if isinstance(outcome, RingsideError):
            if self.request_log is not None:
                self.request_log.give_back(entries)  # by RecordRequests (a repeat is skipped there)
            lease.failures += 1
            if lease.failures in (1, 10, 100):
                log.warning("lease %s: report failed (%s); will retry", lease.id, outcome)
            return
        response = outcome
        lease.failures = 0
        if request.HasField("successor") and self._successor_answered is not None:
            lease.successor = None
            self._successor_answered(
                lease, request.successor, response.successor, lease.successor_sent_at or report.asked_at
            )
        if request.confirm_api_key and self.key_confirmed is not None:
            self.key_confirmed(request.confirm_api_key, report.asked_at, response.api_key_valid)
        if report.question is not None and self.policies is not None and response.HasField("policy"):
            self.policies.policy_learned(report.question, response.policy, report.asked_at)
        lease.retire_told = lease.retire_told or report.retired
        del lease.reports[: report.calls]
        del lease.admissions[: report.admitted]
        if self.journal is not None:  # acknowledged record by record: only those this report carried
            self.journal.acknowledged(lease.report_segments[: report.calls])
            self.journal.acknowledged(lease.admission_segments[: report.admitted])
            del lease.report_segments[: report.calls]
            del lease.admission_segments[: report.admitted]
        lease.unreported_since = time.monotonic() if lease.reports or lease.admissions else None
        if response.closed and not report.finished:
            # Closed or expired in the core (a report for a lease a restarted core no longer holds)
            # while calls under it are still in flight: admit no more under it, but keep it until
            # they are reported — their late settles correct the expiry (API.md "Holds").
            self._retire(lease)
        elif response.closed or (report.finished and lease.dropped):
            self.open.discard(lease)


@dataclass(slots=True)
class _Report:
    """One lease's report as sent, and what its answer acknowledges."""

    lease: Lease
    request: metering_pb2.SettleLeaseCallsRequest
    calls: int  # the first `calls` finished calls waiting
    admitted: int  # the first `admitted` admissions waiting
    finished: bool  # retired with nothing in flight: the report closes it (or drops it)
    retired: bool
    entries: list[requests_pb2.RequestEntry]
    question: metering_pb2.ModelPolicyRequest | None
    asked_at: float


def _with_their_callers(due: list[Lease], open_leases: set[Lease]) -> list[Lease]:
    """`due`, and the other leases of their callers with anything waiting: a retiring lease's close
    carries its successor's first calls, which would have gone in a call of their own a round or two
    later (measured: no fewer calls for one steady caller at 20 req/s, whose reports go by time —
    docs/performance.md, "One report call per round"). Only a due lease's caller's: every lease
    riding every round would multiply the core's report writes when many callers are slow."""
    callers = {lease.key for lease in due}
    riding = [
        lease
        for lease in open_leases
        if lease.key in callers
        and lease not in due
        and (lease.reports or lease.admissions)
        and not lease.reporting.locked()
    ]
    return due + riding


def _due(lease: Lease, now: float, coalesce: bool) -> bool:
    """Whether `lease` has a report to send this round."""
    if lease.retired and (lease.in_flight == 0 or not lease.retire_told):
        return True  # to close it, or give its untaken slots back: another edge may be waiting on them
    waiting = len(lease.reports) + len(lease.admissions)
    if not waiting:
        return False
    if not coalesce or waiting >= REPORT_AT_ITEMS:
        return True
    return lease.unreported_since is None or now - lease.unreported_since >= REPORT_AFTER_S
