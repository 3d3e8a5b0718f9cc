"""Re-embed migrations of vector stores (issue 17): start, list, retrieve, cancel and roll back for
the store's owner; for the rag role (internal) the migrations to run, what one needs, its progress,
its outcome — the swap of the store's model and live generation in one write, with the
`vector_store.migration.completed` / `.failed` event in the same commit — and its retirement once
the durable 7-day timer has dropped the index no longer live (DECISIONS.md 16 and 17)."""

from __future__ import annotations

import dataclasses
from typing import Any

from core.domain import webhooks
from core.domain.vector_store_migrations import (
    MAX_LIST,
    ROLLBACK_WINDOW_S,
    VectorStoreMigration,
    VectorStoreMigrationUpdate,
)
from core.domain.vector_stores import VectorStore
from core.services import vector_stores
from core.services.core import Core, Principal, require_scope
from core.services.pages import cursor_page
from core.services.vector_store_files import _key_of
from core.store.rag_migrations import VectorStoreSwap
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

MAX_PENDING = 100
MAX_ERROR_MESSAGE = 1000
ERROR_CODES = ("server_error", "customer_budget_exceeded", "customer_wallet_empty")


def _not_found(migration_id: str) -> RingsideError:
    message = f"No such migration of this vector store: '{migration_id[:200]}'."
    return RingsideError("not_found", message, "migration_id")


def of_store(core: Core, store_id: str) -> list[VectorStoreMigration]:
    """A store's migrations, newest first (ids sort by creation)."""
    return sorted(core.state.store_migrations.get(store_id, {}).values(), key=lambda m: m.id, reverse=True)


def running(core: Core, store_id: str) -> VectorStoreMigration | None:
    """The store's migration in progress, if any (at most one)."""
    return next((m for m in of_store(core, store_id) if m.status == "in_progress"), None)


def _owned(core: Core, principal: Principal, store_id: str, customer_ref: str, write: bool) -> VectorStore:
    require_scope(principal, "api:write" if write else "api:read", customer_bound=True)
    return vector_stores.get(core, principal, store_id, customer_ref, shared_ok=False)


async def _save(core: Core, changed: VectorStoreMigration, *also: object, then: Any = None) -> VectorStoreMigration:
    def apply() -> None:
        core.state.store_migrations.setdefault(changed.store_id, {})[changed.id] = changed
        if then is not None:
            then()

    await core.writer.write_then_apply([VectorStoreMigrationUpdate(changed), *also], apply)
    return changed


async def start(
    core: Core, principal: Principal, store_id: str, customer_ref: str, to_model: str, to_model_requested: str
) -> VectorStoreMigration:
    """A new migration of the store to `to_model` (resolved and checked by the edge); 409
    `migration_in_progress` while another one runs."""
    store = _owned(core, principal, store_id, customer_ref, write=True)
    if not to_model.startswith("fc:") or len(to_model) > 300 or len(to_model_requested) > 300:
        raise RingsideError("invalid_model_ref", "embedding_model must resolve to an fc: ref.", "embedding_model")
    if to_model == store.embedding_model:
        raise RingsideError("invalid_request", f"The store already embeds with {to_model}.", "embedding_model")
    current = running(core, store.id)
    if current is not None:
        raise RingsideError(
            "migration_in_progress",
            f"Migration {current.id} of this vector store is still in progress: cancel it or wait for it.",
            "embedding_model",
        )
    # A generation never used by this store before, so no index of an older attempt is reused.
    used = [store.generation, *(m.to_generation for m in core.state.store_migrations.get(store.id, {}).values())]
    now = core.now()
    files = core.state.store_files.get(store.id, {}).values()
    migration = VectorStoreMigration(
        new_sortable_id("vsmig"),
        store.id,
        store.account_id,
        store.livemode,
        store.customer_id,
        "in_progress",
        store.embedding_model,
        to_model,
        to_model_requested or to_model,
        store.embedding_model_requested,
        store.generation,
        max(used) + 1,
        _key_of(core, principal),
        now,
        now,
        files_total=sum(1 for row in files if row.status == "completed"),
    )

    def add() -> None:
        core.state.store_migrations.setdefault(store.id, {})[migration.id] = migration

    await core.writer.write_then_apply([migration], add)
    return migration


