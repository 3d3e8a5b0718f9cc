"""Routing each call to the core that owns its account's partition (issue 25; the core's side is
core/services/ownership.py, the rule docs/scaling.md "Partitions over active cores").

The client's stubs are built on a `RoutingChannel`, so every RPC (the edge's, the workers', the
rag role's) goes through one place. A call's routing key is, in order: its `x-ringside-account`
metadata; the account learnt for its `authorization` (from an earlier "not owner" answer, kept by
a hash of the header, never the secret); the account of the hold or lease it names
(`request_id`/`lease_id`, learnt from the Authorize and AcquireLease answers that created them,
once the channel has seen a "not owner" answer: before, there is one core and nothing to learn).
The account's partition gives the owner's address from the partition map (learnt from "not owner"
answers); a call with no routing key goes to the owner of the system partition once known, else
to the configured addresses. A "not owner" answer (FAILED_PRECONDITION with the owner's address in
trailing metadata) updates the map and the call is sent again, to that owner — at once, then with a
short backoff while a partition changes hands (`resend_pauses`, up to `RESEND_BUDGET_S`: a takeover
after a core's death); so is a call that never reached a core (no address connected). A call cut off
in flight (its core died or froze under it) is sent again only when its method is safe to repeat
(`safe_to_resend`: read-only, or idempotent by an id its caller chose), never a write a core may have
done. With one active core (`RINGSIDE_CORE_SHARE=all`) no core ever answers so, and every call takes
the configured channel as before."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import grpc

from ringside_server.partitions import partition_of

ACCOUNT_KEY = "x-ringside-account"
NOT_OWNER_ACCOUNT_KEY = "ringside-not-owner-account"
NOT_OWNER_PARTITION_KEY = "ringside-not-owner-partition"
OWNER_ADDRESS_KEY = "ringside-owner-address"
CODE_KEY = "ringside-error-code"  # a core's own error (core/rpc/errors.py)
# A SettleLeaseReports result for a lease another core owns (core/rpc/metering.py answers it,
# ringside_server/metering/report_batches.py sends that report again alone, routed to the owner).
NOT_OWNER_CODE = "not_owner"
SYSTEM_PARTITION = 0
MAX_LEARNT = 100_000  # accounts by authorization, and holds/leases by id (oldest dropped first)
# The pauses before each resend of a call no core acted on (`RoutingChannel.resend_to`): the first at
# once (to the owner a "not owner" answer named), then backing off while a partition changes hands —
# the giver names the taker the moment it stops serving, the taker claims it within its 0.1 s poll
# and answers "not owner" naming itself while it loads. Nine resends at most, 2.55 s of pauses in
# all (less than the default lease TTL, 5 s, and never past the call's own deadline), none longer
# than 0.5 s: a call is answered at most 0.5 s after its owner serves.
RESEND_PAUSES_S = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5)
# After those, resends go on every 0.5 s while the pauses add up to at most this (and never past the
# call's deadline, the edge's 10 s by default): a dead core's partitions are taken over once its lease
# lapses (RINGSIDE_CORE_LEASE_TTL_S, 5 s by default) and the taker has loaded them — ≤ 10 s is the
# target — and a call meanwhile waits for the taker instead of failing (before: 2.55 s, then 503).
RESEND_BUDGET_S = 10.0
RESEND_STEADY_S = 0.5

# Methods a core may be asked twice without harm when a call was cut off in flight (the core may have
# done it: died or froze before answering). Read-only ones, and writes idempotent by an id the caller
# chose, durable with the write (a taker that adopts the partition sees the same row):
# - Settle: by the hold's request id (a second one is answered `replayed`, posts nothing);
# - ExtendHold: sets the hold's expiry to now + TTL (twice is once);
# - SettleLeaseCalls: by each call's request id (a reported call is not recorded again; the edge's
#   lease journal resends its reports anyway), and the successor lease a report asks for by its
#   `lease_id` (the core grants none without one);
# - SettleLeaseReports: several leases' reports, each idempotent as SettleLeaseCalls is;
# - Authorize: by `request_id`, when the caller chose one (the edge always does): a resend is
#   answered with the hold it made, never a second reserve (`safe_to_resend`);
# - AcquireLease: by `lease_id`, when the caller chose one (the edge always does): a resend is
#   answered with the lease it granted, never a second one;
# - CountRequest: by `request_id` (the edge's): the core that counted it answers a resend with its
#   first answer; a taker after its death never saw the count (core/domain/recent_counts.py);
# - TopUp, Adjust, Refund (a wallet's): by `transaction_id` (`refund_id`), when the caller chose
#   one (the edge always does): a resend is answered with the movement the first made, nothing
#   moved twice;
# - TopUpAccountBalance (the operator's): by `transfer_id`, when the caller chose one (the edge
#   always does): a resend is answered with the transfer the first made, nothing credited twice;
# - RecordRequests: by each entry's request id (the request log's primary key: an entry already
#   recorded is skipped, the rest of the batch recorded — core/services/requests.py).
# - FinishIdempotent (the first stored response stands), AbortIdempotent (drops a claim): a
#   FinishIdempotent lost after the request's write left its key unstored, and the client's retry
#   under that key ran the write again;
# - StartBatch, ReportBatchProgress, FinishBatch (by the batch's state: started from `validating`
#   only, counts never lowered, the outcome recorded once), MarkOutboxRelayed (sets `relayed_at`),
#   ClaimOutbox (reads the unrelayed entries, writes nothing), FinishIngest and FinishMigration
#   (an outcome recorded once), ProgressMigration (absolute counts), ReportIngestProgress (a mark
#   in memory): a worker's activity is retried by Temporal anyway; resent, it is not failed for a
#   hand-back.
# Never resent: every other write (wallet top-ups and adjustments, object and customer writes, the
# workers' progress and claims…) — its caller sees the failure as before.
_IDEMPOTENT = frozenset(
    {
        "Settle",
        "ExtendHold",
        "SettleLeaseCalls",
        "SettleLeaseReports",
        "RecordRequests",
        "FinishIdempotent",
        "AbortIdempotent",
        "StartBatch",
        "ReportBatchProgress",
        "FinishBatch",
        "MarkOutboxRelayed",
        "ClaimOutbox",
        "FinishIngest",
        "FinishMigration",
        "ProgressMigration",
        "ReportIngestProgress",
    }
)
_READ_ONLY = frozenset(
    {
        "VerifyApiKey",
        "ModelPolicy",
        "ResolveSlot",
        "GetStatus",
        "VerifyLedger",
        "PendingBatches",
        "PendingIngests",
        "PendingMigrations",
        "PendingRuns",
        "IndexedStores",
        "LiveRagObjects",
        "PlanStripeSync",
    }
)


# A call cut off without an answer of the core's: the connection lost (UNAVAILABLE), or the call
# cancelled by a stopping core — grpc answers CANCELLED to a call it received but had not handed to
# a handler yet when its server stops (grpc/grpc#41785; seen once in a hand-back test as a 500),
# and to one still running when the drain's grace ends. Either may have been acted on.
CUT_OFF = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED})


def safe_to_resend(method: str, request: Any) -> bool:
    """Whether a call of `method` ("/package.Service/Name") cut off in flight may be sent again."""
    name = method.rsplit("/", 1)[-1]
    if name == "Authorize":
        return bool(getattr(request, "request_id", ""))
    if name == "AcquireLease":
        return bool(getattr(request, "lease_id", ""))
    if name == "CountRequest":
        return bool(getattr(request, "request_id", ""))
    if name in ("TopUp", "Adjust"):
        return bool(getattr(request, "transaction_id", ""))
    if name == "Refund":
        return bool(getattr(request, "refund_id", ""))
    if name == "TopUpAccountBalance":
        return bool(getattr(request, "transfer_id", ""))
    if name in _IDEMPOTENT or name in _READ_ONLY:
        return True
    return name.startswith(("Get", "List")) and name != "GetDeliveryTarget"


def resend_pauses(budget_s: float = RESEND_BUDGET_S) -> Iterator[float]:
    """The pauses before each resend: `RESEND_PAUSES_S`, then `RESEND_STEADY_S` each, while their
    sum stays within `budget_s`."""
    spent = 0.0
    for pause_s in RESEND_PAUSES_S:
        if spent + pause_s > budget_s + 1e-9:
            return
        spent += pause_s
        yield pause_s
    while spent + RESEND_STEADY_S <= budget_s + 1e-9:
        spent += RESEND_STEADY_S
        yield RESEND_STEADY_S


class _Bounded(OrderedDict[str, str]):
    def remember(self, key: str, value: str) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > MAX_LEARNT:
            self.popitem(last=False)


def _header(metadata: Sequence[tuple[str, Any]] | None, name: str) -> str:
    for key, value in metadata or ():
        if key == name and isinstance(value, str):
            return value
    return ""


def _trailing(error: grpc.aio.AioRpcError) -> dict[str, str]:
    metadata: Any = error.trailing_metadata() or ()
    return {str(k): v for k, v in metadata if isinstance(v, str)}


def _not_owner(error: grpc.aio.AioRpcError) -> tuple[str, int, str] | None:
    """(account, partition, owner address) of a "not owner" answer, or None."""
    if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
        return None
    trailing = _trailing(error)
    if NOT_OWNER_PARTITION_KEY not in trailing:
        return None
    try:
        partition = int(trailing[NOT_OWNER_PARTITION_KEY])
    except ValueError:
        return None
    return trailing.get(NOT_OWNER_ACCOUNT_KEY, ""), partition, trailing.get(OWNER_ADDRESS_KEY, "")


class RoutingChannel:
    """Stands in for a grpc.aio.Channel under the generated stubs (unary-unary methods only, which
    is every method of the core's services)."""

    def __init__(
        self, address: str, options: list[tuple[str, Any]], partitions: int, resend_budget_s: float = RESEND_BUDGET_S
    ) -> None:
        self._options = options
        self.resend_budget_s = resend_budget_s
        self.default = grpc.aio.insecure_channel(address, options=options)
        self.partitions = partitions
        self._channels: dict[str, grpc.aio.Channel] = {}
        self.owners: dict[int, str] = {}  # partition → owner's address (the partition map)
        self._accounts = _Bounded()  # sha256(authorization) → account id
        self._holds = _Bounded()  # hold or lease id → account id
        self._callables: dict[tuple[int, str], Callable[..., Any]] = {}

    def unary_unary(
        self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **_: Any
    ) -> _Routed:
        return _Routed(self, method, request_serializer, response_deserializer)

    def _channel(self, address: str) -> grpc.aio.Channel:
        if not address:
            return self.default
        channel = self._channels.get(address)
        if channel is None:
            channel = self._channels[address] = grpc.aio.insecure_channel(address, options=self._options)
        return channel

    def callable(
        self, channel: grpc.aio.Channel, method: str, serializer: Any, deserializer: Any
    ) -> Callable[..., Any]:
        key = (id(channel), method)
        found = self._callables.get(key)
        if found is None:
            found = self._callables[key] = channel.unary_unary(
                method, request_serializer=serializer, response_deserializer=deserializer
            )
        return found

    def account_of(self, request: Any, metadata: Sequence[tuple[str, Any]] | None) -> str:
        account = _header(metadata, ACCOUNT_KEY)
        if account:
            return account
        credential = _credential(request, metadata)
        if credential:
            account = self._accounts.get(credential, "")
            if account:
                return account
        for field in ("request_id", "lease_id"):
            hold_id = getattr(request, field, "")
            if isinstance(hold_id, str) and hold_id:
                return self._holds.get(hold_id, "")
        return ""

    def target(self, account: str) -> grpc.aio.Channel:
        return self._channel(self.owner_address(account))

    def owner_address(self, account: str) -> str:
        """The learnt owner of `account`'s partition ("": not known, the configured addresses)."""
        partition = partition_of(account, self.partitions) if account else SYSTEM_PARTITION
        return self.owners.get(partition, "")

    def learn_answer(self, request: Any, metadata: Any, response: Any) -> None:
        """A hold or lease created for an account: later calls naming it, or made with the same
        credential, go to that account's owner."""
        if not self.owners:  # one core (or none seen another's): nothing to route by
            return
        account = getattr(response, "account_id", "")
        if not isinstance(account, str) or not account:
            return
        for field in ("request_id", "lease_id"):  # an Authorize or AcquireLease answer
            hold_id = getattr(response, field, "")
            if isinstance(hold_id, str) and hold_id:
                self._holds.remember(hold_id, account)
                credential = _credential(request, metadata)
                if credential:
                    self._accounts.remember(credential, account)

    def learn_not_owner(self, account: str, partition: int, address: str, request: Any, metadata: Any) -> None:
        if address:
            self.owners[partition] = address
        credential = _credential(request, metadata)
        if account and credential:
            self._accounts.remember(credential, account)

    def resend_to(
        self, error: grpc.aio.AioRpcError, channel: grpc.aio.Channel, request: Any, metadata: Any, method: str = ""
    ) -> grpc.aio.Channel | None:
        """Where to send a failed call again, or None when it must not be: a call no core acted on —
        one answered "not owner" (the core checks ownership before it reads or writes anything; a
        fenced commit rolled back whole) or one a learnt owner never received (its channel could not
        connect: that core stopping or dead), then through the configured addresses — and a call cut
        off in flight (the core may have done it) whose method is safe to repeat (`safe_to_resend`),
        once several cores are seen, through the configured addresses too. A call refused by a core
        for another reason, a cut-off write that is not idempotent, or a call finding no configured
        core at all is never sent again: with one core down, the caller's 503 comes at once."""
        hint = _not_owner(error)
        if hint is not None:
            account, partition, address = hint
            self.learn_not_owner(account, partition, address, request, metadata)
            return self._channel(address)  # the owner named (maybe this one, still loading it)
        if error.code() not in CUT_OFF or _trailing(error).get(CODE_KEY):
            return None  # not a transport failure (a core's own 503 is its answer)
        never_sent = _never_sent(error)
        if not never_sent and not (self.owners and safe_to_resend(method, request)):
            return None  # cut off in flight: the core may have done it (or one core: its 503 at once)
        if channel is self.default:
            # No configured core reachable: nothing to wait for here (one core, down). A cut-off
            # call goes there again: another configured core answers, or names the new owner.
            return None if never_sent else self.default
        self.forget_address(channel)  # a learnt owner gone: later calls through the configured list
        return self.default

    def forget_address(self, channel: grpc.aio.Channel) -> None:
        """An owner that does not answer (dead, its partitions being taken over): back to the
        configured addresses for its partitions until a "not owner" answer names the new owner."""
        for partition in [p for p, address in self.owners.items() if self._channels.get(address) is channel]:
            del self.owners[partition]

    async def close(self, grace: float | None = None) -> None:
        for channel in [self.default, *self._channels.values()]:
            await channel.close(grace=grace)


class _Routed:
    __slots__ = ("_deserializer", "_method", "_router", "_serializer")

    def __init__(self, router: RoutingChannel, method: str, serializer: Any, deserializer: Any) -> None:
        self._router = router
        self._method = method
        self._serializer = serializer
        self._deserializer = deserializer

    async def __call__(
        self,
        request: Any,
        *,
        metadata: Any = None,
        timeout: float | None = None,  # noqa: ASYNC109 - gRPC's own signature, passed through
        **options: Any,
    ) -> Any:
        router = self._router
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        # With one core (no "not owner" answer seen yet) every call takes the configured channel.
        channel = router.target(router.account_of(request, metadata)) if router.owners else router.default
        for pause_s in (*resend_pauses(router.resend_budget_s), None):
            left = None if deadline is None else deadline - loop.time()
            try:
                response = await router.callable(channel, self._method, self._serializer, self._deserializer)(
                    request, metadata=metadata, timeout=left, **options
                )
                break
            except grpc.aio.AioRpcError as error:
                resend = router.resend_to(error, channel, request, metadata, self._method)
                if resend is None or pause_s is None or (deadline is not None and loop.time() + pause_s >= deadline):
                    raise
                channel = resend
                if pause_s:
                    await asyncio.sleep(pause_s)
        router.learn_answer(request, metadata, response)
        return response


def _never_sent(error: grpc.aio.AioRpcError) -> bool:
    """The call failed before any core received it: gRPC's pick-first channel found no address it
    could connect to (it says so in these words)."""
    return (error.details() or "").startswith("failed to connect to all addresses")


def _credential(request: Any, metadata: Sequence[tuple[str, Any]] | None) -> str:
    """What names the caller's account, hashed (never kept as is): the `authorization` header, or
    the API key or key id an internal call carries in its request (its `call` for a lease)."""
    found = _header(metadata, "authorization")
    if not found:
        for message in (request, getattr(request, "call", None)):
            for field, prefix in (("api_key", "Bearer "), ("key_id", "Key ")):
                value = getattr(message, field, "")
                if isinstance(value, str) and value:
                    found = prefix + value
                    break
            if found:
                break
    return hashlib.sha256(found.encode()).hexdigest() if found else ""
