"""API error codes: the one table both the core (gRPC) and the edge (HTTP) render from.

API.md "Errors" is the contract; a code's HTTP status and OpenAI `type` live only here.
"""

from __future__ import annotations

from dataclasses import dataclass

STATUS_BY_CODE: dict[str, int] = {
    "invalid_request": 400,
    "invalid_model_ref": 400,
    "customer_required": 400,
    "idempotency_key_reused": 400,
    "route_not_supported": 400,
    "invalid_api_key": 401,
    "invalid_client_token": 401,
    "customer_budget_exceeded": 402,
    "customer_wallet_empty": 402,
    "wallet_empty": 402,
    "insufficient_scope": 403,
    "customer_blocked": 403,
    "endpoint_not_allowed": 403,
    "model_not_allowed": 403,
    "customer_not_found": 404,
    "not_found": 404,
    "previous_response_not_found": 404,
    "method_not_allowed": 405,
    "conversation_locked": 409,
    "idempotency_key_in_use": 409,
    "customer_has_balance": 409,
    "migration_in_progress": 409,
    "rollback_window_passed": 409,
    "payload_too_large": 413,
    "ip_rate_limit_exceeded": 429,
    "client_token_rate_limit_exceeded": 429,
    "account_rate_limit_exceeded": 429,
    "customer_rate_limit_exceeded": 429,
    "internal_error": 500,
    "upstream_error": 502,
    "model_unavailable": 503,
    "service_unavailable": 503,
    "upstream_timeout": 504,
}


def status_of(code: str) -> int:
    """HTTP status of an API error code (500 for a code this table does not know)."""
    return STATUS_BY_CODE.get(code, 500)


def type_of(status: int) -> str:
    """OpenAI's error `type` for an HTTP status."""
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "api_error"
    return "invalid_request_error"


@dataclass(slots=True)
class RingsideError(Exception):
    """A failure the API reports to its caller with a documented code."""

    code: str
    message: str
    param: str | None = None
    retry_after_seconds: int | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def status(self) -> int:
        return status_of(self.code)
