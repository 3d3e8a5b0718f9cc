"""Vector stores (issue 16): create, retrieve, list, modify, delete, per account, mode and owner.
A customer sees its own stores, and may retrieve the account's `shared` ones; anything it may not
see is 404 `not_found` (API.md "Managed RAG"). The edge resolves and checks the embedding model and
validates the JSON fields before it calls here."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from core.domain.vector_store_files import VectorStoreFileDetach
from core.domain.vector_stores import MAX_NAME, VectorStore, VectorStoreDeletion, VectorStoreUpdate
from core.services.core import Core, Principal, require_scope
from core.services.files import asking_customer, listing_customer
from core.services.pages import cursor_page
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

MAX_LIST = 100
DEFAULT_LIST = 20
MAX_JSON = 64 * 1024
MAX_EXPIRY_DAYS = 365


@dataclass(frozen=True, slots=True)
class StoreInput:
    name: str
    embedding_model: str
    embedding_model_requested: str
    chunking_json: str
    metadata_json: str
    expires_after_days: int
    shared: bool


def not_found(store_id: str) -> RingsideError:
    return RingsideError("not_found", f"No such vector store: '{store_id[:200]}'.", "vector_store_id")


def _check(name: str | None, metadata_json: str | None, expires_after_days: int | None) -> None:
    if name is not None and (len(name) > MAX_NAME or "\x00" in name):
        raise RingsideError("invalid_request", f"name must be at most {MAX_NAME} characters.", "name")
    if metadata_json is not None and len(metadata_json) > MAX_JSON:
        raise RingsideError("invalid_request", "metadata is too large.", "metadata")
    if expires_after_days is not None and not 0 <= expires_after_days <= MAX_EXPIRY_DAYS:
        raise RingsideError("invalid_request", f"expires_after.days must be 1..{MAX_EXPIRY_DAYS}.", "expires_after")


async def create(core: Core, principal: Principal, customer_ref: str, fields: StoreInput) -> VectorStore:
    require_scope(principal, "api:write", customer_bound=True)
    _check(fields.name, fields.metadata_json, fields.expires_after_days)
    if not fields.embedding_model.startswith("fc:") or len(fields.embedding_model) > 300:
        raise RingsideError("invalid_model_ref", "embedding_model must resolve to an fc: ref.", "embedding_model")
    if len(fields.chunking_json) > MAX_JSON or len(fields.embedding_model_requested) > 300:
        raise RingsideError("invalid_request", "chunking_strategy is too large.", "chunking_strategy")
    customer_id = asking_customer(core, principal, customer_ref)
    if fields.shared and customer_id is not None:
        raise RingsideError("invalid_request", "Only an account's own stores can be shared.", "shared")
    now = core.now()
    store = VectorStore(
        new_sortable_id("vs"),
        principal.account_id,
        principal.livemode,
        customer_id,
        fields.name,
        fields.embedding_model,
        fields.embedding_model_requested,
        fields.chunking_json,
        fields.metadata_json,
        fields.expires_after_days or None,
        fields.shared,
        0,
        now,
        now,
    )

    def add() -> None:
        core.state.vector_stores[store.id] = store

    await core.writer.write_then_apply([store], add)
    return store


def get(core: Core, principal: Principal, store_id: str, customer_ref: str, shared_ok: bool = True) -> VectorStore:
    """A visible store; `shared_ok` False for what only its owner may do (modify, delete, files)."""
    require_scope(principal, "api:read", customer_bound=True)
    customer_id = asking_customer(core, principal, customer_ref)
    store = core.state.vector_stores.get(store_id)
    if store is None or not store.visible(principal.account_id, principal.livemode, customer_id, shared_ok):
        raise not_found(store_id)
    return store


def list_stores(
    core: Core,
    principal: Principal,
    customer_ref: str,
    limit: int,
    order: str,
    after: str,
    before: str,
    customer_filter: str,
) -> tuple[list[VectorStore], bool]:
    require_scope(principal, "api:read", customer_bound=True)
    customer_id = listing_customer(core, principal, customer_ref, customer_filter)
    shared_ok = not customer_filter  # a filtered account list shows that customer's own stores only
    limit = limit or DEFAULT_LIST
    if not 1 <= limit <= MAX_LIST:
        raise RingsideError("invalid_request", f"limit must be between 1 and {MAX_LIST}.", "limit")
    if order not in ("", "asc", "desc"):
        raise RingsideError("invalid_request", "order must be asc or desc.", "order")
    if after and before:
        raise RingsideError("invalid_request", "Use after or before, not both.", "after")
    visible = (
        s
        for s in core.state.vector_stores.values()
        if s.visible(principal.account_id, principal.livemode, customer_id, shared_ok)
    )
    mine = sorted(visible, key=lambda s: s.id, reverse=order != "asc")  # ids sort by creation
    return cursor_page(mine, lambda s: s.id, limit, after, before, "vector store")


async def update(
    core: Core,
    principal: Principal,
    store_id: str,
    customer_ref: str,
    name: str | None,
    metadata_json: str | None,
    expires_after_days: int | None,
) -> VectorStore:
    require_scope(principal, "api:write", customer_bound=True)
    store = get(core, principal, store_id, customer_ref, shared_ok=False)
    _check(name, metadata_json, expires_after_days)
    changed = dataclasses.replace(store)  # memory changes only once the write is durable
    if name is not None:
        changed.name = name
    if metadata_json is not None:
        changed.metadata_json = metadata_json
    if expires_after_days is not None:
        changed.expires_after_days = expires_after_days or None
    changed.last_active_at = core.now()

    def apply() -> None:
        core.state.vector_stores[store.id] = changed

    await core.writer.write_then_apply([VectorStoreUpdate(changed)], apply)
    return changed


async def delete(core: Core, principal: Principal, store_id: str, customer_ref: str) -> VectorStore:
    require_scope(principal, "api:write", customer_bound=True)
    store = get(core, principal, store_id, customer_ref, shared_ok=False)
    now = core.now()

    attached = [VectorStoreFileDetach(store.id, f) for f in core.state.store_files.get(store.id, {})]

    def forget() -> None:
        store.deleted_at = now
        core.state.vector_stores.pop(store.id, None)
        core.state.store_files.pop(store.id, None)

    records = [VectorStoreDeletion(store.id, now), *attached]
    await core.writer.write_then_apply(records, forget, accounts=(store.account_id,))  # fenced on its account
    return store
