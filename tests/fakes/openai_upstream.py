"""A local fake of OpenAI's API (Chat Completions, embeddings, moderations, images, audio, the
Responses API of openai_responses.py, and the Files and Batch APIs of openai_batches.py), speaking
OpenAI's exact wire format.

Used by the test suite and the benchmarks as "the upstream provider". Answers are deterministic
(lorem-ipsum words, one word per token) so tests can assert exact token counts and bytes.

Faults are injected statelessly by a marker at the start of the last user message's text:
``[[fake:status=500]]``, ``[[fake:status=429]]``, ``[[fake:stall]]`` (no answer for an hour),
``[[fake:midstream_error]]`` (a stream drops after 3 token chunks; a non-stream drops before answering),
``[[fake:slow=MS]]`` (per-token interval). Several markers may be chained: ``[[fake:slow=20]][[fake:...]]``.

Run: ``python -m tests.fakes.openai_upstream --host 127.0.0.1 --port 8900``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import orjson
from aiohttp import web

from tests.fakes import (
    openai_audio,
    openai_batches,
    openai_embeddings,
    openai_images,
    openai_moderations,
    openai_responses,
)
from tests.fakes import openai_wire as wire
from tests.fakes.openai_request import (
    BadRequest,
    ChatRequest,
    Faults,
    last_user_text,
    parse_chat_request,
    parse_faults,
)

MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_RECORDED_REQUESTS = 1000
STALL_S = 3600.0
MIDSTREAM_ERROR_AFTER_TOKENS = 3
# The fake's own clients (tests, benchmarks) never need long graceful drains; stalled handlers must not
# hold a test's teardown for aiohttp's default 60 s.
SHUTDOWN_TIMEOUT_S = 0.5


@dataclass(frozen=True)
class FakeConfig:
    """How the fake behaves. ``api_key`` None accepts any (or no) Authorization header."""

    api_key: str | None = None
    latency_ms: float = 0.0
    token_interval_ms: float = 0.0
    default_completion_tokens: int = 16
    batch_step_ms: float = 0.0  # each step, and each line, of a batch (tests/fakes/openai_batches.py)


@dataclass
class RecordedRequest:
    """What the fake saw of one chat request, updated while its answer is sent.

    ``chunks_sent`` counts the JSON ``data:`` frames written (``[DONE]`` excluded); ``disconnected`` is
    True when the client went away before the answer was complete; ``status`` is the HTTP status sent,
    0 while (or if) none was.
    """

    body: Any
    headers: dict[str, str]
    completed: bool = False
    chunks_sent: int = 0
    disconnected: bool = False
    status: int = 0


CONFIG = web.AppKey("fake_config", FakeConfig)
RECORDS = web.AppKey("fake_records", deque[RecordedRequest])


def _error(record: RecordedRequest, status: int, message: str, **details: str | None) -> web.Response:
    record.status = status
    record.completed = True
    return web.Response(
        status=status, body=wire.error_body(status, message, **details), content_type="application/json"
    )


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


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """``POST /v1/chat/completions``: parse → apply faults → answer (JSON or SSE)."""
    config = request.app[CONFIG]
    record = RecordedRequest(body=None, headers={str(name): value for name, value in request.headers.items()})
    request.app[RECORDS].append(record)
    try:
        return await _answer_chat(request, config, record)
    except asyncio.CancelledError:
        record.disconnected = True
        raise


async def responses(request: web.Request) -> web.StreamResponse:
    """``POST /v1/responses`` (openai_responses.py): the same model, OpenAI's Responses format."""
    record = RecordedRequest(body=None, headers={str(name): value for name, value in request.headers.items()})
    request.app[RECORDS].append(record)
    return await _answer_chat(request, request.app[CONFIG], record, responses=True)


async def azure_chat_completions(request: web.Request) -> web.StreamResponse:
    """Azure OpenAI's ``POST /openai/deployments/{deployment}/chat/completions?api-version=…``:
    the key in ``api-key``; otherwise OpenAI's format (the path is recorded as ``x-fake-path``)."""
    config, record, refused = _azure_request(request)
    if refused is not None:
        return refused
    if not request.query.get("api-version"):
        return _error(record, 404, "Resource not found")
    return await _answer_chat(request, replace(config, api_key=None), record)


