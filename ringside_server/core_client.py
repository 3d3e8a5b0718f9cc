"""The gRPC client of the core, shared by the edge and the worker; failures become RingsideErrors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import grpc

from ringside.core.v1 import (
    accounts_pb2_grpc,
    assistants_pb2_grpc,
    batches_pb2_grpc,
    billing_pb2_grpc,
    client_tokens_pb2_grpc,
    customers_pb2_grpc,
    files_pb2_grpc,
    idempotency_pb2_grpc,
    keys_pb2_grpc,
    metering_pb2,
    metering_pb2_grpc,
    requests_pb2_grpc,
    responses_pb2_grpc,
    slots_pb2_grpc,
    system_pb2,
    system_pb2_grpc,
    tiers_pb2_grpc,
    usage_pb2_grpc,
    vector_stores_pb2_grpc,
    wallets_pb2_grpc,
    webhooks_pb2_grpc,
)
from ringside_server.core_routing import ACCOUNT_KEY, CUT_OFF, RoutingChannel
from ringside_server.errors import RingsideError
from ringside_server.partitions import DEFAULT_PARTITIONS

T = TypeVar("T")
log = logging.getLogger("ringside.core_client")
CODE_KEY = "ringside-error-code"
PARAM_KEY = "ringside-error-param"
# A core that stops answering (SIGSTOPped, its host frozen) while its TCP connection stays open is
# found by keepalive pings (acked by gRPC's own transport threads, so a busy core still answers):
# its calls fail within KEEPALIVE_TIME_MS + KEEPALIVE_TIMEOUT_MS rather than at their 10 s deadline,
# and the channel moves on to the next address it lists (docs/scaling.md "A paused core"). The core
# accepts pings this often (core/server.py SERVER_OPTIONS).
KEEPALIVE_TIME_MS = 1_000
KEEPALIVE_TIMEOUT_MS = 2_000
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
    ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
    # An unanswered ping is timed out by this one (60 s by default; measured: with it unset, a
    # frozen core's calls went on failing at their deadline for 60 s), not by the keepalive timeout.
    ("grpc.http2.ping_timeout_ms", KEEPALIVE_TIMEOUT_MS),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    ("grpc.enable_retries", 1),
    # Back within a second of a restarted core: an edge's lease reports (the only record of the
    # calls it admitted) must not wait out gRPC's default backoff, which grows to minutes. The
    # minimum is also a connection attempt's timeout: a paused core's port still completes TCP
    # handshakes (the kernel's backlog) but never HTTP/2's, and must not hold the channel for 20 s.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


def translate(error: grpc.aio.AioRpcError) -> RingsideError:
    """The core's API error (code in trailing metadata), or 503 when the core itself failed."""
    trailing: dict[str, str] = {}
    metadata: Any = error.trailing_metadata() or ()
    for key, value in metadata:
        if isinstance(value, str):
            trailing[str(key)] = value
    code = trailing.get(CODE_KEY)
    if code:
        return RingsideError(code, error.details() or code, trailing.get(PARAM_KEY) or None)
    if error.code() in CUT_OFF or error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return RingsideError("service_unavailable", "The Ringside core is unreachable; retry shortly.")
    log.error("the core answered %s: %s", error.code().name, (error.details() or "")[:500])
    return RingsideError("internal_error", "The Ringside core failed to answer.")


class Unimplemented(RingsideError):
    """The core does not know the method: an older core (a rolling upgrade)."""

    def __init__(self) -> None:
        super().__init__("internal_error", "The Ringside core does not have this method.")


@dataclass(frozen=True, slots=True)
class ActingKey:
    """A key's work done later by one of Ringside's roles (an Assistants run's worker): the core is
    asked as that key by id, never with its secret, which the role never sees. Never built from
    anything a client sends. `ending`: the key was revoked and the role only ends its run (the core
    lets such a caller read and end a run, nothing else)."""

    key_id: str
    ending: bool = False


