"""Ringside's Python SDK (the `ringside` distribution).

`Ringside` / `AsyncRingside` are the official OpenAI clients pointed at Ringside, plus typed helpers
for Ringside's own primitives: `Model` ref builders, customers and wallets, usage, webhooks and
their signature check, Client Tokens, API keys and account settings.

It also carries the gRPC stubs generated from Ringside's protos (`ringside.core.v1`, installed with
the `grpc` extra) for internal services that call the core directly (`ringside.grpc`). The server is
the `ringside-server` distribution; this package never imports it.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# The public names are imported on first use (PEP 562): a process that needs only the generated
# stubs (`ringside.core.v1`, as the server's roles do) does not pay for importing `openai`, which the
# clients and the errors are built on (seconds of a core's start on a loaded machine).
_HOMES = {
    **dict.fromkeys(("DEFAULT_BASE_URL", "AsyncRingside", "Ringside"), "ringside._client"),
    **dict.fromkeys(("MatchBuilder", "Model"), "ringside.model"),
}  # every other public name is an error class of ringside.errors


if not TYPE_CHECKING:  # type checkers see the imports above, so a misspelt name stays an error

    def __getattr__(name: str) -> Any:
        if name == "webhooks":  # a submodule: importing it binds it here
            return importlib.import_module("ringside.webhooks")
        if name not in __all__:
            raise AttributeError(f"module 'ringside' has no attribute {name!r}")
        value = getattr(importlib.import_module(_HOMES.get(name, "ringside.errors")), name)
        globals()[name] = value
        return value


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