async def azure_responses(request: web.Request) -> web.StreamResponse:
    """Azure OpenAI's v1 ``POST /openai/v1/responses`` (the deployment in the body's ``model``, no
    api-version; the key in ``api-key``): otherwise OpenAI's Responses API."""
    config, record, refused = _azure_request(request)
    if refused is not None:
        return refused
    return await _answer_chat(request, replace(config, api_key=None), record, responses=True)


def _azure_request(request: web.Request) -> tuple[FakeConfig, RecordedRequest, web.Response | None]:
    """An Azure route's request recorded (its path as ``x-fake-path``), refused 401 without the key."""
    config = request.app[CONFIG]
    headers = {str(name): value for name, value in request.headers.items()}
    record = RecordedRequest(body=None, headers={**headers, "x-fake-path": request.path_qs})
    request.app[RECORDS].append(record)
    if config.api_key is not None and request.headers.get("api-key") != config.api_key:
        refused = _error(record, 401, "Access denied due to invalid subscription key or wrong API endpoint.")
        return config, record, refused
    return config, record, None


def _authorized(request: web.Request, config: FakeConfig) -> bool:
    return config.api_key is None or request.headers.get("Authorization") == f"Bearer {config.api_key}"


async def _answer_chat(
    request: web.Request, config: FakeConfig, record: RecordedRequest, responses: bool = False
) -> web.StreamResponse:
    if not _authorized(request, config):
        return _error(record, 401, "Incorrect API key provided.")
    try:
        record.body = orjson.loads(await request.read())
        chat = openai_responses.parse(record.body) if responses else parse_chat_request(record.body)
    except orjson.JSONDecodeError:
        return _error(record, 400, "We could not parse the JSON body of your request.")
    except BadRequest as bad:
        return _error(record, 400, bad.message, param=bad.param, code=bad.code)
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
        return _error(record, faults.status, message)
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


def _batch_line(app: web.Application, url: str, body: Any) -> tuple[int, dict[str, Any]]:
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


async def _recorded_answer(request: web.Request, answer: Callable[[Any], web.Response]) -> web.Response:
    """A JSON route recorded like chat requests: authorized, parsed, answered by `answer`."""
    record = RecordedRequest(body=None, headers={str(name): value for name, value in request.headers.items()})
    request.app[RECORDS].append(record)
    if not _authorized(request, request.app[CONFIG]):
        return _error(record, 401, "Incorrect API key provided.")
    try:
        record.body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return _error(record, 400, "We could not parse the JSON body of your request.")
    response = answer(record.body)
    record.status, record.completed = response.status, True
    return response


async def embeddings(request: web.Request) -> web.Response:
    """``POST /v1/embeddings`` (tests/fakes/openai_embeddings.py)."""
    return await _recorded_answer(request, openai_embeddings.answer)


async def moderations(request: web.Request) -> web.Response:
    """``POST /v1/moderations`` (tests/fakes/openai_moderations.py)."""
    return await _recorded_answer(request, openai_moderations.answer)


async def images_generations(request: web.Request) -> web.Response:
    """``POST /v1/images/generations`` (tests/fakes/openai_images.py)."""
    return await _recorded_answer(request, openai_images.answer)


async def images_form(request: web.Request) -> web.Response:
    """``POST /v1/images/edits`` and ``/variations``: a multipart body, recorded and answered."""
    record = RecordedRequest(body=None, headers={str(name): value for name, value in request.headers.items()})
    request.app[RECORDS].append(record)
    if not _authorized(request, request.app[CONFIG]):
        return _error(record, 401, "Incorrect API key provided.")
    record.body = await openai_images.read_form(request)
    response = openai_images.answer(record.body)
    record.status, record.completed = response.status, True
    return response


async def audio_speech(request: web.Request) -> web.Response:
    """``POST /v1/audio/speech`` (tests/fakes/openai_audio.py)."""
    return await _recorded_answer(request, openai_audio.speech)


async def audio_form(request: web.Request) -> web.Response:
    """``POST /v1/audio/transcriptions`` and ``/translations``: multipart, recorded and answered."""
    record = RecordedRequest(body=None, headers={str(name): value for name, value in request.headers.items()})
    request.app[RECORDS].append(record)
    if not _authorized(request, request.app[CONFIG]):
        return _error(record, 401, "Incorrect API key provided.")
    record.body = await openai_images.read_form(request)
    task = "translate" if request.path.endswith("translations") else "transcribe"
    response = openai_audio.transcript(record.body, task)
    record.status, record.completed = response.status, True
    return response


