"""The callers' side of the request log (the edge's calls, the worker's batch lines): each finished
model call (served, failed upstream, or refused for budget, wallet, block, allowed models or a rate
limit) becomes one entry, sent to the core in batches off the request path. A read of /v1/requests
on an edge first sends what that edge has pending, so a call then a read sees the call."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ringside.core.v1 import requests_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError

log = logging.getLogger("ringside.edge.requests")
FLUSH_EVERY_S = 0.5
BATCH_MAX = 1000
PENDING_MAX = 50_000  # beyond this (a core away for long) new entries are dropped, and counted
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


class RequestRecorder:
    def __init__(self, core: CoreClient) -> None:
        self.core = core
        self.pending: list[requests_pb2.RequestEntry] = []
        self.dropped = 0
        self._sending = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def add(self, entry: requests_pb2.RequestEntry) -> None:
        if len(self.pending) >= PENDING_MAX:
            self.dropped += 1
            return
        self.pending.append(entry)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            await self.flush()

    async def flush(self) -> None:
        """Send every pending entry (after any send in flight); a failed batch is logged and dropped:
        the log is for people looking back, never for money."""
        async with self._sending:
            # What is pending now, not what comes in while it is sent: chasing those sent a batch
            # of one or two entries (a gRPC call and a group commit each) after every full one.
            pending, self.pending = self.pending, []
            taken = 0
            try:
                while taken < len(pending):
                    batch = pending[taken : taken + BATCH_MAX]
                    taken += len(batch)
                    await self._send(batch)
            finally:
                self.pending[:0] = pending[taken:]  # cancelled (at shutdown): the rest goes with the last flush

    async def _send(self, batch: list[requests_pb2.RequestEntry]) -> None:
        """One call, or with several active cores (the channel has learnt owners) one per caller,
        each routed to its account's core."""
        method = self.core.requests.RecordRequests
        groups: dict[str, list[requests_pb2.RequestEntry]] = {}
        if self.core.channel.owners:
            for entry in batch:
                caller = f"Bearer {entry.api_key}" if entry.api_key else f"Client {entry.client_token}"
                groups.setdefault(caller, []).append(entry)
        for caller, entries in groups.items() or [("", batch)]:
            try:
                request = requests_pb2.RecordRequestsRequest(entries=entries)
                if caller:
                    await self.core.internal_for(method, request, caller)
                else:
                    await self.core.internal(method, request)
            except RingsideError as error:
                log.warning("%d request log entries not recorded: %s", len(entries), error.code)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), 5.0)
