"""The one error renderer: `{"error": {type, code, message, param, request_id, retry_after_seconds}}`."""

from __future__ import annotations

from aiohttp import web

from edge_http.openai.jsonio import dumps
from ringside_server.errors import RingsideError, type_of


def error_body(error: RingsideError, request_id: str) -> bytes:
    return dumps(
        {
            "error": {
                "type": type_of(error.status),
                "code": error.code,
                "message": error.message,
                "param": error.param,
                "request_id": request_id,
                "retry_after_seconds": error.retry_after_seconds,
            }
        }
    )


def provider_error_response(status: int, payload: bytes, request_id: str, headers: dict[str, str]) -> web.Response:
    """A provider's error before the first byte: 4xx pass through (OpenAI's own envelope), 5xx → 502,
    overloaded (503; Anthropic's 529 arrives as 503) → 503 model_unavailable."""
    if status < 500 and status not in (401, 403, 408):
        return web.Response(status=status, body=payload, content_type="application/json", headers=headers)
    # The provider refusing Ringside's own credentials is the operator's problem, not the caller's
    # key: never pass a provider 401/403 (whose body may quote the operator's key) through.
    code = "upstream_timeout" if status in (408, 504) else "upstream_error"
    if status == 503:
        code = "model_unavailable"
    error = RingsideError(code, f"The provider answered {status}.")
    return web.Response(
        status=error.status, body=error_body(error, request_id), content_type="application/json", headers=headers
    )


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
