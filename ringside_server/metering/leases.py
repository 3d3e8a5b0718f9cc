"""The fast path on the edge: admit calls against leases, report them in batches.

A lease (lease.py) is a durable hold the core granted this edge for one caller. For a short window
(`RINGSIDE_LEASE_WINDOW_S`, 1 s: key revocations and blocks take effect within it) the edge admits
calls against it with no round trip. Admissions and finished calls are reported in batches
(lease_reports.py). A lease whose window has passed retires and is closed (its unused rest
released) once its last call is reported; while calls under it are open, keepalive.py extends it.
If this edge dies, the lease expires: the core posts each call reported admitted and not finished at
its estimate and releases every other slot, so a customer never pays for a call it did not make.
The calls admitted and answered in the last unreported interval are in this process's journal
(journal.py), which the next edge started on the same data directory reports: no answer waits for
a report. When the room is too small for a lease, the call goes the per-call way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time

from ringside.core.v1 import metering_pb2
from ringside_server.admission import MAX_LEASE_CALLS
from ringside_server.answering import Answering
from ringside_server.core_client import CoreClient
from ringside_server.ids import new_lease_id
from ringside_server.metering.journal import REPLAY_EVERY_S, Journal, replay_orphans
from ringside_server.metering.lease import REPORT_LAG_LIMIT_S, Lease, LeaseKey, Ticket, granted, lease_key, take
from ringside_server.metering.lease_reports import (
    FLUSH_EVERY_S,
    MAX_CALLS_PER_REPORT,
    REPORT_AFTER_S,
    KeyConfirmed,
    LeaseReports,
    PolicyCache,
)
from ringside_server.request_log import RequestRecorder

__all__ = [
    "LEASE_CALLS",
    "MAX_CALLS_PER_REPORT",
    "MIN_LEASE_CALLS",
    "REPORT_LAG_LIMIT_S",
    "Lease",
    "LeaseManager",
    "Ticket",
    "calls_to_ask",
]

log = logging.getLogger("ringside.edge.leases")
LEASE_CALLS = 16  # calls asked for a caller's first lease; its next ones follow its pace
MIN_LEASE_CALLS = 4  # a slow caller's lease asks for no fewer (two renewals a window at most)
MIN_PACE_S = 0.01  # a lease's pace is measured over at least this long
# Leases a call may wait for when the calls waiting with it take each one whole before its turn;
# after that, the per-call path (a bound: never a loop on a core that grants leases of nothing).
# Streams at 200 req/s on a saturated edge queued ~250 calls behind one grant: 4-5 leases of 64.
ACQUISITIONS_PER_CALL = 6
CLOSE_ATTEMPTS = 20
# A lease's successor is asked for once this share of its money is taken, of its calls, or of its
# window passed (with two calls taken), so that a steady caller's call never waits for a grant. A
# successor's window runs from its grant, not from when it takes over, so asking early shortens
# every lease: at half (as before) a steady caller was granted a lease every half window — at
# 20 req/s ~2.2 grants a second, each a core commit and a closing report. Asked at 3/4 of the calls
# or 4/5 of the window, it still comes a quarter of the lease before it is needed (a grant is one
# round trip, ~1-5 ms), about 1.25 grants a window. Money keeps half: one call may take much of it.
# The successor is asked for with the lease's next report, not by an AcquireLease of its own (issue
# 24: a lone gRPC call costs ~1 ms of CPU on each side): the admission that asks for it waits in that
# report, so it goes within REPORT_AFTER_S and a round (lease_reports.py), well inside that quarter at
# 20 req/s (0.25 s). A lease that its caller's pace spends sooner than that (a busy one: 200 req/s
# take a 64-call lease's last quarter in 80 ms) sends that report at once.
AHEAD_AT_MONEY = 0.5
AHEAD_AT_CALLS = 0.75
AHEAD_AT_WINDOW = 0.8
# ...and, whatever those shares, once its caller's pace spends it within RENEW_AHEAD_S: a quarter of
# a lease is no margin for a busy one (issue 24 target 3: at 150-400 req/s a 64-call lease lasts
# 160-430 ms, its last quarter 40-107 ms, and a report carrying the successor through a busy core's
# commit took longer — the call that found the lease spent waited for an AcquireLease of its own,
# and every call after it for that grant: 7-14 calls of 35-135 ms each, the whole p99). That pace is
# read once the lease's first call is PACE_SEEN_S old (calls sent together are not a rate: a slow
# caller's concurrent pair would renew its lease at once). A slow caller's lease lasts its window,
# whose last fifth (AHEAD_AT_WINDOW of 1 s) this is: it is asked for no sooner.
RENEW_AHEAD_S = 0.2
PACE_SEEN_S = 0.05
# A report round finding the edge quiet since longer than this waits for the next answer to go
# right after it (bounded by answering.QUIET_WAIT_LIMIT_S). At a steady 20 req/s a round that went
# right after an answer wakes FLUSH_EVERY_S after it ended, that is just after the next answer
# plus the round's own time: within this, it keeps that step.
ROUND_FOLLOW_S = 0.01
REPLAY_PASSES_AT_START = 40  # before serving, a dead process's journal is reported within these


def _lasts_s(lease: Lease, now: float) -> float:
    """How long `lease` lasts at its caller's pace so far (at most to the end of its window)."""
    pace = lease.calls_taken / max(now - lease.granted_at, MIN_PACE_S)
    return min(lease.admit_until - now, (lease.calls - lease.calls_taken) / pace)


