"""GET /openapi.json: Ringside's OpenAPI document (edge_http/openapi/openapi.yaml), no key needed."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from edge_http.openapi.document import load_document

Handler = Callable[[web.Request], Awaitable[web.Response]]


def document_handler() -> Handler:
    """A handler serving the document, converted from YAML to JSON once, when the routes are added
    at start-up (a document that does not load stops the edge there, not on a request)."""
    # The standard library, not orjson: OpenAI's schemas hold integer bounds past 64 bits.
    body = json.dumps(load_document(), ensure_ascii=False, separators=(",", ":")).encode()

    async def openapi_document(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json", headers={"Cache-Control": "max-age=300"})

    return openapi_document
