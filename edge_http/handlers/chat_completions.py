"""POST /v1/chat/completions (and the peer's /chat/completions): parse → MeteredCall → render.

The call's life — resolve, hold the upper bound, send upstream, relay (SSE byte for byte), settle
the real usage — is ringside_server/metering/call.py's; the body's rules are
ringside_server/openai/types/chat.py's."""

from __future__ import annotations

from aiohttp import web

from edge_http.handlers.metered import metered
from ringside_server.openai.types import chat


async def chat_completions(request: web.Request) -> web.StreamResponse:
    return await metered(request, chat.metered_request)