def _spent_soon(lease: Lease, now: float) -> bool:
    """Whether its caller's pace since its first call (seen for PACE_SEEN_S at least) takes the rest of
    `lease`'s calls within RENEW_AHEAD_S: counted from its first call, not its grant, since a successor
    granted ahead waits unused, and from then its pace would seem slower than it is."""
    if lease.first_taken_at is None or now - lease.first_taken_at < PACE_SEEN_S:
        return False
    pace = (lease.calls_taken - 1) / (now - lease.first_taken_at)
    return lease.calls - lease.calls_taken < pace * RENEW_AHEAD_S


def calls_to_ask(lease: Lease, now: float, window_s: float) -> int:
    """The calls to ask for after `lease`: as many as its caller took under it at its pace over a
    whole window, so a busy caller renews about twice a window whatever its rate, and a slow one's
    lease holds little of its caps and rate limits (within MIN_LEASE_CALLS..MAX_LEASE_CALLS)."""
    pace = lease.calls_taken / max(now - lease.granted_at, MIN_PACE_S)
    return max(MIN_LEASE_CALLS, min(MAX_LEASE_CALLS, math.ceil(pace * window_s)))


class LeaseManager:
    def __init__(
        self,
        core: CoreClient,
        instance: str,
        window_s: float,
        journal: Journal | None = None,
        request_log: RequestRecorder | None = None,
        key_confirmed: KeyConfirmed | None = None,
        answering: Answering | None = None,
    ) -> None:
        self._core = core
        # Report rounds (and the successors they carry) go between requests (answering.py).
        self._answering = answering if answering is not None else Answering()
        self._instance = instance
        self._window_s = window_s
        self.journal = journal
        self._replay: asyncio.Task[None] | None = None
        self._current: dict[LeaseKey, Lease] = {}
        self._reports = LeaseReports(
            core, journal, self._retire_later, request_log, key_confirmed, self._successor_answered, self._round_quiet
        )
        self._acquiring: dict[LeaseKey, asyncio.Future[Lease | metering_pb2.Denial | None]] = {}
        self._no_lease_until: dict[LeaseKey, float] = {}
        self._next: dict[LeaseKey, Lease] = {}  # granted ahead, taken over when the current one is spent
        self._flusher: asyncio.Task[None] | None = None
        self._stopping = False

    def use_policies(self, policies: PolicyCache) -> None:
        """The gateway's allowed_models cache: grants and reports keep a leased caller's lists in it."""
        self._reports.policies = policies

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._reports.flush_forever(self._stopped), name="lease-reports")
        if self.journal is not None:
            self._replay = asyncio.create_task(self._replay_forever(self.journal), name="lease-replay")

    async def replay_once(self, timeout_s: float) -> None:
        """Before serving: report what an edge that died on this data directory answered (bounded;
        what is left goes with the next passes)."""
        if self.journal is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._replay_until_done(self.journal), timeout_s)

    async def _replay_until_done(self, journal: Journal) -> None:
        for _ in range(REPLAY_PASSES_AT_START):
            if not await replay_orphans(journal.directory, self._core):
                return
            await asyncio.sleep(0.25)  # the core busy with that lease (or restarting): again shortly

    async def _replay_forever(self, journal: Journal) -> None:
        while not self._stopping:
            await asyncio.sleep(REPLAY_EVERY_S)
            try:
                await replay_orphans(journal.directory, self._core)
            except Exception:
                log.exception("lease journal pass failed")

    async def _round_quiet(self) -> None:
        """A report round goes right after an answer (answering.py): at once when one ended within
        ROUND_FOLLOW_S, else after the next (bounded)."""
        await self._answering.quiet(follow_s=ROUND_FOLLOW_S)

    def _stopped(self) -> bool:
        return self._stopping

    # -- admission ---------------------------------------------------------------------------------

    async def admit(
        self, call: metering_pb2.AuthorizeRequest, rounds: int = ACQUISITIONS_PER_CALL
    ) -> Ticket | metering_pb2.Denial | None:
        """A ticket under a lease, the core's refusal, or None: authorize this call per call.
        `rounds`: how many leases this call may wait for (see the end)."""
        key = lease_key(call)
        now = time.monotonic()
        lease = self._current.get(key)
        if lease is not None and now < lease.admit_until:
            ticket = self._take(lease, call)
            if ticket is not None:
                self._renew_ahead(key, lease, call, now)
                return ticket
        successor = self._next.pop(key, None)
        if successor is not None and not successor.retired and now < successor.admit_until:
            # Granted ahead: the spent lease retires in the background (the flusher closes it)
            # and this call goes on at once.
            if lease is not None:
                self._retire_later(lease)
            self._current[key] = successor
            ticket = self._take(successor, call)
            if ticket is not None:
                return ticket
            lease = successor
        if lease is not None and lease.successor is not None and rounds > 1:
            # Spent with its successor asked for and not answered yet (the core slow to commit its
            # report): that answer, not a grant of its own, which would come later still.
            await self._reports.report_successor(lease)
            if lease.successor is None:  # answered, granted or not (else the core failed: ask below)
                return await self.admit(call, rounds - 1)
        calls = LEASE_CALLS
        if lease is not None:
            # Spent (or out of its window): give its rest back before anything else is decided, or
            # near a cap that rest would count against the very call being decided.
            calls = calls_to_ask(lease, now, self._window_s)
            await self._retire(lease)
        if self._no_lease_until.get(key, 0.0) > now:
            return None
        outcome = await self._acquire(key, call, calls)
        if outcome is None or isinstance(outcome, metering_pb2.Denial):
            return outcome
        ticket = self._take(outcome, call)
        if ticket is None and outcome.calls_taken and rounds > 1:
            # The calls that waited for this lease with this one took it whole (a burst, or a grant
            # slower than the lease it follows): one more lease for the rest, rather than an
            # Authorize and a Settle each (two round trips and two commits a call: at 200 req/s on a
            # loaded machine 1-70 % of the calls went that way, docs/performance.md). Near a cap
            # the core refuses that lease and the call goes per call, as before.
            return await self.admit(call, rounds - 1)
        return ticket

    async def _retire(self, lease: Lease) -> None:
        self._retire_later(lease)
        if lease.in_flight == 0 and lease in self._reports.open:
            await self._reports.report(lease)  # closes it now (its calls so far go with it)

    def _retire_later(self, lease: Lease) -> None:
        if self._current.get(lease.key) is lease:
            del self._current[lease.key]
        lease.retired = True

    def _renew_ahead(self, key: LeaseKey, lease: Lease, call: metering_pb2.AuthorizeRequest, now: float) -> None:
        """Past AHEAD_AT_* of `lease`, or RENEW_AHEAD_S before its caller's pace spends it, ask for its
        successor (once) with the lease's next report — at once when that pace spends it before that
        report's round."""
        if lease.successor_asked or key in self._next or key in self._acquiring:
            return
        if (
            lease.money_share() < AHEAD_AT_MONEY
            and lease.calls_share() < AHEAD_AT_CALLS
            and lease.window_share(now) < AHEAD_AT_WINDOW
            and not _spent_soon(lease, now)
        ):
            return
        lease.successor_asked = True
        calls = calls_to_ask(lease, now, self._window_s)
        # The lease id is chosen now: a report sent again asks again under it (the same grant).
        lease.successor = metering_pb2.AcquireLeaseRequest(
            call=call, calls=calls, edge=self._instance, lease_id=new_lease_id()
        )
        if _lasts_s(lease, now) < REPORT_AFTER_S + FLUSH_EVERY_S:
            self._reports.report_soon(lease)  # a busy lease: its next round could bring it too late

    def _successor_answered(
        self,
        lease: Lease,
        request: metering_pb2.AcquireLeaseRequest,
        response: metering_pb2.AcquireLeaseResponse,
        asked_at: float,
    ) -> None:
        """`lease`'s report carried its successor's request and the core answered it; refused (or
        not decided), nothing changes: the call that finds the lease spent asks (and waits) as before."""
        if not response.granted:
            return
        successor = self._granted(lease.key, request.call, response, asked_at)
        if self._stopping or lease.key in self._next:
            successor.retired = True  # the flusher's rounds close it
        else:
            self._next[lease.key] = successor

    def _take(self, lease: Lease, call: metering_pb2.AuthorizeRequest) -> Ticket | None:
        taken = take(lease, call)
        if taken is None:
            return None
        ticket, admission = taken
        if self.journal is not None:  # before the call goes upstream: an edge dying now still reports it
            lease.admission_segments.append(self.journal.write(lease.id, admitted=admission))
        return ticket

    async def _acquire(
        self, key: LeaseKey, call: metering_pb2.AuthorizeRequest, calls: int
    ) -> Lease | metering_pb2.Denial | None:
        """One acquisition in flight per caller; concurrent calls wait for it."""
        pending = self._acquiring.get(key)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._acquiring[key] = pending
            try:
                pending.set_result(await self._request_lease(key, call, calls))
            except BaseException as error:
                pending.set_exception(error)
                pending.exception()  # retrieved: waiters, if any, re-raise it
                raise
            finally:
                del self._acquiring[key]
            return pending.result()
        return await asyncio.shield(pending)

    async def _request_lease(
        self, key: LeaseKey, call: metering_pb2.AuthorizeRequest, calls: int
    ) -> Lease | metering_pb2.Denial | None:
        asked_at = time.monotonic()
        response = await self._core.internal(
            self._core.metering.AcquireLease,
            # The lease's id is chosen here: a request cut off in flight (its core died) is sent
            # again under it and answered with the lease granted, never a second one.
            metering_pb2.AcquireLeaseRequest(call=call, calls=calls, edge=self._instance, lease_id=new_lease_id()),
        )
        if not response.granted:
            if response.HasField("denial") and response.denial.code:
                return response.denial
            self._no_lease_until[key] = time.monotonic() + self._window_s
            if len(self._no_lease_until) > 100_000:
                self._no_lease_until.clear()  # bound: it is only a hint
            return None
        lease = self._granted(key, call, response, asked_at)
        previous = self._current.get(key)
        if previous is not None:
            previous.retired = True
        self._current[key] = lease
        return lease

    def _granted(
        self,
        key: LeaseKey,
        call: metering_pb2.AuthorizeRequest,
        response: metering_pb2.AcquireLeaseResponse,
        asked_at: float,
    ) -> Lease:
        """The lease `response` granted, open until closed; its caller's lists go to the policy cache."""
        lease = granted(response, key, asked_at, self._window_s)
        lease.policy_question = metering_pb2.ModelPolicyRequest(
            api_key=call.api_key,
            client_token=call.client_token,
            customer_ref=call.customer_ref,
            user=call.user,
            key_id=call.key_id,
        )
        self._reports.open.add(lease)
        policies = self._reports.policies
        if policies is not None and response.HasField("policy"):
            policies.policy_learned(lease.policy_question, response.policy, asked_at)
        return lease

    # -- reporting (lease_reports.py) ---------------------------------------------------------------

    def finish(self, ticket: Ticket, call: metering_pb2.LeaseCall) -> int:
        """Record a finished call for the next report; returns what it will post (nano-USD)."""
        return self._reports.finish(ticket, call)

    async def flush(self, coalesce: bool = False) -> None:
        """One report round: every lease with something to report (with `coalesce`, as the rounds'
        loop does: only the reports that are due; see LeaseReports.flush)."""
        await self._reports.flush(coalesce)

    async def sync(self) -> None:
        """Read-your-writes (DECISIONS.md 14): the calls this process has answered are recorded by
        the core when this returns (bounded; see LeaseReports.sync)."""
        await self._reports.sync()

    async def close(self, timeout_s: float) -> None:
        """Stop admitting, report everything, close every lease (bounded by `timeout_s`)."""
        self._stopping = True
        if self._flusher is not None:  # let a report in flight finish: cancelling it could lose it
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        for lease in self._reports.open:
            lease.retired = True
        self._current.clear()
        self._next.clear()
        deadline = time.monotonic() + timeout_s
        for _ in range(CLOSE_ATTEMPTS):
            if not self._reports.open or time.monotonic() > deadline:
                break
            await self.flush()
            if self._reports.open:
                await asyncio.sleep(0.05)
        if self._reports.open:
            log.error("%d leases still open at shutdown; the core posts them when they expire", len(self._reports.open))
        if self._replay is not None:
            self._replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replay
        if self.journal is not None:
            self.journal.close()
