"""Deleting customers: one (DELETE /v1/customers/:id), several at once or none (the peer's
/customer/delete), and blocking several at once or none (/customer/block, /customer/unblock).
Every bulk operation checks every named customer before it changes any, then writes once."""

from __future__ import annotations

import dataclasses

from core.domain import ledger
from core.domain.entities import Customer, CustomerDeletion, CustomerUpdate, Transfer
from core.domain.events import customer_event
from core.services.core import Core, Principal, require_scope
from core.services.customers import get, not_being_erased
from ringside_server.errors import RingsideError
from ringside_server.ids import new_id, new_sortable_id


def wallet_zeroing(core: Core, customer: Customer) -> Transfer:
    """The adjustment that empties a customer's wallet back to the account (a forced delete or erase)."""
    return Transfer(
        id=new_sortable_id("tr"),
        account_id=customer.account_id,
        livemode=customer.livemode,
        debit=ledger.customer_wallet(customer.id),
        credit=ledger.wallet_funding(customer.account_id, customer.livemode),
        amount_nano=customer.wallet_balance_nano,
        kind="adjust",
        request_id=new_id("adj"),
        period_start=customer.period_start,
        created=core.now(),
    )


def _deletion(core: Core, customer: Customer, force: bool) -> list[object]:
    """What deleting `customer` writes; 409 while holds are open or the wallet holds money."""
    not_being_erased(customer)
    if customer.held_nano:
        raise RingsideError(
            "customer_has_balance", f"Customer {customer.id} has calls in flight; retry once they settle."
        )
    records: list[object] = []
    if customer.wallet_balance_nano:
        if not force:
            raise RingsideError(
                "customer_has_balance",
                f"Customer {customer.id}'s wallet is not empty; pass force=true to zero it with an adjustment.",
            )
        records.append(wallet_zeroing(core, customer))
    now = core.now()
    return [
        *records,
        CustomerDeletion(customer.id, now),
        *customer_event(core.state, customer, "customer.deleted", now),
    ]


async def _delete_all(core: Core, doomed: list[Customer], records: list[object]) -> None:
    """One durable write deletes them all. They leave the maps before it, so no call is admitted for
    them while it commits; they come back if it fails."""
    for customer in doomed:
        core.state.customers.pop(customer.id, None)
        if customer.external_id is not None:
            core.state.customers_by_external.pop((customer.account_id, customer.livemode, customer.external_id), None)

    def zero() -> None:
        for customer in doomed:
            customer.wallet_balance_nano = 0

    def restore(_: BaseException) -> None:
        for customer in doomed:
            core.state.add_customer(customer)

    await core.writer.write_then_apply(records, zero, restore)


async def delete(core: Core, principal: Principal, ref: str, force: bool) -> Customer:
    """409 while holds are open or the wallet holds money (force: zero the wallet first)."""
    require_scope(principal, "api:write")
    customer = get(core, principal, ref)
    await _delete_all(core, [customer], _deletion(core, customer, force))
    return customer


MAX_BULK = 1000


def _all(core: Core, principal: Principal, refs: list[str]) -> list[Customer]:
    """Every customer named (each once), or 404 naming the first that does not exist: a bulk
    operation checks them all before it changes any."""
    if not 1 <= len(refs) <= MAX_BULK:
        raise RingsideError("invalid_request", f"Name 1..{MAX_BULK} customers.", "user_ids")
    found: dict[str, Customer] = {}
    for ref in refs:
        customer = core.state.find_customer(principal.account_id, principal.livemode, ref)
        if customer is None:
            raise RingsideError(
                "customer_not_found", f"No such customer: '{ref[:300]}'. Nothing was changed.", "user_ids"
            )
        found[customer.id] = customer
    return list(found.values())


async def delete_many(core: Core, principal: Principal, refs: list[str]) -> list[Customer]:
    """Delete every named customer, or none (the peer's /customer/delete)."""
    require_scope(principal, "api:write")
    doomed = _all(core, principal, refs)
    records = [record for customer in doomed for record in _deletion(core, customer, force=False)]
    await _delete_all(core, doomed, records)
    return doomed


async def set_blocked_many(core: Core, principal: Principal, refs: list[str], blocked: bool) -> list[Customer]:
    """Block (or unblock) every named customer in one durable write, or none (the peer's
    /customer/block and /customer/unblock)."""
    require_scope(principal, "api:write")
    changed = _all(core, principal, refs)
    records: list[object] = []
    for customer in changed:
        not_being_erased(customer)
        after = dataclasses.replace(customer, blocked=blocked)
        records += [CustomerUpdate(after), *customer_event(core.state, after, "customer.updated", core.now())]

    def apply() -> None:
        for customer in changed:
            customer.blocked = blocked

    await core.writer.write_then_apply(records, apply)
    return changed
