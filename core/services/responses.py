"""Stored responses (the Responses API's `store: true`): kept, read back with their chain, deleted.

Owned by the customer that made the call — a Client Token's, else FC-Customer's, else the `user`
the call was attributed to. A caller bound to a customer sees that customer's responses only; an
account-level caller sees the account's. Anything else is 404, never 403.
"""

from __future__ import annotations

import dataclasses

from core.domain.responses import MAX_JSON_CHARS, StoredResponse, StoredResponseDeletion, visible_to
from core.services.core import Core, Principal, require_scope
from core.services.webhooks import read
from core.store import responses as store
from ringside_server.errors import RingsideError

MAX_ID = 64


def _not_found(response_id: str) -> RingsideError:
    return RingsideError("not_found", f"Response with id '{response_id[:MAX_ID]}' not found.", "response_id")


def _owner(core: Core, principal: Principal, customer_ref: str, user: str) -> str:
    """The customer the call was attributed to (API.md "Attribution"), '' when none."""
    if principal.customer_id:
        return principal.customer_id
    customer = core.state.attributed_customer(principal.account_id, principal.livemode, customer_ref, user)
    return customer.id if customer is not None else ""


def _reader(core: Core, principal: Principal, customer_ref: str, response_id: str) -> str | None:
    """The customer a read is bound to (None: an account-level read)."""
    if principal.customer_id:
        return principal.customer_id
    if not customer_ref:
        return None
    customer = core.state.find_customer(principal.account_id, principal.livemode, customer_ref)
    if customer is None:
        raise _not_found(response_id)
    return customer.id


async def keep(core: Core, principal: Principal, response: StoredResponse, customer_ref: str, user: str) -> None:
    if not principal.customer_id:  # a Client Token stores what its own call made
        require_scope(principal, "api:write")
    if not response.id.startswith("resp_") or len(response.id) > MAX_ID or len(response.previous_response_id) > MAX_ID:
        raise RingsideError("invalid_request", "A stored response needs a resp_ id.", "id")
    if len(response.response_json) + len(response.input_json) > MAX_JSON_CHARS:
        raise RingsideError("payload_too_large", "This response is too large to store.")
    kept = dataclasses.replace(
        response,
        account_id=principal.account_id,
        livemode=principal.livemode,
        customer_id=_owner(core, principal, customer_ref, user),
        created=response.created or core.now(),
    )
    await core.writer.write([kept])


async def get(
    core: Core, principal: Principal, response_id: str, customer_ref: str, with_chain: bool
) -> tuple[StoredResponse, list[StoredResponse]]:
    require_scope(principal, "api:read", customer_bound=True)
    reader = _reader(core, principal, customer_ref, response_id)
    found = await read(store.stored_response, core.engine, response_id[:MAX_ID])
    if found is None or not visible_to(found, principal.account_id, principal.livemode, reader):
        raise _not_found(response_id)
    chain = await read(store.chain_before, core.engine, found) if with_chain else []
    # a customer continues its own conversation only: another customer's turn ends the chain
    if reader is not None:
        while chain and not all(visible_to(r, principal.account_id, principal.livemode, reader) for r in chain):
            chain.pop(0)
    return found, chain


async def delete(core: Core, principal: Principal, response_id: str, customer_ref: str) -> str:
    if not principal.customer_id:
        require_scope(principal, "api:write")
    reader = _reader(core, principal, customer_ref, response_id)
    found = await read(store.stored_response, core.engine, response_id[:MAX_ID])
    if found is None or not visible_to(found, principal.account_id, principal.livemode, reader):
        raise _not_found(response_id)
    await core.writer.write([StoredResponseDeletion(found.id)], accounts=(found.account_id,))  # fenced on its account
    return found.id
