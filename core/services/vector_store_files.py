"""Files attached to vector stores (issue 16): attach, retrieve, list, detach for the store's owner,
and for the rag role (internal) the pending ingests, what one needs, and its outcome — which also
emits `vector_store.file.completed` / `.failed` through the webhook outbox, in the same commit.
A file can be attached only to a store with the same owner (DECISIONS.md 16)."""

from __future__ import annotations

import dataclasses
from typing import Any

from core.domain import webhooks
from core.domain.files import StoredFile
from core.domain.vector_store_files import (
    ERROR_CODES,
    MAX_BATCH,
    VectorStoreFile,
    VectorStoreFileDetach,
    VectorStoreFileUpdate,
)
from core.domain.vector_stores import VectorStore
from core.services import vector_stores
from core.services.core import Core, Principal, require_scope
from core.services.files import asking_customer
from core.services.files import not_found as file_not_found
from core.services.pages import cursor_page
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

MAX_LIST = 100
DEFAULT_LIST = 20
MAX_PENDING = 500
MAX_ERROR_MESSAGE = 1000


def _not_attached(file_id: str) -> RingsideError:
    return RingsideError("not_found", f"No such file in this vector store: '{file_id[:200]}'.", "file_id")


def rows_of(core: Core, store_id: str) -> list[VectorStoreFile]:
    return list(core.state.store_files.get(store_id, {}).values())


def _checked_file(core: Core, principal: Principal, store: VectorStore, customer_ref: str, file_id: str) -> None:
    """The file exists for the caller and has the store's owner (DECISIONS.md 16)."""
    customer_id = asking_customer(core, principal, customer_ref)
    stored = core.state.files.get(file_id)
    if stored is None or not stored.visible(principal.account_id, principal.livemode, customer_id):
        raise file_not_found(file_id)
    if stored.customer_id != store.customer_id:
        raise RingsideError("invalid_request", "A file can be attached only to a store with the same owner.", "file_id")


def _key_of(core: Core, principal: Principal) -> str:
    """The key an ingest is metered as: the caller's, or for a Client Token the newest live key of its
    account and mode (the token's calls are the account's calls too)."""
    if principal.key_id:
        return principal.key_id
    keys = [
        k
        for k in core.state.keys_by_hash.values()
        if k.account_id == principal.account_id and k.livemode == principal.livemode
    ]
    return max(keys, key=lambda k: k.id).id if keys else ""


def _new_row(
    store: VectorStore, file_id: str, attributes_json: str, chunking_json: str, now: int, batch_id: str, key_id: str
) -> VectorStoreFile:
    return VectorStoreFile(
        store.id,
        file_id,
        store.account_id,
        store.livemode,
        store.customer_id,
        "in_progress",
        attributes_json or "{}",
        chunking_json or store.chunking_json,
        0,
        0,
        "",
        "",
        now,
        now,
        new_sortable_id("vsa"),
        batch_id,
        key_id,
    )


def _check_json(attributes_json: str, chunking_json: str) -> None:
    if len(attributes_json) > vector_stores.MAX_JSON or len(chunking_json) > vector_stores.MAX_JSON:
        raise RingsideError("invalid_request", "attributes or chunking_strategy is too large.", "attributes")


async def attach(
    core: Core,
    principal: Principal,
    store_id: str,
    customer_ref: str,
    file_id: str,
    attributes_json: str,
    chunking_json: str,
) -> VectorStoreFile:
    require_scope(principal, "api:write", customer_bound=True)
    store = vector_stores.get(core, principal, store_id, customer_ref, shared_ok=False)
    _checked_file(core, principal, store, customer_ref, file_id)
    _check_json(attributes_json, chunking_json)
    existing = core.state.store_files.get(store.id, {}).get(file_id)
    if existing is not None:  # OpenAI answers the attachment as it is
        return existing
    row = _new_row(store, file_id, attributes_json, chunking_json, core.now(), "", _key_of(core, principal))

    def add() -> None:
        core.state.store_files.setdefault(store.id, {})[file_id] = row

    await core.writer.write_then_apply([row], add)
    return row


@dataclasses.dataclass(frozen=True, slots=True)
class BatchFile:
    """One file of a batch with its own attributes and chunking (JSON; "" for the defaults)."""

    file_id: str
    attributes_json: str = ""
    chunking_json: str = ""


