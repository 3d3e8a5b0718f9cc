"""The OpenAI fake's chat answer (tests/fakes/openai_upstream.py): faults applied, the answer planned
(deterministic tokens), then sent as JSON or as an SSE stream; also the Chat Completions and Responses
answer of one batch line."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from tests.fakes import openai_embeddings, openai_moderations, openai_responses
from tests.fakes import openai_wire as wire
from tests.fakes.openai_request import BadRequest, ChatRequest, Faults, last_user_text, parse_chat_request, parse_faults
from tests.fakes.openai_state import CONFIG, RECORDS, FakeConfig, RecordedRequest, authorized, error

STALL_S = 3600.0
MIDSTREAM_ERROR_AFTER_TOKENS = 3


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _wait_until_client_gone(request: web.Request, timeout_s: float) -> None:
    # aiohttp only cancels handlers on disconnect when handler_cancellation is on, which an embedding
    # runner may not set; polling the transport ends the stall either way.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not _client_gone(request) and loop.time() < deadline:  # noqa: ASYNC110 - no disconnect event
        await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))


async def answer_chat(
    request: web.Request, config: FakeConfig, record: RecordedRequest, responses: bool = False
) -> web.StreamResponse:
    if not authorized(request, config):
        return error(record, 401, "Incorrect API key provided.")
    try:
        record.body = orjson.loads(await request.read())
        chat = openai_responses.parse(record.body) if responses else parse_chat_request(record.body)
    except orjson.JSONDecodeError:
        return error(record, 400, "We could not parse the JSON body of your request.")
    except BadRequest as bad:
        return error(record, 400, bad.message, param=bad.param, code=bad.code)
    faults = parse_faults(last_user_text(chat.messages))
    if config.latency_ms:
        await asyncio.sleep(config.latency_ms / 1000)
    if faults.stall:
        await _wait_until_client_gone(request, STALL_S)
        if _client_gone(request):
            record.disconnected = True
            return web.Response(status=499)
    if faults.status is not None:
        message = wire.STATUS_MESSAGES.get(faults.status, f"Injected failure (status {faults.status}).")
        return error(record, faults.status, message)
    answer = _Answer.plan(chat, config, faults, record)
    if responses:
        incomplete = answer.finish_reason == "length"
        sent = await openai_responses.answer(request, record.body, chat, answer.tokens, incomplete, faults)
        record.status, record.completed = sent.status, sent.status == 200
        return sent
    return await (_stream(request, answer) if chat.stream else _complete(request, answer))


@dataclass(frozen=True)
class _Answer:
    """Everything decided about one answer before its first byte is sent."""

    chat: ChatRequest
    tokens: list[str]
    finish_reason: str
    interval_s: float
    midstream_error: bool
    record: RecordedRequest

    @classmethod
    def plan(cls, chat: ChatRequest, config: FakeConfig, faults: Faults, record: RecordedRequest) -> _Answer:
        default = config.default_completion_tokens
        count = min(chat.max_tokens or default, default)
        interval_ms = faults.slow_ms if faults.slow_ms is not None else config.token_interval_ms
        if chat.tool_call is not None:  # the arguments, four characters a token
            arguments = chat.tool_call[1]
            tokens, finish = [arguments[i : i + 4] for i in range(0, len(arguments), 4)], "tool_calls"
        else:
            tokens, finish = wire.completion_tokens(count), "length" if count < default else "stop"
        return cls(
            chat=chat,
            tokens=tokens,
            finish_reason=finish,
            interval_s=interval_ms / 1000,
            midstream_error=faults.midstream_error,
            record=record,
        )

    def usage(self) -> dict[str, Any]:
        completion_tokens = len(self.tokens) * self.chat.choice_count
        return wire.usage(wire.count_prompt_tokens(self.chat.messages), completion_tokens)


async def _complete(request: web.Request, answer: _Answer) -> web.StreamResponse:
    if answer.midstream_error and request.transport is not None:
        # A non-stream has no "middle": drop the connection before any byte of the answer.
        request.transport.abort()
        return web.Response(status=499)
    # A non-streamed answer takes as long to generate as the streamed one would.
    if answer.interval_s:
        await asyncio.sleep(answer.interval_s * len(answer.tokens))
    return web.Response(body=orjson.dumps(_completion_body(answer)), content_type="application/json")


def _completion_body(answer: _Answer) -> dict[str, Any]:
    chat = answer.chat
    identity = wire.Identity.of(chat.model, chat.messages)
    text = "".join(answer.tokens)
    body = wire.completion(identity, chat.model, text, chat.choice_count, answer.finish_reason, answer.usage())
    if chat.tool_call is not None:
        for choice in body["choices"]:
            choice["message"].update(content=None, tool_calls=[wire.tool_call(identity, *chat.tool_call)])
    answer.record.status = 200
    answer.record.completed = True
    return body


def batch_line(app: web.Application, url: str, body: Any) -> tuple[int, dict[str, Any]]:
    """One line of a batch (tests/fakes/openai_batches.py), answered as its endpoint answers it and
    recorded like a request (header `x-fake-batch`), without the latency a request waits."""
    record = RecordedRequest(body=body, headers={"x-fake-batch": "true"})
    app[RECORDS].append(record)
    if url == "/v1/chat/completions":
        try:
            chat = parse_chat_request(body)
        except BadRequest as bad:
            record.status, record.completed = 400, True
            return 400, orjson.loads(wire.error_body(400, bad.message, param=bad.param, code=bad.code))
        faults = parse_faults(last_user_text(chat.messages))
        if faults.status is not None:
            record.status, record.completed = faults.status, True
            message = wire.STATUS_MESSAGES.get(faults.status, f"Injected failure (status {faults.status}).")
            return faults.status, orjson.loads(wire.error_body(faults.status, message))
        return 200, _completion_body(_Answer.plan(chat, app[CONFIG], faults, record))
    answer = {"/v1/embeddings": openai_embeddings.answer, "/v1/moderations": openai_moderations.answer}.get(url)
    response = answer(body) if answer is not None else None
    if response is None or not isinstance(response.body, bytes):
        record.status, record.completed = 404, True
        return 404, orjson.loads(wire.error_body(404, f"Invalid URL (POST {url})"))
    record.status, record.completed = response.status, True
    return response.status, orjson.loads(response.body)


async def _stream(request: web.Request, answer: _Answer) -> web.StreamResponse:
    chat, record = answer.chat, answer.record
    framer = wire.ChunkFramer(wire.Identity.of(chat.model, chat.messages), chat.model, chat.include_usage)
    choices = range(chat.choice_count)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
    await response.prepare(request)
    record.status = response.status

    async def send(frame: bytes) -> None:
        await response.write(frame)
        record.chunks_sent += 1

    try:
        for index in choices:
            if chat.tool_call is None:
                await send(framer.choice(index, {"role": "assistant", "content": "", "refusal": None}))
            else:
                call = {"index": 0, **wire.tool_call(framer.identity, chat.tool_call[0], "")}
                await send(framer.choice(index, {"role": "assistant", "content": None, "tool_calls": [call]}))
        for position, token in enumerate(answer.tokens):
            if answer.midstream_error and position == MIDSTREAM_ERROR_AFTER_TOKENS and request.transport:
                request.transport.abort()
                return response
            if answer.interval_s:
                await asyncio.sleep(answer.interval_s)
            for index in choices:
                delta = {"content": token} if chat.tool_call is None else wire.arguments_delta(token)
                await send(framer.choice(index, delta))
        for index in choices:
            await send(framer.choice(index, {}, answer.finish_reason))
        if chat.include_usage:
            await send(framer.usage(answer.usage()))
        await response.write(wire.DONE_FRAME)
        await response.write_eof()
    except ConnectionResetError:
        # The client went away; aiohttp raises this on the first write after the socket closed.
        record.disconnected = True
        return response
    record.completed = True
    return response
