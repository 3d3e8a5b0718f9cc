"""The fast path on the edge: admit calls against leases, report them in batches.

A lease is a durable hold the core granted this edge for one caller (key, FC-Customer, user): a
slice of the customer's room worth a few calls. For a short window (`RINGSIDE_LEASE_WINDOW_S`, 1 s:
key revocations and blocks take effect within it) the edge admits calls against it with no round
trip, each reserving its own upper-bound estimate. Admissions and finished calls (priced here with
the same integer arithmetic as the core) are reported in batches (every FLUSH_EVERY_S). A lease
whose window has passed retires and is closed (its unused rest released) once its last call is
reported; while calls under it are open, keepalive.py extends it. If this edge dies, the lease
expires: the core posts each call reported admitted and not finished at its estimate and releases
every other slot, so a customer never pays for a call it did not make. The calls admitted and
answered in the last unreported interval are in this process's journal (journal.py), which the next
edge started on the same data directory reports: no answer waits for a report. When the room is too
small for a lease, the call goes the per-call way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from ringside.core.v1 import metering_pb2
from ringside_server.admission import call_bound, posted_nano
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.ids import new_id
from ringside_server.metering.journal import REPLAY_EVERY_S, Journal, Segment, replay_orphans
from ringside_server.money import billable_nano, cost_nano
from ringside_server.money_proto import estimate_price_from, price_from, usage_from
from ringside_server.openai.ratelimits import RateView

log = logging.getLogger("ringside.edge.leases")
LEASE_CALLS = 16
FLUSH_EVERY_S = 0.02
MAX_CALLS_PER_REPORT = 500
MAX_PENDING_REPORTS = 50_000  # per lease; past it the oldest are dropped (the lease's expiry pays for them)
CLOSE_ATTEMPTS = 20
# A lease admits no more calls once something of it has waited this long to be reported.
REPORT_LAG_LIMIT_S = 0.25
# A lease's successor is asked for once this share of its calls or money is taken (or of its window
# passed, with two calls taken), so that a steady caller's call never waits for a grant.
AHEAD_AT = 0.5
REPLAY_PASSES_AT_START = 40  # before serving, a dead process's journal is reported within these
SYNC_ROUNDS = 3  # reports a read may send for one lease (each up to MAX_CALLS_PER_REPORT calls)
# (api key, FC-Customer, user, client IP, client token): one lease per caller as the core's rate
# limit layers see it.
LeaseKey = tuple[str, str, str, str, str]


@dataclass(eq=False, slots=True)
class Lease:
    id: str
    key: LeaseKey
    account_id: str
    livemode: bool
    customer_id: str
    markup_bp: int
    default_max_output_tokens: int
    amount_nano: int
    admit_until: float
    granted_at: float
    calls: int  # request slots the core reserved for this lease
    tokens: int  # tokens its calls may take under a TPM limit (0: none applies)
    rate: RateView
    calls_taken: int = 0
    tokens_taken: int = 0
    reserved_nano: int = 0
    used_nano: int = 0
    in_flight: int = 0
    retired: bool = False
    retire_told: bool = False  # the core knows it admits no more (its unused slots given back)
    reports: list[metering_pb2.LeaseCall] = field(default_factory=list)
    admissions: list[metering_pb2.LeaseCall] = field(default_factory=list)  # not reported yet
    # the journal segment of each admission and report above (empty without a journal)
    admission_segments: list[Segment] = field(default_factory=list)
    report_segments: list[Segment] = field(default_factory=list)
    failures: int = 0
    dropped: bool = False
    reporting: asyncio.Lock = field(default_factory=asyncio.Lock)  # one report at a time
    unreported_since: float | None = None  # when the oldest admission or call not yet reported came

    def unreported(self, now: float) -> None:
        if self.unreported_since is None:
            self.unreported_since = now

    @property
    def available_nano(self) -> int:
        return self.amount_nano - self.reserved_nano - self.used_nano


@dataclass(slots=True)
class Ticket:
    """One call admitted under a lease."""

    lease: Lease
    request_id: str
    estimate_nano: int
    max_output_tokens: int
    rate: RateView | None


class LeaseManager:
    def __init__(self, core: CoreClient, instance: str, window_s: float, journal: Journal | None = None) -> None:
        self._core = core
        self._instance = instance
        self._window_s = window_s
        self.journal = journal
        self._replay: asyncio.Task[None] | None = None
        self._current: dict[LeaseKey, Lease] = {}
        self._open: set[Lease] = set()
        self._acquiring: dict[LeaseKey, asyncio.Future[Lease | metering_pb2.Denial | None]] = {}
        self._no_lease_until: dict[LeaseKey, float] = {}
        self._next: dict[LeaseKey, Lease] = {}  # granted ahead, taken over when the current one is spent
        self._ahead: set[asyncio.Task[None]] = set()  # acquisitions ahead in flight (referenced until done)
        self._ahead_keys: set[LeaseKey] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_forever(), name="lease-reports")
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

    # -- admission ---------------------------------------------------------------------------------

    async def admit(self, call: metering_pb2.AuthorizeRequest) -> Ticket | metering_pb2.Denial | None:
        """A ticket under a lease, the core's refusal, or None: authorize this call per call."""
        key: LeaseKey = (call.api_key, call.customer_ref, call.user, call.client_ip, call.client_token_id)
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
        if lease is not None:
            # Spent (or out of its window): give its rest back before anything else is decided, or
            # near a cap that rest would count against the very call being decided.
            await self._retire(lease)
        if self._no_lease_until.get(key, 0.0) > now:
            return None
        outcome = await self._acquire(key, call)
        if outcome is None or isinstance(outcome, metering_pb2.Denial):
            return outcome
        return self._take(outcome, call)

    async def _retire(self, lease: Lease) -> None:
        self._retire_later(lease)
        if lease.in_flight == 0 and lease in self._open:
            await self._report(lease)  # closes it now (its calls so far go with it)

    def _retire_later(self, lease: Lease) -> None:
        if self._current.get(lease.key) is lease:
            del self._current[lease.key]
        lease.retired = True

    def _renew_ahead(self, key: LeaseKey, lease: Lease, call: metering_pb2.AuthorizeRequest, now: float) -> None:
        """Past AHEAD_AT of `lease`, ask for its successor in the background (once)."""
        if key in self._ahead_keys or key in self._next or key in self._acquiring:
            return
        spent = (lease.reserved_nano + lease.used_nano) / lease.amount_nano if lease.amount_nano else 0.0  # 0: free
        taken = max(lease.calls_taken / lease.calls, spent)
        window = (now - lease.granted_at) / max(1e-9, lease.admit_until - lease.granted_at)
        if taken < AHEAD_AT and (window < AHEAD_AT or lease.calls_taken < 2):
            return
        self._ahead_keys.add(key)
        task = asyncio.get_running_loop().create_task(self._acquire_ahead(key, call), name="lease-ahead")
        self._ahead.add(task)
        task.add_done_callback(self._ahead.discard)

    async def _acquire_ahead(self, key: LeaseKey, call: metering_pb2.AuthorizeRequest) -> None:
        """A successor for `key`'s lease; refused or unreachable, nothing changes: the call that finds
        the lease spent asks (and waits) as before, and the core decides it then."""
        try:
            successor = await self._request_lease(key, call, ahead=True)
        except RingsideError:
            return
        finally:
            self._ahead_keys.discard(key)
        if isinstance(successor, Lease):
            if self._stopping:
                successor.retired = True  # the flusher's last rounds close it
            else:
                self._next[key] = successor

    def _take(self, lease: Lease, call: metering_pb2.AuthorizeRequest) -> Ticket | None:
        bound = call_bound(
            call.input_tokens_bound,
            call.choices,
            call.requested_output_tokens,
            lease.default_max_output_tokens,
            call.model_max_output_tokens,
            estimate_price_from(call),
            lease.markup_bp,
        )
        if bound.estimate_nano > lease.available_nano or lease.calls_taken >= lease.calls:
            return None
        now = time.monotonic()
        if lease.unreported_since is not None and now - lease.unreported_since > REPORT_LAG_LIMIT_S:
            # Its reports are not landing (the core is down or slow): admit no more under it, or an
            # edge dying now would leave more calls unbilled than one report interval's.
            return None
        if lease.tokens and lease.tokens_taken + bound.tokens > lease.tokens:
            return None
        lease.reserved_nano += bound.estimate_nano
        lease.in_flight += 1
        lease.calls_taken += 1
        lease.tokens_taken += bound.tokens
        request_id = new_id("req")
        lease.unreported(now)
        admission = metering_pb2.LeaseCall(
            request_id=request_id,
            model_ref=call.model_ref,
            provider=call.provider,
            price=call.price,
            estimate_nano_usd=bound.estimate_nano,
        )
        lease.admissions.append(admission)
        if self.journal is not None:
            lease.admission_segments.append(self.journal.write(lease.id, admitted=admission))
        return Ticket(lease, request_id, bound.estimate_nano, bound.output_tokens, self._rate_view(lease))

    @staticmethod
    def _rate_view(lease: Lease) -> RateView | None:
        """The limits left as this edge sees them: the core's count at grant (every slot of the
        lease taken) plus the slots this lease has not used yet."""
        rate = lease.rate
        if not rate.requests_limit and not rate.tokens_limit:
            return None
        elapsed_ms = int((time.monotonic() - lease.granted_at) * 1000)
        return RateView(
            rate.requests_limit,
            rate.requests_remaining + lease.calls - lease.calls_taken,
            max(0, rate.requests_reset_ms - elapsed_ms),
            rate.tokens_limit,
            rate.tokens_remaining + (lease.tokens - lease.tokens_taken if lease.tokens else 0),
            max(0, rate.tokens_reset_ms - elapsed_ms),
        )

    async def _acquire(self, key: LeaseKey, call: metering_pb2.AuthorizeRequest) -> Lease | metering_pb2.Denial | None:
        """One acquisition in flight per caller; concurrent calls wait for it."""
        pending = self._acquiring.get(key)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._acquiring[key] = pending
            try:
                pending.set_result(await self._request_lease(key, call))
            except BaseException as error:
                pending.set_exception(error)
                pending.exception()  # retrieved: waiters, if any, re-raise it
                raise
            finally:
                del self._acquiring[key]
            return pending.result()
        return await asyncio.shield(pending)

    async def _request_lease(
        self, key: LeaseKey, call: metering_pb2.AuthorizeRequest, ahead: bool = False
    ) -> Lease | metering_pb2.Denial | None:
        # The window counts from before asking: the core dates the lease's rate-limit charge from
        # when it granted it, which is later, so every call admitted here stays inside its charge.
        asked_at = time.monotonic()
        response = await self._core.internal(
            self._core.metering.AcquireLease,
            metering_pb2.AcquireLeaseRequest(call=call, calls=LEASE_CALLS, edge=self._instance),
        )
        if not response.granted:
            if ahead:
                return None  # a hint only: the call that needs a lease asks again
            if response.HasField("denial") and response.denial.code:
                return response.denial
            self._no_lease_until[key] = time.monotonic() + self._window_s
            if len(self._no_lease_until) > 100_000:
                self._no_lease_until.clear()  # bound: it is only a hint
            return None
        lease = Lease(
            id=response.lease_id,
            key=key,
            account_id=response.account_id,
            livemode=response.livemode,
            customer_id=response.customer_id,
            markup_bp=response.markup_bp,
            default_max_output_tokens=response.default_max_output_tokens,
            amount_nano=response.amount_nano_usd,
            admit_until=asked_at + min(self._window_s, response.admit_for_ms / 1000),
            granted_at=asked_at,
            calls=response.calls,
            tokens=response.tokens,
            rate=RateView.of(response.rate_limits),
        )
        self._open.add(lease)
        if ahead:
            return lease
        previous = self._current.get(key)
        if previous is not None:
            previous.retired = True
        self._current[key] = lease
        return lease

    # -- reporting ---------------------------------------------------------------------------------

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

    async def _flush_forever(self) -> None:
        while not self._stopping:
            await asyncio.sleep(FLUSH_EVERY_S)
            try:
                await self.flush()
            except Exception:
                log.exception("lease report round failed")

    async def flush(self) -> None:
        now = time.monotonic()
        for lease in self._open:
            if not lease.retired and now >= lease.admit_until:
                lease.retired = True
                if self._current.get(lease.key) is lease:
                    del self._current[lease.key]
        due = [
            lease
            for lease in self._open
            if lease.reports or lease.admissions or (lease.retired and (lease.in_flight == 0 or not lease.retire_told))
        ]
        if due:
            await asyncio.gather(*(self._report(lease) for lease in due))
        if self.journal is not None:
            self.journal.tidy()

    async def _report(self, lease: Lease) -> None:
        if lease.reporting.locked():
            return  # one report per lease at a time: two would send (and then drop) the same batch
        async with lease.reporting:
            await self._send_report(lease)

    async def sync(self) -> None:
        """Read-your-writes (DECISIONS.md 14): every call this process has answered is recorded by
        the core when this returns — the pending reports are sent now (after any report in flight),
        not at the next round. Bounded: a core that cannot be reached leaves them for the rounds."""
        pending = [lease for lease in self._open if lease.reports]
        await asyncio.gather(*(self._sync(lease) for lease in pending))

    async def _sync(self, lease: Lease) -> None:
        answered = len(lease.reports)  # reports of later calls need not wait
        for _ in range(SYNC_ROUNDS):
            async with lease.reporting:
                before = len(lease.reports)
                if not lease.reports or lease not in self._open:
                    return
                await self._send_report(lease)
                answered -= before - len(lease.reports)
                if answered <= 0 or lease.failures:
                    return

    async def _send_report(self, lease: Lease) -> None:
        batch = lease.reports[:MAX_CALLS_PER_REPORT]
        admitted = lease.admissions[:MAX_CALLS_PER_REPORT]
        finished = lease.retired and lease.in_flight == 0 and len(batch) == len(lease.reports)
        if finished and not batch and lease.dropped:
            self._open.discard(lease)  # left open in the core: it expires at its unreported remainder
            return
        close = finished and not lease.dropped
        # Retired with every admission in this report or an earlier one: its unused slots go back
        # at once (another edge's call may be waiting on them), not when its last call ends.
        retired = lease.retired and not lease.retire_told and len(admitted) == len(lease.admissions)
        request = metering_pb2.SettleLeaseCallsRequest(
            lease_id=lease.id, calls=batch, close=close, admitted=admitted, retired=retired
        )
        try:
            response = await self._core.internal(self._core.metering.SettleLeaseCalls, request)
        except RingsideError as error:
            lease.failures += 1
            if lease.failures in (1, 10, 100):
                log.warning("lease %s: report failed (%s); will retry", lease.id, error)
            return
        lease.failures = 0
        lease.retire_told = lease.retire_told or retired
        del lease.reports[: len(batch)]
        del lease.admissions[: len(admitted)]
        if self.journal is not None:
            self.journal.acknowledged(lease.report_segments[: len(batch)])
            self.journal.acknowledged(lease.admission_segments[: len(admitted)])
            del lease.report_segments[: len(batch)]
            del lease.admission_segments[: len(admitted)]
        lease.unreported_since = time.monotonic() if lease.reports or lease.admissions else None
        if response.closed and not finished:
            # Closed or expired in the core (a report for a lease a restarted core no longer holds)
            # while calls under it are still in flight: admit no more under it, but keep it until
            # they are reported — their late settles correct the expiry (API.md "Holds").
            self._retire_later(lease)
        elif response.closed or (finished and lease.dropped):
            self._open.discard(lease)

    async def close(self, timeout_s: float) -> None:
        """Stop admitting, report everything, close every lease (bounded by `timeout_s`)."""
        self._stopping = True
        if self._flusher is not None:  # let a report in flight finish: cancelling it could lose it
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        for task in list(self._ahead):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for lease in self._open:
            lease.retired = True
        self._current.clear()
        self._next.clear()
        deadline = time.monotonic() + timeout_s
        for _ in range(CLOSE_ATTEMPTS):
            if not self._open or time.monotonic() > deadline:
                break
            await self.flush()
            if self._open:
                await asyncio.sleep(0.05)
        if self._open:
            log.error("%d leases still open at shutdown; the core posts them when they expire", len(self._open))
        if self._replay is not None:
            self._replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replay
        if self.journal is not None:
            self.journal.close()
