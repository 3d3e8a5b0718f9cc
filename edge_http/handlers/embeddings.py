"""POST /v1/embeddings: the same refs and metering as chat; the answer is relayed as it came (float
or base64, as the client asked)."""

from __future__ import annotations

from aiohttp import web

from edge_http.handlers.metered import metered
from ringside_server.openai.types import embeddings as wire


async def embeddings(request: web.Request) -> web.StreamResponse:
    return await metered(request, wire.metered_request)