async def list_models(request: web.Request) -> web.Response:
    """``GET /v1/models``."""
    if not _authorized(request, request.app[CONFIG]):
        body = wire.error_body(401, "Incorrect API key provided.")
        return web.Response(status=401, body=body, content_type="application/json")
    return web.Response(body=orjson.dumps(wire.model_list(1_700_000_000)), content_type="application/json")


async def recorded_requests(request: web.Request) -> web.Response:
    """``GET /_fake/requests``: every recorded chat request, newest last."""
    return web.Response(
        body=orjson.dumps([asdict(record) for record in request.app[RECORDS]]),
        content_type="application/json",
    )


async def clear_recorded_requests(request: web.Request) -> web.Response:
    """``DELETE /_fake/requests``."""
    request.app[RECORDS].clear()
    return web.Response(status=204)


@web.middleware
async def openai_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Render routing failures (404, 405) in OpenAI's error envelope, as OpenAI does."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as failure:
        if failure.status < 400:
            raise
        message = f"Invalid URL ({request.method} {request.path})"
        body = wire.error_body(failure.status, message)
        return web.Response(status=failure.status, body=body, content_type="application/json")


def create_app(config: FakeConfig) -> web.Application:
    """The fake as an aiohttp application."""
    app = web.Application(middlewares=[openai_errors], client_max_size=MAX_BODY_BYTES)
    app[CONFIG] = config
    app[RECORDS] = deque(maxlen=MAX_RECORDED_REQUESTS)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/responses", responses)
    app.router.add_get("/v1/models", list_models)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_post("/v1/moderations", moderations)
    app.router.add_post("/v1/images/generations", images_generations)
    app.router.add_post("/v1/images/edits", images_form)
    app.router.add_post("/v1/images/variations", images_form)
    app.router.add_post("/v1/audio/speech", audio_speech)
    app.router.add_post("/v1/audio/transcriptions", audio_form)
    app.router.add_post("/v1/audio/translations", audio_form)
    app.router.add_post("/openai/deployments/{deployment}/chat/completions", azure_chat_completions)
    app.router.add_post("/openai/v1/responses", azure_responses)
    openai_batches.add_routes(
        app, lambda url, body: _batch_line(app, url, body), lambda r: _authorized(r, config), config.batch_step_ms
    )
    app.router.add_get("/_fake/requests", recorded_requests)
    app.router.add_delete("/_fake/requests", clear_recorded_requests)
    return app


@asynccontextmanager
async def running_fake(config: FakeConfig | None = None) -> AsyncIterator[str]:
    """Serve the fake on a free 127.0.0.1 port; yields its base URL ``http://127.0.0.1:PORT/v1``."""
    runner = web.AppRunner(
        create_app(config or FakeConfig()),
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


@dataclass(frozen=True)
class CommandLine:
    """Arguments of ``python -m tests.fakes.openai_upstream``."""

    host: str = "127.0.0.1"
    port: int = 8900
    config: FakeConfig = field(default_factory=FakeConfig)


def parse_command_line(argv: list[str] | None = None) -> CommandLine:
    """Parse the CLI into a :class:`CommandLine`."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.openai_upstream", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--api-key", default=None, help="require 'Authorization: Bearer <key>'")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before any answer starts")
    parser.add_argument("--token-interval-ms", type=float, default=0.0, help="delay before each token")
    parser.add_argument("--default-completion-tokens", type=int, default=16)
    parser.add_argument("--batch-step-ms", type=float, default=0.0, help="delay of each step and line of a batch")
    args = parser.parse_args(argv)
    config = FakeConfig(
        api_key=args.api_key,
        latency_ms=args.latency_ms,
        token_interval_ms=args.token_interval_ms,
        default_completion_tokens=args.default_completion_tokens,
        batch_step_ms=args.batch_step_ms,
    )
    return CommandLine(host=args.host, port=args.port, config=config)


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until SIGINT/SIGTERM, on uvloop."""
    import uvloop

    command = parse_command_line(argv)
    web.run_app(
        create_app(command.config),
        host=command.host,
        port=command.port,
        access_log=None,
        handler_cancellation=True,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        backlog=4096,
        loop=uvloop.new_event_loop(),
    )


if __name__ == "__main__":
    main()
