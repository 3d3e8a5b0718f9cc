"""Sending one planned push to Stripe as a Billing Meter Event with the official SDK, and sorting
Stripe's answer: accepted, already there (refused by identifier), failed for good, or worth a retry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ringside.core.v1 import billing_pb2

if TYPE_CHECKING:
    import stripe

TIMEOUT_S = 15.0
SDK_RETRIES = 2  # the SDK's own retries (same Idempotency-Key) before the activity's retry policy
DUPLICATE_CODE = "resource_already_exists"


@dataclass(frozen=True, slots=True)
class Answer:
    outcome: str  # pushed | duplicate | failed | transient
    code: str = ""
    message: str = ""


def client(secret_key: str, api_base: str) -> stripe.StripeClient:
    import stripe  # on the first push only: the SDK's import is a good part of every worker start

    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": api_base},
        max_network_retries=SDK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_S),
    )


def send(push: billing_pb2.StripePush, api_base: str) -> Answer:
    """Blocking (the SDK's requests client): call it in a thread."""
    import stripe

    try:
        client(push.secret_key, api_base).v1.billing.meter_events.create(
            {
                "event_name": push.event_name,
                "identifier": push.identifier,
                "timestamp": push.timestamp,
                "payload": {"stripe_customer_id": push.stripe_customer_id, "value": str(push.value)},
            }
        )
    except stripe.InvalidRequestError as error:
        if error.code == DUPLICATE_CODE:
            return Answer("duplicate")
        return Answer("failed", error.code or "invalid_request", _message(error))
    except (stripe.AuthenticationError, stripe.PermissionError) as error:
        return Answer("failed", error.code or type(error).__name__, _message(error))
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
        return Answer("transient", error.code or type(error).__name__, _message(error))
    except stripe.StripeError as error:  # anything else Stripe refuses: a retry would not change it
        return Answer("failed", error.code or type(error).__name__, _message(error))
    return Answer("pushed")


def _message(error: stripe.StripeError) -> str:
    return (error.user_message or str(error))[:500]
