"""POST /v1/moderations: metered like every model call, at the catalog price (0 for OpenAI's
moderation models, which are free)."""

from __future__ import annotations

from aiohttp import web

from edge_http.handlers.metered import metered
from ringside_server.openai.types import moderations as wire


async def moderations(request: web.Request) -> web.StreamResponse:
    return await metered(request, wire.metered_request)
