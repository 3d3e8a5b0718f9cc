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
)
from tests.fakes import openai_wire as wire
from tests.fakes.openai_chat import answer_chat, batch_line
from tests.fakes.openai_state import CONFIG, RECORDS, FakeConfig, RecordedRequest, authorized, error

MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_RECORDED_REQUESTS = 1000
# The fake's own clients (tests, benchmarks) never need long graceful drains; stalled handlers must not
# hold a test's teardown for aiohttp's default 60 s.
SHUTDOWN_TIMEOUT_S = 0.5


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """``POST /v1/chat/completions``: parse → apply faults → answer (JSON or SSE)."""
    config = request.app[CONFIG]
    record = RecordedRequest(body=None, headers={str(name): value for name, value in request.headers.items()})
    request.app[RECORDS].append(record)
    try:
        return await answer_chat(request, config, record)
    except asyncio.CancelledError:
        record.disconnected = True
        raise


async def responses(request: web.Request) -> web.StreamResponse:
    """``POST /v1/responses`` (openai_responses.py): the same model, OpenAI's Responses format."""
    record = RecordedRequest(body=None, headers={str(name): value for name, value in request.headers.items()})
    request.app[RECORDS].append(record)
    return await answer_chat(request, request.app[CONFIG], record, responses=True)


async def azure_chat_completions(request: web.Request) -> web.StreamResponse:
    """Azure OpenAI's ``POST /openai/deployments/{deployment}/chat/completions?api-version=…``:
    the key in ``api-key``; otherwise OpenAI's format (the path is recorded as ``x-fake-path``)."""
    config, record, refused = _azure_request(request)
    if refused is not None:
        return refused
    if not request.query.get("api-version"):
        return error(record, 404, "Resource not found")
    return await answer_chat(request, replace(config, api_key=None), record)


async def azure_responses(request: web.Request) -> web.StreamResponse:
    """Azure OpenAI's v1 ``POST /openai/v1/responses`` (the deployment in the body's ``model``, no
    api-version; the key in ``api-key``): otherwise OpenAI's Responses API."""
    config, record, refused = _azure_request(request)
    if refused is not None:
        return refused
    return await answer_chat(request, replace(config, api_key=None), record, responses=True)


def _azure_request(request: web.Request) -> tuple[FakeConfig, RecordedRequest, web.Response | None]:
    """An Azure route's request recorded (its path as ``x-fake-path``), refused 401 without the key."""
    config = request.app[CONFIG]
    headers = {str(name): value for name, value in request.headers.items()}
    record = RecordedRequest(body=None, headers={**headers, "x-fake-path": request.path_qs})
    request.app[RECORDS].append(record)
    if config.api_key is not None and request.headers.get("api-key") != config.api_key:
        refused = error(record, 401, "Access denied due to invalid subscription key or wrong API endpoint.")
        return config, record, refused
    return config, record, None


async def _recorded_answer(request: web.Request, answer: Callable[[Any], web.Response]) -> web.Response:
    """A JSON route recorded like chat requests: authorized, parsed, answered by `answer`."""
    record = RecordedRequest(body=None, headers={str(name): value for name, value in request.headers.items()})
    request.app[RECORDS].append(record)
    if not authorized(request, request.app[CONFIG]):
        return error(record, 401, "Incorrect API key provided.")
    try:
        record.body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return error(record, 400, "We could not parse the JSON body of your request.")
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
    if not authorized(request, request.app[CONFIG]):
        return error(record, 401, "Incorrect API key provided.")
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
    if not authorized(request, request.app[CONFIG]):
        return error(record, 401, "Incorrect API key provided.")
    record.body = await openai_images.read_form(request)
    task = "translate" if request.path.endswith("translations") else "transcribe"
    response = openai_audio.transcript(record.body, task)
    record.status, record.completed = response.status, True
    return response


async def list_models(request: web.Request) -> web.Response:
    """``GET /v1/models``."""
    if not authorized(request, request.app[CONFIG]):
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
        app, lambda url, body: batch_line(app, url, body), lambda r: authorized(r, config), config.batch_step_ms
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
