"""ringside_server/core_routing.py against real gRPC servers on 127.0.0.1: which failed calls are
sent again, where, and how many times. A call no core acted on (answered "not owner", or never
connected) is resent — to the owner named, with a short backoff while a partition changes hands —
and one a core refused for another reason is never sent twice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from ringside.core.v1 import accounts_pb2, metering_pb2, requests_pb2, wallets_pb2
from ringside_server.core_client import translate
from ringside_server.core_routing import (
    ACCOUNT_KEY,
    CODE_KEY,
    NOT_OWNER_ACCOUNT_KEY,
    NOT_OWNER_PARTITION_KEY,
    OWNER_ADDRESS_KEY,
    RESEND_BUDGET_S,
    RESEND_PAUSES_S,
    RoutingChannel,
    resend_pauses,
    safe_to_resend,
)
from ringside_server.partitions import partition_of
from tests.harness import free_port

METHOD = "/ringside.test.Routing/Call"
PARTITIONS = 16
ACCOUNT = "acct_routing_test"


@dataclass
class Core:
    """A stand-in core's answers, in order (the last one repeated): "ok", "not-owner:<address>",
    "refused" (the core's own 503), "cut" (the connection lost in flight: a transport UNAVAILABLE
    with no code of the core's), "cancelled" (a stopping server's CANCELLED, no code of the core's:
    what grpc answers a call it received but had not handed to a handler yet, grpc/grpc#41785) or
    "internal"."""

    address: str
    answers: list[str]
    seen: int = 0
    server: grpc.aio.Server | None = field(default=None, repr=False)

    async def handle(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        answer = self.answers[min(self.seen, len(self.answers) - 1)]
        self.seen += 1
        if answer == "ok":
            return b"answered by " + self.address.encode()
        if answer.startswith("not-owner:"):
            context.set_trailing_metadata(
                (
                    (CODE_KEY, "service_unavailable"),
                    (NOT_OWNER_ACCOUNT_KEY, ACCOUNT),
                    (NOT_OWNER_PARTITION_KEY, str(partition_of(ACCOUNT, PARTITIONS))),
                    (OWNER_ADDRESS_KEY, answer.removeprefix("not-owner:")),
                )
            )
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not owner")
        if answer == "refused":
            context.set_trailing_metadata(((CODE_KEY, "service_unavailable"),))
            await context.abort(grpc.StatusCode.UNAVAILABLE, "could not record this call")
        if answer == "cut":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "Socket closed")
        if answer == "cancelled":
            await context.abort(grpc.StatusCode.CANCELLED, "CANCELLED")
        await context.abort(grpc.StatusCode.INTERNAL, "failed")
        raise AssertionError("unreachable")


@pytest.fixture
async def cores() -> AsyncIterator[Callable[..., Core]]:
    started: list[Core] = []

    async def start(*answers: str) -> Core:
        port = free_port()
        core = Core(f"127.0.0.1:{port}", list(answers))
        server = grpc.aio.server()
        handler = grpc.unary_unary_rpc_method_handler(core.handle)
        names = ("Call", "Authorize", "AcquireLease", "CountRequest", "Settle", "RecordRequests", "TopUp", "Adjust")
        service = grpc.method_handlers_generic_handler("ringside.test.Routing", dict.fromkeys(names, handler))
        server.add_generic_rpc_handlers((service,))
        server.add_insecure_port(core.address)
        await server.start()
        core.server = server
        started.append(core)
        return core

    yield start  # type: ignore[misc]
    for core in started:
        assert core.server is not None
        await core.server.stop(grace=None)


async def _call(router: RoutingChannel) -> bytes:
    call = router.unary_unary(METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    answer: bytes = await call(b"", metadata=((ACCOUNT_KEY, ACCOUNT),), timeout=10)
    return answer


async def test_a_call_to_a_taker_still_loading_is_answered_once_it_serves(cores: Callable[..., Core]) -> None:
    """The taker answers "not owner" naming itself while it loads the partition: the call waits
    and is answered, not refused (before: one resend, then the caller's 503)."""
    taker = await cores()
    taker.answers = [f"not-owner:{taker.address}"] * 3 + ["ok"]
    router = RoutingChannel(taker.address, [], PARTITIONS)
    try:
        assert await _call(router) == b"answered by " + taker.address.encode()
        assert taker.seen == 4
    finally:
        await router.close()


async def test_a_giver_bounces_a_call_to_the_taker_until_the_taker_serves(cores: Callable[..., Core]) -> None:
    """Giver and taker in the moment a partition changes hands: the giver names the taker, the
    taker (not claimed yet) names the giver; the call goes back and forth, backing off, until the
    taker serves it."""
    giver, taker = await cores(), await cores()
    giver.answers = [f"not-owner:{taker.address}"]
    taker.answers = [f"not-owner:{giver.address}", f"not-owner:{giver.address}", "ok"]
    router = RoutingChannel(giver.address, [], PARTITIONS)
    try:
        assert await _call(router) == b"answered by " + taker.address.encode()
        assert (giver.seen, taker.seen) == (3, 3)  # giver, taker, giver, taker, giver, taker
        assert await _call(router) == b"answered by " + taker.address.encode()  # learnt: straight there
        assert (giver.seen, taker.seen) == (3, 4)
    finally:
        await router.close()


def test_the_resend_budget_covers_a_takeover() -> None:
    """The backoff's first pauses, then 0.5 s ones, adding up to the budget (a dead core's lease
    TTL, 5 s by default, plus the taker's load) — not 2.55 s, shorter than a takeover."""
    pauses = list(resend_pauses())
    assert tuple(pauses[: len(RESEND_PAUSES_S)]) == RESEND_PAUSES_S
    assert RESEND_BUDGET_S - 0.5 < sum(pauses) <= RESEND_BUDGET_S
    assert max(pauses) == 0.5
    assert list(resend_pauses(sum(RESEND_PAUSES_S))) == list(RESEND_PAUSES_S)


async def test_resending_is_bounded(cores: Callable[..., Core]) -> None:
    """A core that never stops answering "not owner": sent once per pause of the budget, then the
    caller sees the refusal (a budget of the first pauses here, to keep the test short)."""
    core = await cores()
    core.answers = [f"not-owner:{core.address}"]
    router = RoutingChannel(core.address, [], PARTITIONS, resend_budget_s=sum(RESEND_PAUSES_S))
    try:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _call(router)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert core.seen == 1 + len(RESEND_PAUSES_S)
    finally:
        await router.close()


@pytest.mark.parametrize("answer", ["refused", "internal"])
async def test_a_call_a_core_refused_for_another_reason_is_never_sent_twice(
    cores: Callable[..., Core], answer: str
) -> None:
    core = await cores(answer)
    router = RoutingChannel(core.address, [], PARTITIONS)
    router.owners[partition_of(ACCOUNT, PARTITIONS)] = core.address  # a learnt owner, as after a hand-back
    try:
        with pytest.raises(grpc.aio.AioRpcError):
            await _call(router)
        assert core.seen == 1
    finally:
        await router.close()


async def test_a_call_to_a_stopped_owner_goes_through_the_configured_address(cores: Callable[..., Core]) -> None:
    """A learnt owner that stopped (its port closed: the call never left) is forgotten and the
    call sent through the configured address, where the new owner answers it."""
    survivor = await cores("ok")
    router = RoutingChannel(survivor.address, [], PARTITIONS)
    router.owners[partition_of(ACCOUNT, PARTITIONS)] = f"127.0.0.1:{free_port()}"  # nobody listens
    try:
        assert await _call(router) == b"answered by " + survivor.address.encode()
        assert router.owners == {}
    finally:
        await router.close()


def _authorize(request_id: str) -> metering_pb2.AuthorizeRequest:
    return metering_pb2.AuthorizeRequest(model_ref="fc:openai/gpt-4o-mini", request_id=request_id)


def _request(method: str, chosen_id: str) -> Any:
    if method == "AcquireLease":
        return metering_pb2.AcquireLeaseRequest(call=_authorize(""), calls=16, lease_id=chosen_id)
    if method == "CountRequest":
        return metering_pb2.CountRequestRequest(client_ip="203.0.113.9", request_id=chosen_id)
    if method == "TopUp":
        return wallets_pb2.TopUpRequest(customer_id="cus_1", amount_nano_usd=5, transaction_id=chosen_id)
    if method == "Adjust":
        return wallets_pb2.AdjustRequest(customer_id="cus_1", amount_nano_usd=-5, reason="r", transaction_id=chosen_id)
    if method == "RecordRequests":
        return requests_pb2.RecordRequestsRequest(
            entries=[requests_pb2.RequestEntry(request_id="req_loggedbytheedge1")]
        )
    return _authorize(chosen_id)


@pytest.mark.parametrize("cut_off", ["cut", "cancelled"])
@pytest.mark.parametrize(
    ("method", "request_id", "resent"),
    [
        ("Authorize", "req_chosenbytheedge01", True),  # idempotent by the id its caller chose
        ("Settle", "", True),  # idempotent by the hold's id (a second one is `replayed`)
        ("Authorize", "", False),  # the hold's id would be the core's: a second hold
        ("AcquireLease", "lse_chosenbytheedge01", True),  # idempotent by the lease id its caller chose
        ("AcquireLease", "", False),  # the lease's id would be the core's: a second lease
        ("CountRequest", "req_chosenbytheedge02", True),  # counted once under the edge's request id
        ("CountRequest", "", False),  # a second count
        ("RecordRequests", "", True),  # an entry already recorded is skipped (its request id is the key)
        ("TopUp", "wtx_0VcrH5t0V6db1IRSKQf7Dn1b", True),  # by the movement id its caller chose
        ("TopUp", "", False),  # the core would choose: a second top-up
        ("Adjust", "wtx_0VcrH5t0V6db1IRSKQf7Dn1c", True),
        ("Adjust", "", False),
    ],
)
async def test_a_call_cut_off_in_flight_is_resent_only_when_safe(
    cores: Callable[..., Core], method: str, request_id: str, resent: bool, cut_off: str
) -> None:
    """The learnt owner dies or stops under a call (the connection lost in flight, or the call
    cancelled by the stopping server: it may have acted). A call safe to repeat goes again through
    the configured address, to the core now serving; any other is never sent twice and its caller
    sees the failure, as a 503 (`translate`), never a 500."""
    dying, survivor = await cores(cut_off), await cores("ok")
    router = RoutingChannel(survivor.address, [], PARTITIONS)
    router.owners[partition_of(ACCOUNT, PARTITIONS)] = dying.address  # learnt, as after a hand-over
    call = router.unary_unary(
        f"/ringside.test.Routing/{method}",
        request_serializer=lambda message: message.SerializeToString(),
        response_deserializer=lambda b: b,
    )
    try:
        if resent:
            answer = await call(_request(method, request_id), metadata=((ACCOUNT_KEY, ACCOUNT),), timeout=10)
            assert answer == b"answered by " + survivor.address.encode()
            assert (dying.seen, survivor.seen) == (1, 1)
        else:
            with pytest.raises(grpc.aio.AioRpcError) as cut:
                await call(_request(method, request_id), metadata=((ACCOUNT_KEY, ACCOUNT),), timeout=10)
            assert cut.value.code() == (grpc.StatusCode.UNAVAILABLE if cut_off == "cut" else grpc.StatusCode.CANCELLED)
            assert translate(cut.value).status == 503
            assert (dying.seen, survivor.seen) == (1, 0)
    finally:
        await router.close()


def test_which_methods_are_resent_after_a_cut_off() -> None:
    """Read-only methods and writes idempotent by their caller's id; never another write."""
    service = "/ringside.core.v1.MeteringService/"
    assert safe_to_resend(service + "Authorize", _authorize("req_chosenbytheedge01"))
    assert not safe_to_resend(service + "Authorize", _authorize(""))
    assert safe_to_resend(service + "AcquireLease", _request("AcquireLease", "lse_chosenbytheedge01"))
    assert not safe_to_resend(service + "AcquireLease", _request("AcquireLease", ""))
    assert safe_to_resend(service + "CountRequest", _request("CountRequest", "req_chosenbytheedge02"))
    assert not safe_to_resend(service + "CountRequest", _request("CountRequest", ""))
    wallets = "/ringside.core.v1.WalletsService/"
    for name in ("TopUp", "Adjust"):
        assert safe_to_resend(wallets + name, _request(name, "wtx_0VcrH5t0V6db1IRSKQf7Dn1b")), name
        assert not safe_to_resend(wallets + name, _request(name, "")), name
    debit = "wtx_0VcrH5t0V6db1IRSKQf7Dn1a"  # the debit refunded: not the refund's own id
    assert not safe_to_resend(wallets + "Refund", wallets_pb2.RefundRequest(transaction_id=debit))
    chosen = wallets_pb2.RefundRequest(transaction_id=debit, refund_id="wtx_0VcrH5t0V6db1IRSKQf7Dn1b")
    assert safe_to_resend(wallets + "Refund", chosen)
    top_up = "/ringside.core.v1.AccountsService/TopUpAccountBalance"
    assert safe_to_resend(top_up, accounts_pb2.TopUpAccountBalanceRequest(transfer_id="tr_0VcrH5t0V6db1IRSKQf7Dn1b"))
    assert not safe_to_resend(top_up, accounts_pb2.TopUpAccountBalanceRequest(account_id="acct_1"))
    for name in (
        "Settle",
        "ExtendHold",
        "SettleLeaseCalls",
        "SettleLeaseReports",
        "RecordRequests",
        "ModelPolicy",
        "VerifyApiKey",
        "GetUsage",
    ):
        assert safe_to_resend(service + name, None), name
    for name in ("FinishIdempotent", "AbortIdempotent", "StartBatch", "ReportBatchProgress", "FinishBatch"):
        assert safe_to_resend(service + name, None), name  # idempotent by their state
    for name in (
        "MarkOutboxRelayed",
        "ClaimOutbox",
        "FinishIngest",
        "FinishMigration",
        "ProgressMigration",
        "ReportIngestProgress",
    ):
        assert safe_to_resend(service + name, None), name
    never = ("AcquireLease", "CountRequest", "TopUp", "Adjust", "Refund", "CreateCustomer", "BeginIdempotent")
    for name in (*never, "TopUpAccountBalance", "RecordDeliveryAttempt", "CreateObject", "StoreResponse"):
        assert not safe_to_resend(service + name, None), name
