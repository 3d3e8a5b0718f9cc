"""OpenTelemetry traces: on only when an OTLP endpoint is configured (the standard
`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` and the other `OTEL_*`
variables), else nothing is installed and the API's no-op tracer costs next to nothing.

Installed: the SDK's tracer provider for this role (`service.name` ringside-<role>), the gRPC
instrumentations (edge/worker → core spans, the W3C context carried in gRPC metadata), aiohttp's
client instrumentation (provider calls and webhook deliveries, `traceparent` sent upstream) and its
server instrumentation (a client's `traceparent` becomes the request span's parent). Ringside's own
spans (admit, settle) come from `tracer`; every one carries the request id once it is known.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from ringside_server.observability.calls import CURRENT_CALL
from ringside_server.versions import distribution_version

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
REQUEST_ID = "ringside.request_id"
tracer = trace.get_tracer("ringside")


def enabled(environment: dict[str, str]) -> bool:
    return any(environment.get(name) for name in ENDPOINT_VARIABLES)


class RequestIds(SpanProcessor):
    """Puts the request id on every span started once the call has one (its admission gave it)."""

    def on_start(self, span: Span, parent_context: context.Context | None = None) -> None:
        record = CURRENT_CALL.get()
        if record is not None and record.request_id:
            span.set_attribute(REQUEST_ID, record.request_id)

    def on_end(self, span: ReadableSpan) -> None:
        return None


def configure(role: str, environment: dict[str, str], exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Install tracing for this process when `environment` names an OTLP endpoint (or a test gives
    an exporter); None when tracing stays off."""
    if exporter is None:
        if not enabled(environment):
            return None
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # reads the OTEL_EXPORTER_OTLP_* variables itself
    release = distribution_version("ringside-server")
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"ringside-{role}", "service.version": release})
    )
    provider.add_span_processor(RequestIds())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    instrument(provider)
    return provider


def _instrumentors() -> list[Any]:
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient, GrpcAioInstrumentorServer

    return [
        AioHttpClientInstrumentor(),
        AioHttpServerInstrumentor(),
        GrpcAioInstrumentorClient(),
        GrpcAioInstrumentorServer(),
    ]


def instrument(provider: TracerProvider) -> None:
    for instrumentor in _instrumentors():
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)


def uninstrument() -> None:
    """Undo `instrument` (a test that traced in its own process)."""
    for instrumentor in _instrumentors():
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
