"""Traces leave the process over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (issue 21, item 2):
a core and an edge export to a local OTLP/HTTP receiver, and one call's spans from both processes
share the trace the client's `traceparent` started — the edge → core hop carried over gRPC."""

from __future__ import annotations

import contextlib
import pathlib
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.harness import FakeUpstream, Stack, http, wait_until
from tests.test_cli_up import Up, credentials
from tests.workers.webhook_receiver import Receiver as WebhookReceiver
from workers.webhooks.shared import ACTIVITY_NAME

MODEL = "fc:openai/gpt-4o-mini"


class Receiver:
    """An OTLP/HTTP trace receiver: every exported span as (service name, trace id hex, span name)."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                exported = ExportTraceServiceRequest.FromString(body)
                for resource_spans in exported.resource_spans:
                    attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                    for scope in resource_spans.scope_spans:
                        for span in scope.spans:
                            receiver.spans.append((attributes.get("service.name", ""), span.trace_id.hex(), span.name))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()


def test_one_call_is_one_trace_across_edge_and_core(
    tmp_path: pathlib.Path, upstream: FakeUpstream, receiver: Receiver
) -> None:
    extra = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    stack = Stack("sqlite", tmp_path, upstream, extra).start()
    try:
        trace_id = secrets.token_hex(16)
        body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "export me"}]}
        answer = stack.call(
            "POST",
            "/v1/chat/completions",
            stack.live_key,
            body,
            headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
        )
        assert answer.status == 200, answer.body

        def spans() -> set[tuple[str, str]]:
            return {(service, name) for service, trace, name in receiver.spans if trace == trace_id}

        def complete() -> bool:
            # each process exports its spans in batches, so a call's spans may come in more than one
            got = spans()
            edge = {("ringside-edge", "ringside.admit"), ("ringside-edge", "ringside.settle")} <= got
            return edge and any(service == "ringside-core" and "MeteringService" in name for service, name in got)

        with contextlib.suppress(AssertionError):
            wait_until(complete, 20, "the edge's and the core's spans of the call")
        names = spans()
        assert ("ringside-edge", "ringside.admit") in names and ("ringside-edge", "ringside.settle") in names
        assert any(service == "ringside-core" and "MeteringService" in name for service, name in names), names
    finally:
        stack.destroy()


def test_a_webhook_delivery_is_traced_from_relay_to_post(
    tmp_path: pathlib.Path, upstream: FakeUpstream, receiver: Receiver
) -> None:
    """`ringside up` with traces on: the worker's delivery is one trace — the relay's workflow start,
    the activity (temporalio's interceptor) and the POST to the endpoint (aiohttp's instrumentation)."""
    hooks = WebhookReceiver.start()
    extra = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "RINGSIDE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
    }
    up = Up.start(tmp_path / "data", tmp_path / "up.log", extra_env=extra)
    try:
        up.wait_healthy()
        key = credentials(up.data_dir)["api_key"]
        created = http("POST", up.base_url + "/v1/webhooks", key, {"url": hooks.url, "events": ["customer.created"]})
        assert created.status == 201, created.body
        customer = http("POST", up.base_url + "/v1/customers", key, {"external_id": "otlp_" + secrets.token_hex(4)})
        wait_until(lambda: hooks.events("customer.created", customer.json()["id"]), 30, "the delivery")

        def delivery_trace() -> set[str]:
            by_trace: dict[str, set[str]] = {}
            for service, trace, name in receiver.spans:
                if service == "ringside-worker":
                    by_trace.setdefault(trace, set()).add(name)
            return next((names for names in by_trace.values() if f"RunActivity:{ACTIVITY_NAME}" in names), set())

        names = wait_until(
            lambda: (found := delivery_trace()) and "POST" in found and found, 20, "the delivery's spans"
        )
        assert {
            "StartWorkflow:WebhookDelivery",
            "RunWorkflow:WebhookDelivery",
            f"StartActivity:{ACTIVITY_NAME}",
        } <= names
        # the activity's calls to the core, in the same trace
        assert "/ringside.core.v1.WebhooksService/RecordDeliveryAttempt" in names
    finally:
        up.stop()
        up.kill()
        hooks.stop()
