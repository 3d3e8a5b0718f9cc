"""Anthropic's Messages API: `POST /v1/messages`, metered like chat (any provider serves it,
translated), and `POST /v1/messages/count_tokens`, not metered (API.md "Model calls")."""

from __future__ import annotations

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import bearer, principal
from edge_http.handlers.metered import metered
from edge_http.openai.jsonio import dumps, parse_object
from edge_http.openai.types import messages as wire
from ringside_server.messages import answer
from ringside_server.messages.request import chat_body
from ringside_server.messages.tokens import count_tokens as count


async def messages(request: web.Request) -> web.StreamResponse:
    return await metered(request, wire.metered_request, answer.reshape)


async def count_tokens(request: web.Request) -> web.Response:
    """`{"input_tokens": n}` for the request as it would be sent; the key is checked first."""
    edge = request.app[EDGE]
    await principal(edge, request)
    body = chat_body(parse_object(await request.read()), with_max_tokens=False)
    models = await edge.resolve_model(body["model"], bearer(request), False)
    return web.Response(body=dumps({"input_tokens": count(body, models[0])}), content_type="application/json")