class CoreClient:
    def __init__(self, address: str, internal_token: str, partitions: int = DEFAULT_PARTITIONS) -> None:
        # Every stub's calls are routed to their account's core (ringside_server/core_routing.py).
        self.channel = RoutingChannel(address, CHANNEL_OPTIONS, partitions)
        routed = cast(grpc.aio.Channel, self.channel)
        self.accounts = accounts_pb2_grpc.AccountsServiceStub(routed)
        self.keys = keys_pb2_grpc.ApiKeysServiceStub(routed)
        self.customers = customers_pb2_grpc.CustomersServiceStub(routed)
        self.files = files_pb2_grpc.FilesServiceStub(routed)
        self.vector_stores = vector_stores_pb2_grpc.VectorStoresServiceStub(routed)
        self.batches = batches_pb2_grpc.BatchesServiceStub(routed)
        self.metering = metering_pb2_grpc.MeteringServiceStub(routed)
        self.system = system_pb2_grpc.SystemServiceStub(routed)
        self.usage = usage_pb2_grpc.UsageServiceStub(routed)
        self.tiers = tiers_pb2_grpc.TiersServiceStub(routed)
        self.slots = slots_pb2_grpc.SlotsServiceStub(routed)
        self.wallets = wallets_pb2_grpc.WalletsServiceStub(routed)
        self.idempotency = idempotency_pb2_grpc.IdempotencyServiceStub(routed)
        self.client_tokens = client_tokens_pb2_grpc.ClientTokensServiceStub(routed)
        self.webhooks = webhooks_pb2_grpc.WebhooksServiceStub(routed)
        self.billing = billing_pb2_grpc.BillingServiceStub(routed)
        self.responses = responses_pb2_grpc.ResponsesServiceStub(routed)
        self.assistants = assistants_pb2_grpc.AssistantsServiceStub(routed)
        self.requests = requests_pb2_grpc.RequestsServiceStub(routed)
        self.internal_metadata = (("x-ringside-internal", internal_token),)

    async def close(self) -> None:
        await self.channel.close(grace=None)

    async def internal(self, method: Callable[..., Awaitable[T]], request: Any, timeout_s: float = 10.0) -> T:
        """Call a method reserved for Ringside's roles."""
        try:
            return await method(request, metadata=self.internal_metadata, timeout=timeout_s)
        except grpc.aio.AioRpcError as error:
            raise translate(error) from None

    async def internal_to(
        self, method: Callable[..., Awaitable[T]], request: Any, account_id: str, timeout_s: float = 10.0
    ) -> T:
        """An internal call routed to `account_id`'s core (`x-ringside-account`: a core that does
        not serve it answers "not owner", and the call goes again to the owner it names).
        Unimplemented when the core does not know `method`."""
        metadata = (*self.internal_metadata, (ACCOUNT_KEY, account_id)) if account_id else self.internal_metadata
        try:
            return await method(request, metadata=metadata, timeout=timeout_s)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                raise Unimplemented() from None
            raise translate(error) from None

    def owner_address(self, account_id: str) -> str:
        """The address of the core this client believes owns `account_id` ("": the configured ones)."""
        return self.channel.owner_address(account_id)

    async def internal_for(
        self, method: Callable[..., Awaitable[T]], request: Any, authorization: str, timeout_s: float = 10.0
    ) -> T:
        """An internal call made for one caller's account (its `authorization`, used for routing
        only: the core reads the internal token), so that with several active cores it reaches
        that account's owner."""
        metadata = (*self.internal_metadata, ("authorization", authorization))
        try:
            return await method(request, metadata=metadata, timeout=timeout_s)
        except grpc.aio.AioRpcError as error:
            raise translate(error) from None

    async def as_caller(
        self, method: Callable[..., Awaitable[T]], request: Any, authorization: str | ActingKey, timeout_s: float = 10.0
    ) -> T:
        """Call a method as the HTTP caller: their `Authorization` header travels as is. A role
        doing a key's work later (ActingKey) is that key, proven by the internal token."""
        metadata: tuple[tuple[str, str], ...] = (
            (
                ("authorization", f"Key {authorization.key_id}"),
                *self.internal_metadata,
                *((("x-ringside-end-run", "1"),) if authorization.ending else ()),
            )
            if isinstance(authorization, ActingKey)
            else (("authorization", authorization),)
        )
        try:
            return await method(request, metadata=metadata, timeout=timeout_s)
        except grpc.aio.AioRpcError as error:
            raise translate(error) from None

    async def authorize(self, request: metering_pb2.AuthorizeRequest) -> metering_pb2.AuthorizeResponse:
        return await self.internal(self.metering.Authorize, request)

    async def settle(self, request: metering_pb2.SettleRequest) -> metering_pb2.SettleResponse:
        return await self.internal(self.metering.Settle, request)

    async def heartbeat(self, role: str, instance: str) -> None:
        await self.internal(
            self.system.Heartbeat, system_pb2.HeartbeatRequest(role=role, instance=instance), timeout_s=2.0
        )
