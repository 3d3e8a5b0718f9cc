"""ringside_server/metering/call.py: a MeteredCall settles each admitted attempt exactly once on
every path — a complete answer, a stream read to its end, a client that leaves mid-stream, a relay
never read, a cancellation, an unexpected exception — with no HTTP server anywhere (the kernel's
promise to workers). The core and the provider are fakes; the catalog and its refs are the real ones."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from ringside.core.v1 import metering_pb2
from ringside_server.metering.call import MeteredCall
from ringside_server.metering.gateway import Gateway
from ringside_server.metering.request import Answer, Caller, MeteredRequest
from ringside_server.metering.settlement import ABORTED, COMPLETED, FAILED
from ringside_server.providers.catalog.load import load
from ringside_server.providers.refs import Refs

CHUNK = b'data: {"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
USAGE = b'data: {"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n'


class FakeCore:
    """Authorizes every call; records every settle; no allowed_models list applies."""

    def __init__(self) -> None:
        self.settles: list[metering_pb2.SettleRequest] = []
        self.metering = SimpleNamespace(ModelPolicy="ModelPolicy")

    async def internal(self, method: str, request: Any) -> metering_pb2.ModelPolicyResponse:
        assert method == "ModelPolicy"
        return metering_pb2.ModelPolicyResponse()

    async def authorize(self, request: metering_pb2.AuthorizeRequest) -> metering_pb2.AuthorizeResponse:
        return metering_pb2.AuthorizeResponse(
            allowed=True, request_id=f"req_{id(request)}", livemode=True, max_output_tokens=100,
            hold_expires_at=int(time.time()) + 900,
        )  # fmt: skip

    async def settle(self, request: metering_pb2.SettleRequest) -> metering_pb2.SettleResponse:
        self.settles.append(request)
        return metering_pb2.SettleResponse()


class Upstream:
    """An OpenAI answer: a body, or SSE lines that may stop forever after `hang_after` lines."""

    def __init__(self, body: bytes = b"", lines: list[bytes] | None = None, hang_after: int | None = None) -> None:
        self.status, self.body, self._lines, self.hang_after = 200, body, lines or [], hang_after
        self.closed = False
        self.quiet = False  # set once the provider has stopped sending

    def content_type(self) -> str:
        return "application/json"

    def header(self, name: str) -> str | None:
        return None

    async def read(self, limit_bytes: int) -> bytes:
        return self.body

    async def lines(self) -> AsyncIterator[bytes]:
        for index, line in enumerate(self._lines):
            if index == self.hang_after:
                self.quiet = True
                await asyncio.Event().wait()  # a provider that stops sending
            yield line

    def close(self) -> None:
        self.closed = True


class Provider:
    id = "openai"

    def __init__(self, upstream: Upstream | Exception) -> None:
        self.upstream = upstream

    async def chat_completions(self, body: dict[str, Any]) -> Upstream:
        if isinstance(self.upstream, Exception):
            raise self.upstream
        return self.upstream


def frames_as_lines(*frames: bytes) -> list[bytes]:
    """SSE frames as the line reader yields them: each line with its newline, a blank line after."""
    lines: list[bytes] = []
    for frame in frames:
        lines += [frame.split(b"\n")[0] + b"\n", b"\n"]
    return lines


def gateway_of(core: FakeCore, provider: Provider) -> Gateway:
    providers: dict[str, Any] = {"openai": provider}
    return Gateway(settings=None, core=core, refs=Refs.of(load()), providers=providers)  # type: ignore[arg-type]


async def run(upstream: Upstream | Exception, stream: bool) -> tuple[FakeCore, Answer]:
    core = FakeCore()
    gateway = gateway_of(core, Provider(upstream))
    body = {"model": "fc:openai/gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "stream": stream}
    request = MeteredRequest(
        route="chat", body=body, model_ref=body["model"], input_tokens_bound=lambda m: 10, stream=stream
    )
    call = await MeteredCall.prepare(gateway, Caller(api_key="sk_live_x", live=True), request)
    answer = await call.run()
    assert isinstance(answer, Answer)
    return core, answer


def outcomes(core: FakeCore) -> list[int]:
    return [settle.outcome for settle in core.settles]


async def test_a_complete_answer_settles_once_as_completed_with_its_usage() -> None:
    body = orjson.dumps({"model": "gpt-4o-mini", "usage": {"prompt_tokens": 5, "completion_tokens": 2}})
    core, answer = await run(Upstream(body=body), stream=False)
    assert answer.body == body and answer.relay is None
    assert outcomes(core) == [COMPLETED] and core.settles[0].usage.output_tokens == 2


async def test_a_stream_read_to_its_end_settles_before_its_last_frame() -> None:
    core, answer = await run(Upstream(lines=frames_as_lines(CHUNK, USAGE, b"data: [DONE]")), stream=True)
    assert answer.relay is not None
    seen = []
    async for frame in answer.relay:
        if frame.startswith(b"data: [DONE]"):
            assert outcomes(core) == [COMPLETED]  # paid for before the client sees the end
        seen.append(frame)
    await answer.relay.close()
    assert seen[-1].startswith(b"data: [DONE]") and outcomes(core) == [COMPLETED]


async def test_a_client_that_leaves_mid_stream_is_settled_once_as_aborted_for_what_was_counted() -> None:
    upstream = Upstream(lines=frames_as_lines(CHUNK, CHUNK, USAGE, b"data: [DONE]"))
    core, answer = await run(upstream, stream=True)
    assert answer.relay is not None
    async for _ in answer.relay:
        break  # the client's socket is gone after the first frame
    await answer.relay.close(client_gone=True)
    await answer.relay.close(client_gone=True)  # closing twice settles nothing more
    assert outcomes(core) == [ABORTED] and upstream.closed
    assert core.settles[0].usage_estimated and core.settles[0].usage.output_tokens == 1


async def test_a_relay_never_read_still_settles_when_closed() -> None:
    core, answer = await run(Upstream(lines=frames_as_lines(CHUNK, b"data: [DONE]")), stream=True)
    assert answer.relay is not None and outcomes(core) == []
    await answer.relay.close()
    assert outcomes(core) == [FAILED]  # nothing generated reached anyone


async def test_a_cancelled_stream_settles_once_for_what_it_generated() -> None:
    upstream = Upstream(lines=frames_as_lines(CHUNK, CHUNK, b"data: [DONE]"), hang_after=4)
    core, answer = await run(upstream, stream=True)
    relay = answer.relay
    assert relay is not None

    async def read_all() -> None:
        async for _ in relay:
            pass

    reader = asyncio.ensure_future(read_all())
    for _ in range(10_000):  # bounded: until the provider has gone quiet mid-stream
        if upstream.quiet:
            break
        await asyncio.sleep(0)
    assert upstream.quiet
    reader.cancel()  # the edge shutting down, or a worker's task cancelled
    with pytest.raises(asyncio.CancelledError):
        await reader
    await relay.close()
    await relay.close()
    assert outcomes(core) == [ABORTED] and core.settles[0].usage.output_tokens == 2


async def test_an_unexpected_error_is_settled_as_failed_and_raised() -> None:
    core = FakeCore()
    gateway = gateway_of(core, Provider(ValueError("a bug")))
    body = {"model": "fc:openai/gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}
    request = MeteredRequest(route="chat", body=body, model_ref=body["model"], input_tokens_bound=lambda m: 10)
    call = await MeteredCall.prepare(gateway, Caller(api_key="sk_live_x", live=True), request)
    with pytest.raises(ValueError):
        await call.run()
    assert outcomes(core) == [FAILED]
