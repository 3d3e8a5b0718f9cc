"""Anthropic's Messages API: `POST /v1/messages`, metered like chat (any provider serves it,
translated), and `POST /v1/messages/count_tokens`, not metered (API.md "Model calls")."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import bearer, principal
from edge_http.handlers.metered import metered_from
from edge_http.middlewares import REQUEST_ID
from edge_http.openai.jsonio import dumps, parse_model_body
from ringside_server.messages import answer
from ringside_server.messages.request import chat_body
from ringside_server.messages.response import error_bytes
from ringside_server.messages.tokens import count_tokens as count
from ringside_server.metering.request import MeteredRequest
from ringside_server.openai.errors import provider_error
from ringside_server.openai.types import messages as wire
from ringside_server.providers.anthropic.provider import AnthropicProvider

# What Anthropic's count_tokens takes of a Messages request
COUNTED_FIELDS = ("messages", "system", "tools", "tool_choice", "thinking")
MAX_COUNT_ANSWER_BYTES = 64 * 1024


async def messages(request: web.Request) -> web.StreamResponse:
    async def read() -> MeteredRequest:
        return wire.metered_request(await request.read(), request.headers.get("anthropic-beta", "").strip())

    return await metered_from(request, read, answer.reshape)


async def count_tokens(request: web.Request) -> web.Response:
    """`{"input_tokens": n}`: Anthropic's own count for a live key's Anthropic model, else counted
    here without a provider call. The key is checked first."""
    edge = request.app[EDGE]
    await principal(edge, request)
    raw = parse_model_body(await request.read())
    body = chat_body(raw, with_max_tokens=False)  # checks the request as a call would
    api_key = bearer(request)
    model = (await edge.resolve_model(body["model"], api_key))[0]
    provider = edge.providers.get(model.provider)
    if api_key.startswith("sk_live_") and isinstance(provider, AnthropicProvider):
        native: dict[str, Any] = {name: raw[name] for name in COUNTED_FIELDS if name in raw}
        upstream = await provider.count_tokens({**native, "model": model.name})
        payload = await upstream.read(MAX_COUNT_ANSWER_BYTES)
        if upstream.status >= 400:  # its 4xx kept (in Anthropic's shape), its 5xx and auth errors a 502
            status, openai_body = provider_error(upstream.status, payload, request[REQUEST_ID])
            return web.Response(status=status, body=error_bytes(status, openai_body), content_type="application/json")
        return web.Response(body=payload, content_type="application/json")
    return web.Response(body=dumps({"input_tokens": count(body, model)}), content_type="application/json")
