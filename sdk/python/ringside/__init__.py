"""Ringside's Python SDK (the `ringside` distribution).

`Ringside` / `AsyncRingside` are the official OpenAI clients pointed at Ringside, plus typed helpers
for Ringside's own primitives: `Model` ref builders, customers and wallets, usage, webhooks and
their signature check, Client Tokens, API keys and account settings.

It also carries the gRPC stubs generated from Ringside's protos (`ringside.core.v1`, installed with
the `grpc` extra) for internal services that call the core directly (`ringside.grpc`). The server is
the `ringside-server` distribution; this package never imports it.
"""

from ringside import webhooks
from ringside._client import DEFAULT_BASE_URL, AsyncRingside, Ringside
from ringside.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    RingsideError,
    SignatureVerificationError,
    UnprocessableEntityError,
    WalletEmptyError,
)
from ringside.model import MatchBuilder, Model

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_BASE_URL",
    "APIStatusError",
    "AsyncRingside",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "ConflictError",
    "InternalServerError",
    "MatchBuilder",
    "Model",
    "NotFoundError",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "Ringside",
    "RingsideError",
    "SignatureVerificationError",
    "UnprocessableEntityError",
    "WalletEmptyError",
    "webhooks",
]
