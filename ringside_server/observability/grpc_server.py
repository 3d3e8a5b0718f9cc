"""A gRPC server's own figures (the core's and the rag role's): every unary call by method and
status code, and its duration — a server interceptor, so no servicer changes."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram

from ringside_server.observability.metrics import ADDED_BUCKETS_S


class RpcMetrics(grpc.aio.ServerInterceptor):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "ringside_grpc_requests",
            "gRPC calls served, by method and status code.",
            ("method", "code"),
            registry=registry,
        )
        self.duration = Histogram(
            "ringside_grpc_request_duration_seconds",
            "gRPC calls served, from request to response.",
            ("method",),
            buckets=ADDED_BUCKETS_S,
            registry=registry,
        )

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler  # streams (reflection, health watch) are not counted
        inner: Callable[..., Awaitable[Any]] = handler.unary_unary
        method = details.method.rsplit("/", 1)[-1]

        async def counted(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            failed = False
            try:
                return await inner(request, context)
            except Exception:
                failed = True
                raise
            finally:
                code = context.code() or (grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK)
                name = code.name if isinstance(code, grpc.StatusCode) else str(code)
                self.calls.labels(method, name).inc()
                self.duration.labels(method).observe(time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            counted, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )
