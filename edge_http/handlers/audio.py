"""OpenAI's audio routes, metered: speech per input character (its audio relayed as the provider
sent it), transcriptions and translations (multipart, ≤ 25 MiB) per second or per token as the
model is priced, answered in the format the client asked for."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from aiohttp import web

from edge_http.handlers.metered import metered, metered_from
from edge_http.openai.jsonio import parse_model_body
from edge_http.openai.multipart import read_form
from ringside_server.metering.request import Answer, MeteredRequest
from ringside_server.openai import transcript_formats
from ringside_server.openai.types import audio as wire

MAX_FORM_BYTES = 25 * 1024 * 1024  # API.md "Bodies": multipart audio (OpenAI's limit)


async def speech(request: web.Request) -> web.StreamResponse:
    return await metered(request, lambda raw, peer: wire.speech_request(parse_model_body(raw)))


async def transcriptions(request: web.Request) -> web.StreamResponse:
    return await _transcript(request, wire.transcription_request)


async def translations(request: web.Request) -> web.StreamResponse:
    return await _transcript(request, wire.translation_request)


async def _transcript(request: web.Request, build: Callable[[dict[str, object]], MeteredRequest]) -> web.StreamResponse:
    wanted = ["json"]

    async def read() -> MeteredRequest:
        form = await read_form(request, MAX_FORM_BYTES)
        wanted[0] = str(form.get("response_format") or "json")
        return build(form)

    def reshape(answer: Answer) -> Answer:
        """The upstream answered JSON (it says what the call cost): render the format asked for."""
        if answer.relay is not None or answer.status != 200 or wanted[0] not in transcript_formats.CONTENT_TYPES:
            return answer
        body = transcript_formats.render(orjson.loads(answer.body), wanted[0])
        content_type = transcript_formats.CONTENT_TYPES[wanted[0]]
        return Answer(answer.status, answer.headers, body, content_type=content_type)

    return await metered_from(request, read, reshape)
