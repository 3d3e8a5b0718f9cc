"""Ringside's errors as exceptions (API.md "Errors").

Every status the OpenAI SDK knows keeps its OpenAI class as a base, so code written against
`openai.RateLimitError` or `openai.NotFoundError` catches Ringside's too; each also carries the
envelope's `code`, `request_id` and `retry_after` (seconds). 402 has no OpenAI class: it is
`PaymentRequiredError`, split into `BudgetExceededError` (the customer's monthly cap) and
`WalletEmptyError` (the customer's prepaid wallet or the account's own balance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import openai

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "RingsideError",
    "SignatureVerificationError",
    "UnprocessableEntityError",
    "WalletEmptyError",
    "status_error",
]


class RingsideError(Exception):
    """Base of the errors Ringside's SDK raises itself (not from an HTTP status)."""


class SignatureVerificationError(RingsideError):
    """A webhook's signature did not verify: missing, malformed, tampered, stale or wrong secret."""


class APIStatusError(openai.APIStatusError):
    """An error answer in Ringside's envelope `{"error": {type, code, message, param, request_id,
    retry_after_seconds}}`."""

    retry_after: float | None
    """Seconds to wait before a retry can succeed (`retry_after_seconds` or `Retry-After`), else None."""

    def __init__(self, message: str, *, response: httpx2.Response, body: object | None) -> None:
        super().__init__(message, response=response, body=body)
        envelope = body if isinstance(body, dict) else {}
        request_id = envelope.get("request_id")
        if isinstance(request_id, str) and request_id:
            self.request_id = request_id
        self.retry_after = _retry_after(envelope.get("retry_after_seconds"), response.headers.get("retry-after"))


def _retry_after(from_body: object, from_header: str | None) -> float | None:
    if isinstance(from_body, int | float) and not isinstance(from_body, bool) and from_body > 0:
        return float(from_body)
    try:
        return float(from_header) if from_header else None
    except ValueError:  # an HTTP date: a wait Ringside never sends
        return None


class BadRequestError(APIStatusError, openai.BadRequestError):
    """400: invalid_request, invalid_model_ref, idempotency_key_reused, customer_required, …"""


class AuthenticationError(APIStatusError, openai.AuthenticationError):
    """401: invalid_api_key, invalid_client_token."""


class PaymentRequiredError(APIStatusError):
    """402: the call cannot be paid for; waiting does not help (`x-should-retry: false`)."""


class BudgetExceededError(PaymentRequiredError):
    """402 `customer_budget_exceeded`: the customer's monthly cap has no room for this call."""


class WalletEmptyError(PaymentRequiredError):
    """402 `customer_wallet_empty` (the customer's prepaid wallet) or `wallet_empty` (the account's)."""


class PermissionDeniedError(APIStatusError, openai.PermissionDeniedError):
    """403: insufficient_scope, customer_blocked, endpoint_not_allowed, model_not_allowed."""


class NotFoundError(APIStatusError, openai.NotFoundError):
    """404: customer_not_found (a deleted customer too), not_found."""


class ConflictError(APIStatusError, openai.ConflictError):
    """409: customer_has_balance, idempotency_key_in_use, conversation_locked, …"""


class PayloadTooLargeError(APIStatusError):
    """413 `payload_too_large`: the body is above the route's bound."""


class UnprocessableEntityError(APIStatusError, openai.UnprocessableEntityError):
    """422."""


class RateLimitError(APIStatusError, openai.RateLimitError):
    """429: one of the four rate-limit layers; `retry_after` says when its window reopens."""


class InternalServerError(APIStatusError, openai.InternalServerError):
    """5xx: upstream_error (502), model_unavailable (503), upstream_timeout (504)."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
_BY_CODE: dict[str, type[APIStatusError]] = {
    "customer_budget_exceeded": BudgetExceededError,
    "budget_exceeded": BudgetExceededError,
    "customer_wallet_empty": WalletEmptyError,
    "wallet_empty": WalletEmptyError,
}


def status_error(message: str, *, body: object, response: httpx2.Response) -> APIStatusError:
    """The exception for one error answer; `body` is the decoded JSON (the envelope or anything)."""
    envelope = body.get("error", body) if isinstance(body, dict) else body
    code = envelope.get("code") if isinstance(envelope, dict) else None
    status = response.status_code
    kind = _BY_CODE.get(code) if isinstance(code, str) and status == 402 else None
    if kind is None:
        kind = InternalServerError if status >= 500 else _BY_STATUS.get(status, APIStatusError)
    return kind(message, response=response, body=envelope)
