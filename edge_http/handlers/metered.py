"""Every metered route's one handler shape: parse (the route's types module) → MeteredCall → render.

A route gives `metered` its parse function; everything else — who calls, 401-before-400, the
call's life, writing a complete body or relaying a stream, a client that leaves — is here, once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from edge_http.client_tokens import token_of
from edge_http.context import EDGE, Edge
from edge_http.handlers.common import bearer, client_ip, reject, verify_then_raise
from edge_http.rate_limits import admitted
from ringside.core.v1 import metering_pb2
from ringside_server.errors import RingsideError
from ringside_server.metering.call import MeteredCall
from ringside_server.metering.request import Answer, Caller, MeteredRequest
from ringside_server.observability import calls

CLIENT_GONE = (ConnectionResetError, ConnectionError)
MAX_USER_CHARS = 255  # as an external id (API.md "Bodies")
# (the request body's bytes, whether this is the peer proxy's route) → the validated request
Parse = Callable[[bytes, bool], MeteredRequest]
# A route that answers in another wire format than OpenAI's rewrites the answer (its body or frames)
Reshape = Callable[[Answer], Answer]


def _as_is(answer: Answer) -> Answer:
    return answer


def caller_of(edge: Edge, request: web.Request) -> Caller:
    """The caller as the core's admission sees it: key, FC-Customer, IP, and a browser's token."""
    api_key = bearer(request)
    token = token_of(request)  # a browser's call: verified by the client_tokens middleware
    return Caller(
        api_key=api_key,
        live=api_key.startswith("sk_live_") or (token is not None and token[1].livemode),
        customer_ref=request.headers.get("FC-Customer", "").strip(),
        client_ip=client_ip(request, edge.trusted_proxies),
        client_token=token[0] if token else "",
        client_token_id=token[1].jti if token else "",
    )


def check_user(user: object) -> None:
    """`user` is the one field of a model body Ringside reads as text (it may name the customer, as
    an external id does), so it has the external id's bounds: a 4 MiB `user` overflowed the core's
    gRPC message (a 500), and PostgreSQL cannot look up a NUL."""
    if isinstance(user, str) and (len(user) > MAX_USER_CHARS or "\x00" in user):
        message = f"user must be at most {MAX_USER_CHARS} characters, without NUL."
        raise RingsideError("invalid_request", message, "user")


async def metered(request: web.Request, parse: Parse, reshape: Reshape = _as_is) -> web.StreamResponse:
    """Run one metered call for `request` and write its answer."""

    async def read() -> MeteredRequest:
        # The peer proxy's routes (no /v1) take a bare model name as the name of a slot.
        return parse(await request.read(), not request.path.startswith("/v1/"))

    return await metered_from(request, read, reshape)


async def metered_from(
    request: web.Request, read: Callable[[], Awaitable[MeteredRequest]], reshape: Reshape = _as_is
) -> web.StreamResponse:
    """`metered` for a route that reads its own body (a multipart form)."""
    edge = request.app[EDGE]
    caller = caller_of(edge, request)
    try:
        wanted = await read()
        check_user(wanted.body.get("user"))
        call = await MeteredCall.prepare(edge, caller, wanted)
    except RingsideError as error:
        if not caller.client_token:  # a request refused for its content is refused for its key first
            await verify_then_raise(edge, caller.api_key, error)
        raise
    answer = await call.run()
    if isinstance(answer, metering_pb2.Denial):
        return reject(request, answer)
    admitted(request)
    return await render(request, reshape(answer))


async def render(request: web.Request, answer: Answer) -> web.StreamResponse:
    """A complete body as one response; a relay written frame by frame, always closed."""
    if answer.relay is None:
        return web.Response(
            status=answer.status, body=answer.body, content_type=answer.content_type, headers=answer.headers
        )
    relay = answer.relay
    response = web.StreamResponse(status=answer.status, headers=answer.headers)
    client_gone = False
    try:
        await response.prepare(request)
        async for frame in relay:
            await response.write(frame)
            calls.first_byte()
        await response.write_eof()
    except CLIENT_GONE:
        client_gone = True  # the call settles as aborted, for what was counted
    finally:
        await asyncio.shield(relay.close(client_gone))
    return response
