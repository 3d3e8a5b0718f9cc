"""`POST /v1/customers/:id/erase`: a right-to-be-forgotten request (API.md "Customers").

`request` blocks the customer and revokes its Client Tokens at once (one durable write), zeroing a
wallet first when forced; `sweep` runs in the core every second and completes each pending erasure
whose holds have all resolved (a call in flight keeps it pending until it settles or its hold
expires), planning the scrub from the database and writing it in one commit — which also deletes
the customer's files and vector stores (rows scrubbed of names, their query logs and the customer's
queries of shared stores deleted), then a final pass deletes again what a write racing the
erasure could have added (a search logged, a response stored, in the same group commit). Once
requested, the customer's searches are no longer logged (vector_store_queries.record). The
bytes, indexes and cached parses are the file store's and the rag role's: its sweep (rag/sweep.py)
removes those of every file and store no longer live.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass

from core.domain.assistants import AssistantObjectsErased
from core.domain.batches import BatchUpdate
from core.domain.entities import ClientTokensRevoked, Customer
from core.domain.erasure import (
    COMPLETED,
    PENDING,
    CustomerErased,
    CustomerQueriesErased,
    ErasureRequested,
    EventScrubbed,
    FileScrubbed,
    StoreQueriesErased,
    VectorStoreScrubbed,
    scrubbed_event_body,
)
from core.domain.files import FileDeletion
from core.domain.responses import StoredResponsesErased
from core.domain.vector_store_files import VectorStoreFileDetach
from core.domain.vector_stores import VectorStoreDeletion
from core.domain.webhooks import new_event
from core.services.core import Core, Principal, require_scope
from core.services.deletions import wallet_zeroing
from core.store import erasure as store
from ringside_server.errors import RingsideError

log = logging.getLogger(__name__)
SWEEP_EVERY_S = 1.0
MAX_PER_SWEEP = 50  # a bound on one sweep's work; the rest waits a second


@dataclass(frozen=True, slots=True)
class Erasure:
    customer_id: str
    status: str  # "pending" | "completed"
    customer: Customer | None = None  # while pending: the (blocked) customer


async def request(core: Core, principal: Principal, ref: str, force: bool) -> Erasure:
    """Block the customer and revoke its tokens now; the erasure completes once its holds resolve.
    Idempotent: a pending erasure answers pending, a completed one completed."""
    require_scope(principal, "api:admin")
    customer = core.state.find_customer(principal.account_id, principal.livemode, ref)
    if customer is None:
        status = await _stored_status(core, principal, ref)
        if status == COMPLETED:
            return Erasure(ref, COMPLETED)
        raise RingsideError("customer_not_found", f"No such customer: '{ref[:300]}'.", "id")
    if customer.erasure == PENDING:
        return Erasure(customer.id, PENDING, customer)
    zeroing = bool(customer.wallet_balance_nano)
    if zeroing and not force:
        raise RingsideError(
            "customer_has_balance",
            f"Customer {customer.id}'s wallet is not empty; pass force: true to zero it with an adjustment.",
            "force",
        )
    cut_off_ms = int(core.clock() * 1000)
    records: list[object] = [wallet_zeroing(core, customer)] if zeroing else []
    records += [ErasureRequested(customer.id), ClientTokensRevoked(customer.id, cut_off_ms)]
    # its batches start no new line (those running finish, as on a cancel)
    cancelled = [
        dataclasses.replace(b, status="cancelling", cancelling_at=int(core.now()))
        for b in core.state.batches.values()
        if b.customer_id == customer.id and b.status in ("validating", "in_progress")
    ]
    records += [BatchUpdate(b) for b in cancelled]

    def block() -> None:
        for batch in cancelled:
            core.state.batches[batch.id] = batch
        customer.blocked = True
        customer.erasure = PENDING
        core.state.erasures_pending.add(customer.id)
        customer.tokens_revoked_before_ms = max(customer.tokens_revoked_before_ms, cut_off_ms)
        if zeroing:
            customer.wallet_balance_nano = 0

    await core.writer.write_then_apply(records, block)
    log.info("erasure of %s requested", customer.id)
    return Erasure(customer.id, PENDING, customer)


async def _stored_status(core: Core, principal: Principal, ref: str) -> str | None:
    if not ref.startswith("cus_"):
        return None  # an erased customer's external id is gone with it
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        None, store.erasure_status, core.engine, ref[:64], principal.account_id, principal.livemode
    )


async def complete(core: Core, customer: Customer) -> None:
    """Erase a pending customer whose holds have resolved: one commit, then gone from memory."""
    loop = asyncio.get_running_loop()
    events = await loop.run_in_executor(None, store.customer_events, core.engine, customer.id)
    responses = await loop.run_in_executor(
        None, store.responses_showing, core.engine, customer.account_id, customer.livemode, customer.id
    )
    now = core.now()
    records: list[object] = [
        EventScrubbed(event_id, scrubbed_event_body(body, customer.id)) for event_id, body in events
    ]
    records += responses
    records.append(StoredResponsesErased(customer.id))  # the Responses API's, with their prompts
    records.append(AssistantObjectsErased(customer.id))  # assistants, threads, messages and runs
    files = [f for f in core.state.files.values() if f.customer_id == customer.id]
    stores = [s for s in core.state.vector_stores.values() if s.customer_id == customer.id]
    records += [FileDeletion(f.id, now) for f in files] + [VectorStoreDeletion(s.id, now) for s in stores]
    records += [VectorStoreFileDetach(s.id, f) for s in stores for f in core.state.store_files.get(s.id, {})]
    # a batch's metadata is the developer's text about the customer: it goes; the batch's ids stay
    batches = [
        dataclasses.replace(b, metadata_json="{}") for b in core.state.batches.values() if b.customer_id == customer.id
    ]
    records += [BatchUpdate(b) for b in batches]
    # Names and queries can hold personal data; the rows' ids, sizes and dates stay with the ledger's.
    records += [FileScrubbed(f.id) for f in files] + [VectorStoreScrubbed(s.id) for s in stores]
    records += [CustomerQueriesErased(customer.id)] + [StoreQueriesErased(s.id) for s in stores]
    records.append(CustomerErased(customer.id, now))
    records += new_event(
        customer.account_id, customer.livemode, "customer.erased", {"customer": {"id": customer.id}}, now, customer.id
    )

    def forget() -> None:
        for stored in files:
            core.state.files.pop(stored.id, None)
        for batch in batches:
            core.state.batches[batch.id] = batch
        for store_ in stores:
            core.state.vector_stores.pop(store_.id, None)
            core.state.store_files.pop(store_.id, None)
        core.state.customers.pop(customer.id, None)
        if customer.external_id is not None:
            core.state.customers_by_external.pop((customer.account_id, customer.livemode, customer.external_id), None)
        customer.erasure = COMPLETED

    await core.writer.write_then_apply(records, forget)
    # The final pass, after the erasure's commit and its memory change: a write enqueued before
    # the change (it found the customer or its store still there) lands in this commit or an
    # earlier one, and these deletions follow its insert (core/store/records.py's order).
    await core.writer.write(
        [
            CustomerQueriesErased(customer.id),
            *(StoreQueriesErased(s.id) for s in stores),
            StoredResponsesErased(customer.id),
            AssistantObjectsErased(customer.id),
        ]
    )
    log.info(
        "customer %s erased (%d events scrubbed, %d stored responses dropped)", customer.id, len(events), len(responses)
    )


def ready(core: Core) -> list[Customer]:
    """Pending erasures with nothing held: no call in flight, no open lease."""
    state = core.state
    waiting: list[Customer] = []
    for customer_id in list(state.erasures_pending):  # not every customer (State.erasures_pending)
        customer = state.customers.get(customer_id)
        if customer is None or customer.erasure != PENDING:  # erased, deleted or handed back
            state.erasures_pending.discard(customer_id)
        elif customer.held_nano == 0 and len(waiting) < MAX_PER_SWEEP:
            waiting.append(customer)
    return waiting


async def sweep_forever(core: Core) -> None:
    """The core's erasure loop (started with the server, stopped by cancellation)."""
    while True:
        await asyncio.sleep(SWEEP_EVERY_S)
        for customer in ready(core):
            try:
                await complete(core, customer)
            except Exception:
                log.exception("erasure of %s failed; it is retried in a second", customer.id)