def get(core: Core, principal: Principal, store_id: str, customer_ref: str, migration_id: str) -> VectorStoreMigration:
    store = _owned(core, principal, store_id, customer_ref, write=False)
    found = core.state.store_migrations.get(store.id, {}).get(migration_id)
    if found is None:
        raise _not_found(migration_id)
    return found


def list_migrations(
    core: Core, principal: Principal, store_id: str, customer_ref: str, limit: int, order: str, after: str
) -> tuple[list[VectorStoreMigration], bool]:
    store = _owned(core, principal, store_id, customer_ref, write=False)
    limit = limit or 20
    if not 1 <= limit <= MAX_LIST:
        raise RingsideError("invalid_request", f"limit must be between 1 and {MAX_LIST}.", "limit")
    if order not in ("", "asc", "desc"):
        raise RingsideError("invalid_request", "order must be asc or desc.", "order")
    mine = of_store(core, store.id)
    if order == "asc":
        mine.reverse()
    return cursor_page(mine, lambda m: m.id, limit, after, "", "migration")


async def cancel(
    core: Core, principal: Principal, store_id: str, customer_ref: str, migration_id: str
) -> VectorStoreMigration:
    """Stops a migration in progress: the store keeps answering from its live index, and the
    workflow drops the half-built one. Cancelling a finished migration is 409 (nothing to stop)."""
    found = get(core, principal, store_id, customer_ref, migration_id)
    if found.status != "in_progress":
        message = f"Migration {found.id} is {found.status}: only one in progress can be cancelled."
        raise RingsideError("invalid_request", message, "migration_id")
    now = core.now()
    return await _save(core, dataclasses.replace(found, status="cancelled", updated=now, completed_at=now))


async def rollback(
    core: Core, principal: Principal, store_id: str, customer_ref: str, migration_id: str
) -> VectorStoreMigration:
    """Switches the store back to the index it had before a completed migration — one write of the
    store's row — within the 7-day window; 409 `rollback_window_passed` after it."""
    found = get(core, principal, store_id, customer_ref, migration_id)
    store = core.state.vector_stores[found.store_id]
    if found.status != "completed" or store.generation != found.to_generation:
        raise RingsideError(
            "invalid_request",
            f"Migration {found.id} is {found.status} and not the store's live one: nothing to roll back.",
            "migration_id",
        )
    current = running(core, store.id)
    if current is not None:
        raise RingsideError(
            "migration_in_progress", f"Migration {current.id} of this vector store is in progress: cancel it first."
        )
    now = core.now()
    if found.retired or found.rollback_until is None or now > found.rollback_until:
        raise RingsideError(
            "rollback_window_passed",
            f"The index from before migration {found.id} was kept 7 days, until {found.rollback_until}, "
            "and is gone: migrate again to switch models.",
        )
    return await _swap(core, store, dataclasses.replace(found, status="rolled_back", updated=now), back=True)


async def _swap(core: Core, store: VectorStore, changed: VectorStoreMigration, back: bool) -> VectorStoreMigration:
    model = changed.from_model if back else changed.to_model
    generation = changed.from_generation if back else changed.to_generation
    requested = changed.from_model_requested if back else changed.to_model_requested
    swap = VectorStoreSwap(store.id, model, requested, generation)
    events: list[object] = []
    if not back:
        events = _event(changed, "completed")

    def flip() -> None:
        store.embedding_model, store.embedding_model_requested, store.generation = model, requested, generation

    return await _save(core, changed, swap, *events, then=flip)


def _event(migration: VectorStoreMigration, status: str) -> list[object]:
    data: dict[str, Any] = {
        "object": "vector_store.migration",
        "id": migration.id,
        "vector_store_id": migration.store_id,
        "status": status,
        "from_model": migration.from_model,
        "to_model": migration.to_model,
    }
    if migration.last_error_code:
        data["last_error"] = {"code": migration.last_error_code, "message": migration.last_error_message}
    return webhooks.new_event(
        migration.account_id,
        migration.livemode,
        f"vector_store.migration.{status}",
        data,
        migration.updated,
        customer_id=migration.customer_id,
    )


# Internal: the rag role's migration workflows.


