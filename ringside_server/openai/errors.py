"""OpenAI's error envelope as bytes, and what a provider's error before the first byte becomes.
Transport-free: the edge renders these onto HTTP responses (edge_http/openai/errors.py)."""

from __future__ import annotations

from typing import Any

import orjson

from ringside_server.errors import RingsideError, type_of
from ringside_server.jsonio import dumps


def error_body(error: RingsideError, request_id: str) -> bytes:
    """`{"error": {type, code, message, param, request_id, retry_after_seconds}}`."""
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


def provider_error(status: int, payload: bytes, request_id: str) -> tuple[int, bytes]:
    """A provider's error before the first byte, as (status, body): a 4xx keeps its status and its
    envelope's type, code, message and param, with Ringside's request_id (API.md "Model calls");
    5xx → 502, overloaded (503; Anthropic's 529 arrives as 503) → 503 model_unavailable."""
    if status < 500 and status not in (401, 403, 408):
        return status, _with_request_id(payload, request_id)
    # The provider refusing Ringside's own credentials is the operator's problem, not the caller's
    # key: never pass a provider 401/403 (whose body may quote the operator's key) through.
    code = "upstream_timeout" if status in (408, 504) else "upstream_error"
    if status == 503:
        code = "model_unavailable"
    error = RingsideError(code, f"The provider answered {status}.")
    return error.status, error_body(error, request_id)


def _with_request_id(payload: bytes, request_id: str) -> bytes:
    """The provider's `{"error": {…}}` with Ringside's request_id; any other body is passed as it came."""
    try:
        parsed: Any = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        return payload
    kept = {name: error.get(name) for name in ("type", "code", "message", "param")}
    return dumps({"error": {**kept, "request_id": request_id, "retry_after_seconds": error.get("retry_after_seconds")}})
