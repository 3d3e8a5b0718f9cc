"""The one error renderer: `{"error": {type, code, message, param, request_id, retry_after_seconds}}`."""

from __future__ import annotations

from aiohttp import web

from ringside_server.errors import RingsideError
from ringside_server.openai.errors import error_body

__all__ = ["error_body", "error_response"]


def error_response(
    error: RingsideError, request_id: str, should_retry: bool | None = None, retry_after_ms: int | None = None
) -> web.Response:
    headers = {"x-request-id": request_id}
    if error.retry_after_seconds:
        headers["Retry-After"] = str(error.retry_after_seconds)
        headers["retry-after-ms"] = str(retry_after_ms or error.retry_after_seconds * 1000)
    if should_retry is not None:
        headers["x-should-retry"] = "true" if should_retry else "false"
    return web.Response(
        status=error.status, body=error_body(error, request_id), content_type="application/json", headers=headers
    )
