"""Erasing a customer (API.md "Customers", `POST /v1/customers/:id/erase`): the records and rules.

At once the customer is blocked and its Client Tokens revoked (its leases end within the lease
window, as for any block); once its holds have resolved, every trace of personal data goes in one
commit — name, email, metadata, external id (freed), Stripe id, the customer inside kept events,
stored idempotent responses that show it — and the customer ends deleted. Ledger rows and usage
amounts stay under the bare `cus_` id: accounting needs them, and they hold no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

ErasureStatus = Literal["", "pending", "completed"]
PENDING: ErasureStatus = "pending"
COMPLETED: ErasureStatus = "completed"


@dataclass(frozen=True, slots=True)
class ErasureRequested:
    """The customer is blocked and waits for its holds; nothing is erased yet."""

    customer_id: str


@dataclass(frozen=True, slots=True)
class CustomerErased:
    """Personal fields blanked, external id freed, the customer deleted: one row update."""

    customer_id: str
    erased_at: int


@dataclass(frozen=True, slots=True)
class EventScrubbed:
    """A kept event's body with the customer reduced to its id."""

    event_id: str
    body: str


@dataclass(frozen=True, slots=True)
class IdempotentResponseForgotten:
    """A stored idempotent response that showed the customer: dropped (a retry with its key then
    runs as new — the customer is gone, so it answers 404)."""

    account_id: str
    livemode: bool
    route: str
    key: str


@dataclass(frozen=True, slots=True)
class CustomerQueriesErased:
    """Every query-log row the customer made, in its own stores and in the account's shared ones."""

    customer_id: str


@dataclass(frozen=True, slots=True)
class StoreQueriesErased:
    """Every query-log row of an erased customer's store, whoever asked."""

    store_id: str


@dataclass(frozen=True, slots=True)
class FileScrubbed:
    """An erased customer's (deleted) file row keeps its id, size and dates, not its name or hash."""

    file_id: str


@dataclass(frozen=True, slots=True)
class VectorStoreScrubbed:
    """An erased customer's (deleted) store row keeps its id and model, not its name or metadata."""

    store_id: str


def scrubbed_event_body(body: str, customer_id: str) -> str:
    """The event's JSON with `data.customer` reduced to `{id}` and any other object of the data
    that is this customer likewise; amounts, types and ids stay."""
    event: dict[str, Any] = orjson.loads(body)
    data = event.get("data")
    if isinstance(data, dict):
        event["data"] = {
            name: ({"id": customer_id} if _is_customer(value, customer_id) or name == "customer" else value)
            for name, value in data.items()
        }
    return orjson.dumps(event).decode()


def _is_customer(value: object, customer_id: str) -> bool:
    return isinstance(value, dict) and value.get("id") == customer_id


def shows_customer(payload: bytes, customer_id: str) -> bool:
    """Whether a stored response body shows the customer: every response that carries its personal
    data carries its id, and ids are unique, so this never drops another customer's response."""
    return customer_id.encode() in payload
