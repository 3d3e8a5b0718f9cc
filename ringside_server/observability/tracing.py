"""OpenTelemetry traces: on only when an OTLP endpoint is configured (the standard
`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` and the other `OTEL_*`
variables). Off, OpenTelemetry is not even imported: `tracer` is a no-op of a few attribute lookups.

Installed: the SDK's tracer provider for this role (`service.name` ringside-<role>), the gRPC
instrumentations (edge/worker → core spans, the W3C context carried in gRPC metadata), aiohttp's
client instrumentation (provider calls and webhook deliveries, `traceparent` sent upstream) and its
server instrumentation (a client's `traceparent` becomes the request span's parent). Ringside's own
spans (admit, settle) come from `tracer`; every one carries the request id once it is known.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ringside_server.observability.calls import CURRENT_CALL
from ringside_server.versions import distribution_version

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
REQUEST_ID = "ringside.request_id"


class _NoSpan:
    """What a span is while tracing is off."""

    def set_attribute(self, key: str, value: object) -> None:
        return None

    def set_attributes(self, attributes: dict[str, Any]) -> None:
        return None

    def __enter__(self) -> _NoSpan:
        return self

    def __exit__(self, *exception: object) -> None:
        return None


NO_SPAN = _NoSpan()


class _NoTracer:
    def start_as_current_span(self, name: str) -> _NoSpan:
        return NO_SPAN


def _no_span() -> Any:
    return NO_SPAN


# The process's tracer and current span (OpenTelemetry's own API keeps them process-wide too):
# no-ops until `configure` installs tracing.
tracer: Any = _NoTracer()
current_span: Callable[[], Any] = _no_span


def enabled(environment: dict[str, str]) -> bool:
    return any(environment.get(name) for name in ENDPOINT_VARIABLES)


def configure(role: str, environment: dict[str, str], exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Install tracing for this process when `environment` names an OTLP endpoint (or a test gives
    an exporter); None when tracing stays off."""
    global tracer, current_span
    if exporter is None:
        if not enabled(environment):
            return None
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # reads the OTEL_EXPORTER_OTLP_* variables itself
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    release = distribution_version("ringside-server")
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"ringside-{role}", "service.version": release})
    )
    provider.add_span_processor(_request_ids())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    tracer, current_span = trace.get_tracer("ringside"), trace.get_current_span
    instrument(provider)
    return provider


def _request_ids() -> Any:
    """A span processor putting the request id on every span started once the call has one (its
    admission gave it)."""
    from opentelemetry.sdk.trace import SpanProcessor

    class RequestIds(SpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            record = CURRENT_CALL.get()
            if record is not None and record.request_id:
                span.set_attribute(REQUEST_ID, record.request_id)

    return RequestIds()


def _instrumentors() -> list[Any]:
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient, GrpcAioInstrumentorServer

    instrumentors: list[Any] = [AioHttpClientInstrumentor(), AioHttpServerInstrumentor()]
    return [*instrumentors, GrpcAioInstrumentorClient(), GrpcAioInstrumentorServer()]


def instrument(provider: TracerProvider) -> None:
    for instrumentor in _instrumentors():
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)


def uninstrument() -> None:
    """Undo `instrument` (a test that traced in its own process)."""
    for instrumentor in _instrumentors():
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
