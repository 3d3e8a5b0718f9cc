"""OpenAI's image routes, metered per image: generations (JSON), edits and variations (multipart,
bounded at 64 MiB)."""

from __future__ import annotations

from aiohttp import web

from edge_http.handlers.metered import metered, metered_from
from edge_http.openai.jsonio import parse_model_body
from edge_http.openai.multipart import read_form
from ringside_server.metering.request import MeteredRequest
from ringside_server.openai.types import images as wire

MAX_FORM_BYTES = 64 * 1024 * 1024  # API.md "Bodies": multipart images


async def generations(request: web.Request) -> web.StreamResponse:
    return await metered(request, lambda raw, peer: wire.generation_request(parse_model_body(raw)))


async def edits(request: web.Request) -> web.StreamResponse:
    async def read() -> MeteredRequest:
        return wire.edit_request(await read_form(request, MAX_FORM_BYTES))

    return await metered_from(request, read)


async def variations(request: web.Request) -> web.StreamResponse:
    async def read() -> MeteredRequest:
        return wire.variation_request(await read_form(request, MAX_FORM_BYTES))

    return await metered_from(request, read)