def pending(core: Core, limit: int) -> list[VectorStoreMigration]:
    """Migrations in progress, oldest first (the rag role starts their workflows), and completed or
    rolled-back ones not yet retired (whose workflows wait on their 7-day timer)."""
    if not 1 <= limit <= MAX_PENDING:
        raise RingsideError("invalid_request", f"limit must be between 1 and {MAX_PENDING}.", "limit")
    rows = (m for ms in core.state.store_migrations.values() for m in ms.values() if m.status == "in_progress")
    return sorted(rows, key=lambda m: m.id)[:limit]


def job(core: Core, migration_id: str) -> tuple[VectorStoreMigration, VectorStore]:
    """A migration and its store; not_found once the store is gone."""
    for migrations in core.state.store_migrations.values():
        found = migrations.get(migration_id)
        if found is not None:
            store = core.state.vector_stores.get(found.store_id)
            if store is None:
                break
            return found, store
    raise _not_found(migration_id)


def waiting_files(core: Core, migration: VectorStoreMigration) -> int:
    """Files attached before the migration started whose ingest is still running: it may have read
    its job before the migration existed (so embeds with the old model only). The swap waits for
    them, and the migration then re-embeds them from their cached parse."""
    rows = core.state.store_files.get(migration.store_id, {}).values()
    return sum(1 for row in rows if row.status == "in_progress" and row.created <= migration.created)


async def progress(
    core: Core, migration_id: str, files_done: int, chunks_done: int, embedding_tokens: int
) -> VectorStoreMigration:
    """The workflow's progress (absolute counts); the migration as it is now (cancelled: stop)."""
    found, _ = job(core, migration_id)
    if found.status != "in_progress":
        return found
    changed = dataclasses.replace(
        found,
        files_done=max(0, files_done),
        chunks_done=max(0, chunks_done),
        embedding_tokens=max(found.embedding_tokens, embedding_tokens),
        files_total=max(found.files_total, files_done),
        updated=core.now(),
    )
    return await _save(core, changed)


async def finish(
    core: Core,
    migration_id: str,
    status: str,
    error_code: str,
    error_message: str,
    embedding_tokens: int,
) -> tuple[VectorStoreMigration, int]:
    """The workflow's outcome, once: `completed` swaps the store to the new index in this write (unless
    files from before the migration are still ingesting: → their count, nothing changed), `failed`
    records why. A migration cancelled meanwhile stays cancelled. → (the migration, files waited on)."""
    if status not in ("completed", "failed") or (status == "failed") != bool(error_code):
        raise RingsideError("invalid_request", "status must be completed, or failed with an error code.", "status")
    if error_code and error_code not in ERROR_CODES:
        raise RingsideError("invalid_request", "unknown last_error code.", "last_error_code")
    found, store = job(core, migration_id)
    if found.status != "in_progress":
        return found, 0
    now = core.now()
    tokens = max(found.embedding_tokens, embedding_tokens)
    if status == "failed":
        changed = dataclasses.replace(
            found,
            status="failed",
            last_error_code=error_code,
            last_error_message=error_message[:MAX_ERROR_MESSAGE],
            embedding_tokens=tokens,
            updated=now,
            completed_at=now,
        )
        return await _save(core, changed, *_event(changed, "failed")), 0
    waiting = waiting_files(core, found)
    if waiting:
        return found, waiting
    changed = dataclasses.replace(
        found,
        status="completed",
        embedding_tokens=tokens,
        updated=now,
        completed_at=now,
        rollback_until=now + ROLLBACK_WINDOW_S,
    )
    return await _swap(core, store, changed, back=False), 0


async def retire(core: Core, migration_id: str) -> tuple[VectorStoreMigration, int]:
    """The 7-day timer fired: the index no longer live is to be dropped (the old one, or after a
    rollback the new one) and rollback is refused from now on. → (the migration, the generation to
    drop; -1 when the store's live generation is neither: nothing of this migration is dropped)."""
    try:
        found, store = job(core, migration_id)
    except RingsideError:
        return VectorStoreMigration(migration_id, "", "", False, None, "", "", "", "", "", 0, 0, "", 0, 0), -1
    if found.status not in ("completed", "rolled_back"):
        return found, -1
    drop = found.from_generation if found.status == "completed" else found.to_generation
    if drop == store.generation:
        drop = -1  # live again (a later migration back to it): never dropped under the store
    if not found.retired:
        found = await _save(core, dataclasses.replace(found, retired=True, updated=core.now()))
    return found, drop
