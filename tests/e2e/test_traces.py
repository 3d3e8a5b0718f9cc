"""Traces (issue 21, item 2), captured with the SDK's in-memory exporter from an edge running in this
process against a real core: the span tree of a chat, a stream and a refusal, the request id on the
spans, a client's `traceparent` continued and sent on to the provider."""

from __future__ import annotations

import asyncio
import pathlib
import secrets
import time
from collections.abc import AsyncIterator

import openai
import pytest
from aiohttp import web
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from edge_http.app import create_app
from ringside_server.observability import tracing
from ringside_server.settings import Settings
from tests.harness import FakeUpstream, Stack, free_port

MODEL = "fc:openai/gpt-4o-mini"
TRACE_ID = secrets.token_hex(16)
PARENT_ID = secrets.token_hex(8)


class Traced:
    def __init__(self, stack: Stack, base_url: str, exporter: InMemorySpanExporter, provider: TracerProvider) -> None:
        self.stack, self.base_url, self.exporter, self.provider = stack, base_url, exporter, provider

    def spans(self) -> list[ReadableSpan]:
        self.provider.force_flush()
        return list(self.exporter.get_finished_spans())

    def client(self, key: str | None = None) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.base_url + "/v1", api_key=key or self.stack.live_key, max_retries=0)


@pytest.fixture(scope="module")
async def traced(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> AsyncIterator[Traced]:
    stack = Stack("sqlite", tmp_path_factory.mktemp("traces"), upstream).start()
    exporter = InMemorySpanExporter()
    provider = tracing.configure("edge", {}, exporter)
    assert provider is not None
    settings = Settings(
        data_dir=pathlib.Path(stack.data_dir),
        core_address=f"127.0.0.1:{stack.grpc_port}",
        internal_token=stack.internal_token,
        http_port=free_port(),
        environment={"OPENAI_BASE_URL": upstream.base_url, "OPENAI_API_KEY": upstream.api_key},
    )
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.http_port).start()
    try:
        yield Traced(stack, f"http://127.0.0.1:{settings.http_port}", exporter, provider)
    finally:
        await runner.cleanup()
        stack.destroy()
        provider.shutdown()
        tracing.uninstrument()


def tree(spans: list[ReadableSpan], root: ReadableSpan) -> list[ReadableSpan]:
    """`root` and every span under it."""
    found, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        assert parent.context is not None
        children = [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]
        found += children
        frontier += children
    return found


async def request_span(traced: Traced, request_id: str) -> ReadableSpan:
    """The request's span, once it has ended (a stream's ends just after the client read its end)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [
            s
            for s in traced.spans()
            if s.kind == SpanKind.SERVER and (s.attributes or {}).get(tracing.REQUEST_ID) == request_id
        ]
        if found:
            [span] = found
            return span
        await asyncio.sleep(0.02)
    raise AssertionError(f"no request span for {request_id}")


def names(spans: list[ReadableSpan]) -> list[str]:
    return sorted(span.name for span in spans)


async def test_a_chat_is_one_tree_under_the_clients_traceparent(traced: Traced, upstream: FakeUpstream) -> None:
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
    raw = await traced.client().chat.completions.with_raw_response.create(
        model=MODEL,
        max_tokens=8,
        messages=[{"role": "user", "content": "trace me"}],
        extra_headers={"traceparent": traceparent},
    )
    request_id = raw.headers["x-request-id"]
    root = await request_span(traced, request_id)
    spans = traced.spans()
    assert root.context is not None and format(root.context.trace_id, "032x") == TRACE_ID
    assert root.parent is not None and format(root.parent.span_id, "016x") == PARENT_ID
    calls = tree(spans, root)
    # edge → core: the module's first call takes the lease, over gRPC, inside its admission
    assert any(s.kind == SpanKind.CLIENT and s.name.endswith("MeteringService/AcquireLease") for s in calls)
    assert {s.context.trace_id for s in calls if s.context is not None} == {root.context.trace_id}
    admit = next(s for s in calls if s.name == "ringside.admit")
    upstream_call = next(s for s in calls if s.kind == SpanKind.CLIENT and "POST" in s.name)
    settle = next(s for s in calls if s.name == "ringside.settle")
    assert (admit.attributes or {})[tracing.REQUEST_ID] == request_id
    for span in (upstream_call, settle):  # started once the call had its id
        assert (span.attributes or {})[tracing.REQUEST_ID] == request_id
    assert (settle.attributes or {})["ringside.outcome"] == "completed"
    # the provider was sent the same trace, its parent the upstream call's span
    sent = [r for r in upstream.requests() if r.get("headers", {}).get("traceparent", "").split("-")[1:2] == [TRACE_ID]]
    assert len(sent) == 1
    assert upstream_call.context is not None
    assert sent[0]["headers"]["traceparent"].split("-")[2] == format(upstream_call.context.span_id, "016x")


async def test_a_stream_settles_inside_its_request_span(traced: Traced) -> None:
    stream = await traced.client().chat.completions.with_raw_response.create(
        model=MODEL, max_tokens=8, stream=True, messages=[{"role": "user", "content": "stream me"}]
    )
    request_id = stream.headers["x-request-id"]
    chunks = [chunk async for chunk in stream.parse()]
    assert chunks
    root = await request_span(traced, request_id)
    calls = tree(traced.spans(), root)
    assert {"ringside.admit", "ringside.settle"} <= set(names(calls))
    assert any(s.kind == SpanKind.CLIENT and "POST" in s.name for s in calls)  # the provider's stream
    assert root.end_time is not None and all(s.end_time is not None and s.end_time <= root.end_time for s in calls)


async def test_a_refusal_has_no_provider_call(traced: Traced) -> None:
    created = traced.stack.call(
        "POST", "/v1/customers", traced.stack.live_key, {"external_id": "t_" + secrets.token_hex(4), "budget_usd": 0}
    )
    with pytest.raises(openai.APIStatusError) as refused:
        await traced.client().chat.completions.create(
            model=MODEL,
            max_tokens=8,
            messages=[{"role": "user", "content": "refuse me"}],
            extra_headers={"FC-Customer": created.json()["id"]},
        )
    assert refused.value.status_code == 402
    request_id = refused.value.response.headers["x-request-id"]
    root = await request_span(traced, request_id)
    calls = tree(traced.spans(), root)
    [admit] = [s for s in calls if s.name == "ringside.admit"]
    assert (admit.attributes or {})["ringside.refusal"] == "customer_budget_exceeded"
    assert "ringside.settle" not in names(calls)
    assert not [s for s in calls if s.kind == SpanKind.CLIENT and "POST" in s.name]
    assert (root.attributes or {}).get(
        "http.response.status_code", (root.attributes or {}).get("http.status_code")
    ) == 402
