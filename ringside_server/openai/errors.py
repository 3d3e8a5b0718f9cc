"""OpenAI's error envelope as bytes, and what a provider's error before the first byte becomes.
Transport-free: the edge renders these onto HTTP responses (edge_http/openai/errors.py)."""

from __future__ import annotations

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
    """A provider's error before the first byte, as (status, body): 4xx pass through (OpenAI's own
    envelope), 5xx → 502, overloaded (503; Anthropic's 529 arrives as 503) → 503 model_unavailable."""
    if status < 500 and status not in (401, 403, 408):
        return status, payload
    # The provider refusing Ringside's own credentials is the operator's problem, not the caller's
    # key: never pass a provider 401/403 (whose body may quote the operator's key) through.
    code = "upstream_timeout" if status in (408, 504) else "upstream_error"
    if status == 503:
        code = "model_unavailable"
    error = RingsideError(code, f"The provider answered {status}.")
    return error.status, error_body(error, request_id)
