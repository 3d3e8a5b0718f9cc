"""The callers' side of the request log (the edge's calls, the worker's batch lines): each finished
model call (served, failed upstream, or refused for budget, wallet, block, allowed models or a rate
limit) becomes one entry, sent to the core in batches off the request path. A read of /v1/requests
on an edge first sends what that edge has pending, so a call then a read sees the call.

The entry of a call admitted under a lease rides that lease's next report (issue 24: at 20 req/s a
RecordRequests call of its own was ~0.1 gRPC call and commit a request); what no report took within
HOLD_S goes by RecordRequests, with the other entries, so that no entry waits longer than
FLUSH_EVERY_S.

A batch a core did not answer — its call cut off (the core stopped or died under it: CANCELLED,
UNAVAILABLE), past its deadline, or answered 503 — is kept and sent again after RETRY_PAUSES_S
(RecordRequests skips an entry already recorded, so one the core did record before its answer was
lost is not recorded twice): a core's clean stop or a hand-back loses no entry. Bounded: the kept
entries count in PENDING_MAX, and a batch still unanswered after the last pause is dropped, counted
(`dropped`, the edge's `ringside_request_log_dropped_total`) and logged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ringside.core.v1 import requests_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError

log = logging.getLogger("ringside.edge.requests")
FLUSH_EVERY_S = 0.5  # the longest an entry waits to be sent
# Every HOLD_S the entries that have waited that long are sent — once the oldest entry of a call not
# on a lease has, every such entry with them (a steady stream of them: a call every FLUSH_EVERY_S, as
# before); an entry of a leased call younger than that is left for its lease's report.
HOLD_S = FLUSH_EVERY_S / 2
BATCH_MAX = 1000
PENDING_MAX = 50_000  # beyond this (a core away for long) new entries are dropped, and counted
# The pauses before each resend of a batch no core answered (a cut-off call, a deadline, a 503): a
# partition's hand-back or a core's restart is over within them (~1 min in all); a batch still
# unanswered after the last is dropped, and counted.
RETRY_PAUSES_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
UNANSWERED = "service_unavailable"  # what a cut-off call, a deadline or a core's 503 becomes (translate)
# Refusals that are listed (API.md "Usage"): the caller was known and the request valid.
LISTED_REFUSALS = frozenset(
    {
        "customer_budget_exceeded",
        "customer_wallet_empty",
        "wallet_empty",
        "customer_blocked",
        "model_not_allowed",
        "ip_rate_limit_exceeded",
        "client_token_rate_limit_exceeded",
        "account_rate_limit_exceeded",
        "customer_rate_limit_exceeded",
    }
)


@dataclass(slots=True)
class _Kept:
    """A batch no core answered, to send again at `due` (its `attempts`-th resend)."""

    entries: list[requests_pb2.RequestEntry]
    attempts: int
    due: float


class RequestRecorder:
    def __init__(self, core: CoreClient, on_drop: Callable[[str, int], None] | None = None) -> None:
        self.core = core
        self._on_drop = on_drop  # (reason, entries): the edge's metric
        self.pending: list[requests_pb2.RequestEntry] = []  # calls not on a lease
        self._pending_since: float | None = None  # when the oldest of them came
        # by lease id: (when it came, the entry) of calls admitted under it, for its next report
        self._leased: dict[str, list[tuple[float, requests_pb2.RequestEntry]]] = {}
        self._kept: list[_Kept] = []  # batches no core answered, to send again
        self._count = 0
        self.dropped = 0
        self._sending = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def add(self, entry: requests_pb2.RequestEntry, lease_id: str = "") -> None:
        """An entry to send: with its lease's next report when `lease_id` (the lease it was
        admitted under) is given and one goes within HOLD_S, else by RecordRequests."""
        if self._count >= PENDING_MAX:
            self._dropped("full", 1)
            return
        self._count += 1
        if lease_id:
            self._leased.setdefault(lease_id, []).append((time.monotonic(), entry))
            return
        if not self.pending:
            self._pending_since = time.monotonic()
        self.pending.append(entry)

    def take(self, lease_id: str) -> list[requests_pb2.RequestEntry]:
        """The entries of `lease_id`'s calls, for the report about to go (at most BATCH_MAX)."""
        waiting = self._leased.get(lease_id)
        if not waiting:
            return []
        taken, rest = waiting[:BATCH_MAX], waiting[BATCH_MAX:]
        if rest:
            self._leased[lease_id] = rest
        else:
            del self._leased[lease_id]
        self._count -= len(taken)
        return [entry for _, entry in taken]

    def give_back(self, entries: list[requests_pb2.RequestEntry]) -> None:
        """Entries a report took and could not send: they go by RecordRequests at the next send."""
        if not entries:
            return
        if not self.pending:
            self._pending_since = time.monotonic() - HOLD_S  # due: they have waited already
        self.pending.extend(entries)
        self._count += len(entries)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(HOLD_S)
            await self.flush(due_only=True)

    def _due(self, everything: bool) -> list[requests_pb2.RequestEntry]:
        """Take what is to be sent now: everything, or what has waited HOLD_S (with, then, every
        entry not on a lease)."""
        now = time.monotonic()
        due: list[requests_pb2.RequestEntry] = []
        for lease_id, waiting in list(self._leased.items()):
            if everything:
                aged = len(waiting)
            else:
                aged = 0
                while aged < len(waiting) and now - waiting[aged][0] >= HOLD_S:
                    aged += 1
            if aged:
                due.extend(entry for _, entry in waiting[:aged])
                if aged == len(waiting):
                    del self._leased[lease_id]
                else:
                    del waiting[:aged]
        if everything or due or (self._pending_since is not None and now - self._pending_since >= HOLD_S):
            due.extend(self.pending)
            self.pending, self._pending_since = [], None
        self._count -= len(due)
        return due

    def _kept_due(self, everything: bool) -> list[_Kept]:
        """Take the kept batches whose pause is over (all of them: `everything`)."""
        now = time.monotonic()
        due = [kept for kept in self._kept if everything or kept.due <= now]
        if due:
            self._kept = [kept for kept in self._kept if not (everything or kept.due <= now)]
            self._count -= sum(len(kept.entries) for kept in due)
        return due

    def _keep(self, entries: list[requests_pb2.RequestEntry], attempts: int, pause: bool = True) -> None:
        """Keep a batch no core answered for its `attempts`-th resend, or drop it past the last."""
        if not entries:
            return
        if attempts > len(RETRY_PAUSES_S):
            log.warning("%d request log entries dropped: no core answered %d attempts", len(entries), attempts)
            self._dropped("unanswered", len(entries))
            return
        pause_s = RETRY_PAUSES_S[attempts - 1] if pause and attempts else 0.0
        self._kept.append(_Kept(entries, attempts, time.monotonic() + pause_s))
        self._count += len(entries)

    def _dropped(self, reason: str, count: int) -> None:
        self.dropped += count
        if self._on_drop is not None:
            self._on_drop(reason, count)

    async def flush(self, due_only: bool = False) -> None:
        """Send every pending entry — with `due_only` (the timed loop), those that have waited
        HOLD_S (see `_due`) and the kept batches whose pause is over — after any send in flight. A
        batch no core answered is kept for a resend (`_keep`); one a core refused is logged and
        dropped: the log is for people looking back, never for money."""
        async with self._sending:
            # What is pending now, not what comes in while it is sent: chasing those sent a batch
            # of one or two entries (a gRPC call and a group commit each) after every full one.
            pending = self._due(everything=not due_only)
            work = [(pending[at : at + BATCH_MAX], 0) for at in range(0, len(pending), BATCH_MAX)]
            work += [(kept.entries, kept.attempts) for kept in self._kept_due(everything=not due_only)]
            for at, (entries, attempts) in enumerate(work):
                try:
                    unanswered = await self._send(entries)
                except BaseException:  # cancelled (at shutdown): the rest goes with the last flush
                    self._keep(entries, attempts + 1, pause=False)  # maybe recorded: an attempt
                    for rest, its_attempts in work[at + 1 :]:
                        self._keep(rest, its_attempts, pause=False)
                    raise
                self._keep(unanswered, attempts + 1)

    async def _send(self, batch: list[requests_pb2.RequestEntry]) -> list[requests_pb2.RequestEntry]:
        """One call, or with several active cores (the channel has learnt owners) one per caller,
        each routed to its account's core. → the entries no core answered (to send again)."""
        method = self.core.requests.RecordRequests
        groups: dict[str, list[requests_pb2.RequestEntry]] = {}
        if self.core.channel.owners:
            for entry in batch:
                caller = f"Bearer {entry.api_key}" if entry.api_key else f"Client {entry.client_token}"
                groups.setdefault(caller, []).append(entry)
        unanswered: list[requests_pb2.RequestEntry] = []
        for caller, entries in groups.items() or [("", batch)]:
            try:
                request = requests_pb2.RecordRequestsRequest(entries=entries)
                if caller:
                    await self.core.internal_for(method, request, caller)
                else:
                    await self.core.internal(method, request)
            except RingsideError as error:
                if error.code == UNANSWERED:
                    unanswered.extend(entries)
                else:
                    log.warning("%d request log entries not recorded: %s", len(entries), error.code)
                    self._dropped("refused", len(entries))
        return unanswered

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), 5.0)
        if self._count:  # the last flush could not send them: nothing sends them after this
            log.warning("%d request log entries dropped at shutdown: not sent", self._count)
            self._dropped("shutdown", self._count)
            self._count = 0
