"""Stored responses of the Responses API: records the core writes, and who may read one."""

from __future__ import annotations

from dataclasses import dataclass

# A previous_response_id chain is read back at most this deep (an agent loop of this many turns);
# older turns are not sent to the model, as a context window would drop them anyway.
MAX_CHAIN = 256
MAX_JSON_CHARS = 64 * 1024 * 1024  # one stored response and its input (a 32 MiB request, answered)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response kept for `previous_response_id` and GET /v1/responses/:id (JSON text as made)."""

    id: str
    account_id: str
    livemode: bool
    customer_id: str  # "" = unattributed
    previous_response_id: str
    response_json: str
    input_json: str
    created: int


@dataclass(frozen=True, slots=True)
class StoredResponseDeletion:
    response_id: str


@dataclass(frozen=True, slots=True)
class StoredResponsesErased:
    """Every stored response of an erased customer goes (API.md "Customers": erase)."""

    customer_id: str


@dataclass(frozen=True, slots=True)
class StoredResponsePurge:
    """Forget stored responses created before `created_before` (retention)."""

    created_before: int


def visible_to(response: StoredResponse, account_id: str, livemode: bool, customer_id: str | None) -> bool:
    """The account's own, in its mode; a caller bound to a customer (`customer_id` not None) sees
    that customer's only — anything else is as if it did not exist."""
    if (response.account_id, response.livemode) != (account_id, livemode):
        return False
    return customer_id is None or response.customer_id == customer_id
