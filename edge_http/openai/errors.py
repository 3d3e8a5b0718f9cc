"""The one error renderer: `{"error": {type, code, message, param, request_id, retry_after_seconds}}`,
or, on Anthropic's `/v1/messages` routes, Anthropic's `{"type": "error", "error": {…}}`."""

from __future__ import annotations

import orjson
from aiohttp import web

from ringside_server.errors import RingsideError
from ringside_server.messages import response as messages
from ringside_server.openai.errors import error_body

__all__ = ["anthropic_route", "error_body", "error_response"]


def anthropic_route(path: str) -> bool:
    """Whether `path` answers in Anthropic's error shape (API.md "Errors")."""
    return path == "/v1/messages" or path.startswith("/v1/messages/")


def error_response(
    error: RingsideError,
    request_id: str,
    should_retry: bool | None = None,
    retry_after_ms: int | None = None,
    anthropic: bool = False,
) -> web.Response:
    headers = {"x-request-id": request_id}
    if error.retry_after_seconds:
        headers["Retry-After"] = str(error.retry_after_seconds)
        headers["retry-after-ms"] = str(retry_after_ms or error.retry_after_seconds * 1000)
    if should_retry is not None:
        headers["x-should-retry"] = "true" if should_retry else "false"
    body = error_body(error, request_id)
    if anthropic:
        body = orjson.dumps(messages.error(error.status, orjson.loads(body)["error"]))
    return web.Response(status=error.status, body=body, content_type="application/json", headers=headers)
