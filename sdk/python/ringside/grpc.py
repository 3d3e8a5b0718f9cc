"""An authenticated gRPC channel to Ringside's core, for internal services (the `grpc` extra).

    from ringside.grpc import channel
    from ringside.core.v1 import customers_pb2, customers_pb2_grpc

    with channel("127.0.0.1:50051", api_key="sk_live_…") as core:
        stub = customers_pb2_grpc.CustomersServiceStub(core)
        stub.ListCustomers(customers_pb2.ListCustomersRequest(limit=10), timeout=5)

Account calls carry `authorization: Bearer sk_…`; the platform's own services carry
`x-ringside-internal: <RINGSIDE_INTERNAL_TOKEN>` instead (API.md "gRPC"). Every call made through
the channel gets that metadata, so no call can forget it. The channel is plaintext unless
`credentials` are given: the core binds to loopback by default (`RINGSIDE_BIND_HOST`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
import grpc.aio

__all__ = ["aio_channel", "auth_metadata", "channel"]

Metadata = tuple[tuple[str, str], ...]


def auth_metadata(*, api_key: str | None = None, internal_token: str | None = None) -> Metadata:
    """The metadata that authenticates a call: exactly one of an API key or the internal token."""
    if (api_key is None) == (internal_token is None):
        raise ValueError("give exactly one of api_key (sk_live_…/sk_test_…) or internal_token")
    if api_key is not None:
        return (("authorization", f"Bearer {api_key}"),)
    return (("x-ringside-internal", str(internal_token)),)


def _details_with(details: Any, metadata: Metadata) -> Any:
    # ClientCallDetails is a namedtuple in grpcio: replace only its metadata.
    merged = (*(details.metadata or ()), *metadata)
    return details._replace(metadata=merged)


class _SyncAuth(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg, unused-ignore]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg, unused-ignore]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[type-arg, unused-ignore]
    grpc.StreamStreamClientInterceptor,  # type: ignore[type-arg, unused-ignore]
):
    def __init__(self, metadata: Metadata) -> None:
        self._metadata = metadata

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(_details_with(client_call_details, self._metadata), request)

    def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(_details_with(client_call_details, self._metadata), request)

    def intercept_stream_unary(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(_details_with(client_call_details, self._metadata), request_iterator)

    def intercept_stream_stream(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(_details_with(client_call_details, self._metadata), request_iterator)


def channel(
    target: str,
    *,
    api_key: str | None = None,
    internal_token: str | None = None,
    credentials: grpc.ChannelCredentials | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A sync channel whose every call is authenticated (a context manager; close it when done)."""
    metadata = auth_metadata(api_key=api_key, internal_token=internal_token)
    base = (
        grpc.secure_channel(target, credentials, options=options)
        if credentials is not None
        else grpc.insecure_channel(target, options=options)
    )
    return grpc.intercept_channel(base, _SyncAuth(metadata))


def _aio_details(details: Any, metadata: Metadata) -> Any:
    merged = grpc.aio.Metadata(*tuple(details.metadata or ()), *metadata)
    return details._replace(metadata=merged)


class _AsyncAuth(
    grpc.aio.UnaryUnaryClientInterceptor,  # type: ignore[type-arg, unused-ignore]
    grpc.aio.UnaryStreamClientInterceptor,  # type: ignore[type-arg, unused-ignore]
    grpc.aio.StreamUnaryClientInterceptor,  # type: ignore[type-arg, unused-ignore]
    grpc.aio.StreamStreamClientInterceptor,  # type: ignore[type-arg, unused-ignore]
):
    def __init__(self, metadata: Metadata) -> None:
        self._metadata = metadata

    async def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(_aio_details(client_call_details, self._metadata), request)

    async def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(_aio_details(client_call_details, self._metadata), request)

    async def intercept_stream_unary(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return await continuation(_aio_details(client_call_details, self._metadata), request_iterator)

    async def intercept_stream_stream(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return await continuation(_aio_details(client_call_details, self._metadata), request_iterator)


def aio_channel(
    target: str,
    *,
    api_key: str | None = None,
    internal_token: str | None = None,
    credentials: grpc.ChannelCredentials | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """The asyncio twin of `channel` (`async with aio_channel(...) as core:`)."""
    # grpc-stubs types `interceptors` as a stub that must be cast (its own name for it)
    interceptors: Any = [_AsyncAuth(auth_metadata(api_key=api_key, internal_token=internal_token))]
    if credentials is not None:
        return grpc.aio.secure_channel(target, credentials, options=options, interceptors=interceptors)
    return grpc.aio.insecure_channel(target, options=options, interceptors=interceptors)