async def attach_batch(
    core: Core, principal: Principal, store_id: str, customer_ref: str, files: list[BatchFile]
) -> tuple[str, list[VectorStoreFile]]:
    """Attaches every file or none; files attached already stay as they are (not in the batch), and
    a file named twice is attached once (its first entry)."""
    require_scope(principal, "api:write", customer_bound=True)
    if not 1 <= len(files) <= MAX_BATCH:
        raise RingsideError("invalid_request", f"file_ids must hold 1..{MAX_BATCH} ids.", "file_ids")
    store = vector_stores.get(core, principal, store_id, customer_ref, shared_ok=False)
    for entry in files:
        _check_json(entry.attributes_json, entry.chunking_json)
        _checked_file(core, principal, store, customer_ref, entry.file_id)
    batch_id, now = new_sortable_id("vsfb"), core.now()
    attached = core.state.store_files.get(store.id, {})
    fresh: dict[str, BatchFile] = {}
    for entry in files:
        if entry.file_id not in attached:
            fresh.setdefault(entry.file_id, entry)
    key_id = _key_of(core, principal)
    rows = [
        _new_row(store, f.file_id, f.attributes_json, f.chunking_json, now, batch_id, key_id) for f in fresh.values()
    ]

    def add() -> None:
        for row in rows:
            core.state.store_files.setdefault(store.id, {})[row.file_id] = row

    await core.writer.write_then_apply(list[object](rows), add)
    return batch_id, rows


def batch(core: Core, principal: Principal, store_id: str, customer_ref: str, batch_id: str) -> list[VectorStoreFile]:
    store = vector_stores.get(core, principal, store_id, customer_ref, shared_ok=False)
    rows = [r for r in rows_of(core, store.id) if batch_id and r.batch_id == batch_id]
    if not rows:
        raise RingsideError("not_found", f"No such file batch: '{batch_id[:200]}'.", "batch_id")
    return rows


async def cancel_batch(
    core: Core, principal: Principal, store_id: str, customer_ref: str, batch_id: str
) -> list[VectorStoreFile]:
    """The batch's files still in progress become `cancelled` (their ingests then stop short)."""
    require_scope(principal, "api:write", customer_bound=True)
    keys = [(r.store_id, r.file_id) for r in batch(core, principal, store_id, customer_ref, batch_id)]
    async with core.store_file_locks.holding(keys):  # read again under the rows' locks (row_locks.py)
        rows = batch(core, principal, store_id, customer_ref, batch_id)
        now = core.now()
        changed = [
            (r, dataclasses.replace(r, status="cancelled", updated=now)) for r in rows if r.status == "in_progress"
        ]

        def apply() -> None:
            for row, new in changed:
                replace_row(core, row, new)

        await core.writer.write_then_apply([VectorStoreFileUpdate(new) for _, new in changed], apply)
    return batch(core, principal, store_id, customer_ref, batch_id)


def replace_row(core: Core, row: VectorStoreFile, new: VectorStoreFile) -> bool:
    """Memory's half of a compare-and-set: `new` replaces `row` only if `row` is still the file's
    attachment (a file or store deleted meanwhile stays deleted). → whether it did."""
    rows = core.state.store_files.get(row.store_id)
    if rows is None or rows.get(row.file_id) is not row:
        return False
    rows[row.file_id] = new
    return True


def get(core: Core, principal: Principal, store_id: str, customer_ref: str, file_id: str) -> VectorStoreFile:
    store = vector_stores.get(core, principal, store_id, customer_ref, shared_ok=False)
    row = core.state.store_files.get(store.id, {}).get(file_id)
    if row is None:
        raise _not_attached(file_id)
    return row


def list_files(
    core: Core,
    principal: Principal,
    store_id: str,
    customer_ref: str,
    limit: int,
    order: str,
    after: str,
    before: str,
    status: str,
    batch_id: str = "",
) -> tuple[list[VectorStoreFile], bool]:
    store = vector_stores.get(core, principal, store_id, customer_ref, shared_ok=False)
    limit = limit or DEFAULT_LIST
    if not 1 <= limit <= MAX_LIST:
        raise RingsideError("invalid_request", f"limit must be between 1 and {MAX_LIST}.", "limit")
    if order not in ("", "asc", "desc"):
        raise RingsideError("invalid_request", "order must be asc or desc.", "order")
    if status not in ("", "in_progress", "completed", "failed", "cancelled"):
        raise RingsideError("invalid_request", "filter must be in_progress, completed, failed or cancelled.", "filter")
    if after and before:
        raise RingsideError("invalid_request", "Use after or before, not both.", "after")
    rows = [
        r
        for r in rows_of(core, store.id)
        if (not status or r.status == status) and (not batch_id or r.batch_id == batch_id)
    ]
    rows.sort(key=lambda r: r.file_id, reverse=order != "asc")  # file ids sort by creation
    return cursor_page(rows, lambda r: r.file_id, limit, after, before, "file in this vector store")


async def detach(core: Core, principal: Principal, store_id: str, customer_ref: str, file_id: str) -> VectorStoreFile:
    require_scope(principal, "api:write", customer_bound=True)
    async with core.store_file_locks.holding([(store_id, file_id)]):
        row = get(core, principal, store_id, customer_ref, file_id)

        def forget() -> None:
            core.state.store_files.get(row.store_id, {}).pop(row.file_id, None)

        detach: list[object] = [VectorStoreFileDetach(row.store_id, row.file_id)]
        await core.writer.write_then_apply(detach, forget, accounts=(row.account_id,))  # fenced on its account
    return row


async def update_attributes(
    core: Core, principal: Principal, store_id: str, customer_ref: str, file_id: str, attributes_json: str
) -> VectorStoreFile:
    """Replaces a store file's attributes (OpenAI's `POST …/files/{file_id}`); another owner's is 404.
    The edge then sets them on the file's points, so search filters read them at once. Each update
    numbers its attributes (`attributes_version`): the rag role writes them only over older ones."""
    require_scope(principal, "api:write", customer_bound=True)
    _check_json(attributes_json, "")
    async with core.store_file_locks.holding([(store_id, file_id)]):  # an ingest's finish may be writing
        row = get(core, principal, store_id, customer_ref, file_id)
        changed = dataclasses.replace(  # not progress: `updated` stays
            row, attributes_json=attributes_json or "{}", attributes_version=row.attributes_version + 1
        )

        def apply() -> VectorStoreFile:
            replace_row(core, row, changed)  # a file deleted meanwhile stays deleted
            return changed

        return await core.writer.write_then_apply([VectorStoreFileUpdate(changed)], apply)


def pending(core: Core, limit: int) -> list[VectorStoreFile]:
    """Attachments still in progress, oldest first (the rag role starts their workflows)."""
    if not 1 <= limit <= MAX_PENDING:
        raise RingsideError("invalid_request", f"limit must be between 1 and {MAX_PENDING}.", "limit")
    rows = (r for rows in core.state.store_files.values() for r in rows.values() if r.status == "in_progress")
    return sorted(rows, key=lambda r: (r.created, r.store_id, r.file_id))[:limit]


def job(core: Core, store_id: str, file_id: str) -> tuple[VectorStore, VectorStoreFile, StoredFile]:
    """What an ingest needs; not_found once the store, the file or the attachment is gone."""
    store = core.state.vector_stores.get(store_id)
    row = core.state.store_files.get(store_id, {}).get(file_id)
    stored = core.state.files.get(file_id)
    if store is None or row is None or stored is None:
        raise _not_attached(file_id)
    return store, row, stored


async def finish(
    core: Core,
    store_id: str,
    file_id: str,
    attach_id: str,
    status: str,
    chunk_count: int,
    error_code: str,
    error_message: str,
    chunking_json: str = "",
    embedding_tokens: int = 0,
) -> VectorStoreFile:
    """Records an ingest's outcome once (a repeated report, or one for an older attach, changes
    nothing) with its event."""
    if status not in ("completed", "failed") or (status == "failed") != bool(error_code):
        raise RingsideError("invalid_request", "status must be completed, or failed with an error code.", "status")
    if error_code and error_code not in ERROR_CODES:
        raise RingsideError("invalid_request", "unknown last_error code.", "last_error_code")
    async with core.store_file_locks.holding([(store_id, file_id)]):  # an attribute update may be writing
        return await _finish(
            core,
            store_id,
            file_id,
            attach_id,
            status,
            chunk_count,
            error_code,
            error_message,
            chunking_json,
            embedding_tokens,
        )


async def _finish(
    core: Core,
    store_id: str,
    file_id: str,
    attach_id: str,
    status: str,
    chunk_count: int,
    error_code: str,
    error_message: str,
    chunking_json: str,
    embedding_tokens: int,
) -> VectorStoreFile:
    store, row, stored = job(core, store_id, file_id)
    if row.attach_id != attach_id or row.status != "in_progress":
        return row
    changed = dataclasses.replace(
        row,
        status=status,
        chunk_count=max(0, chunk_count) if status == "completed" else 0,
        usage_bytes=stored.bytes if status == "completed" else 0,
        last_error_code=error_code,
        last_error_message=error_message[:MAX_ERROR_MESSAGE],
        chunking_json=chunking_json[: vector_stores.MAX_JSON] or row.chunking_json,
        embedding_tokens=max(0, embedding_tokens),
        updated=core.now(),
    )
    data: dict[str, Any] = {"object": "vector_store.file", "id": file_id, "vector_store_id": store_id, "status": status}
    if error_code:
        data["last_error"] = {"code": error_code, "message": changed.last_error_message}
    event = webhooks.new_event(
        store.account_id,
        store.livemode,
        f"vector_store.file.{status}",
        data,
        changed.updated,
        customer_id=store.customer_id,
    )

    def apply() -> VectorStoreFile:
        replace_row(core, row, changed)  # a file or store deleted meanwhile stays deleted
        return changed

    return await core.writer.write_then_apply([VectorStoreFileUpdate(changed), *event], apply)
