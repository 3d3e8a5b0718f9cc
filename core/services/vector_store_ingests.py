"""Stuck ingests (issue 17): cancel one file's ingest, retry a failed, cancelled or stalled one, and
the ingest's progress marks (each batch embedded), which tell a working ingest from a stalled one.

Progress marks are kept in memory only (the attachment's `updated`, not written): a mark per batch
would be a database write per 32 chunks. After a core restart an ingest's mark is its last written
change until its next batch reports again."""

from __future__ import annotations

import dataclasses

from core.domain.vector_store_files import VectorStoreFile, VectorStoreFileUpdate
from core.services.core import Core, Principal, require_scope
from core.services.vector_store_files import get, job, replace_row
from core.store.rag_migrations import VectorStoreFileRestart
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id


async def cancel(core: Core, principal: Principal, store_id: str, customer_ref: str, file_id: str) -> VectorStoreFile:
    """An ingest in progress becomes `cancelled` (the running workflow's outcome is then ignored and
    what it wrote removed); a finished one is 400 — there is nothing to stop."""
    require_scope(principal, "api:write", customer_bound=True)
    async with core.store_file_locks.holding([(store_id, file_id)]):  # services/row_locks.py
        row = get(core, principal, store_id, customer_ref, file_id)
        if row.status != "in_progress":
            message = f"The file's ingest is {row.status}: only one in progress can be cancelled."
            raise RingsideError("invalid_request", message, "file_id")
        changed = dataclasses.replace(row, status="cancelled", updated=core.now())

        def apply() -> VectorStoreFile:
            return changed if replace_row(core, row, changed) else row

        return await core.writer.write_then_apply([VectorStoreFileUpdate(changed)], apply)


async def retry(core: Core, principal: Principal, store_id: str, customer_ref: str, file_id: str) -> VectorStoreFile:
    """The file is ingested again under a new attach id (so a new workflow; an older run still going
    finds itself superseded). Any status may be retried but `completed`: a stalled ingest is
    `in_progress`, and retrying it is how it is unstuck."""
    require_scope(principal, "api:write", customer_bound=True)
    async with core.store_file_locks.holding([(store_id, file_id)]):  # services/row_locks.py
        row = get(core, principal, store_id, customer_ref, file_id)
        if row.status == "completed":
            raise RingsideError("invalid_request", "The file is ingested already: nothing to retry.", "file_id")
        now = core.now()
        changed = dataclasses.replace(
            row,
            attach_id=new_sortable_id("vsa"),
            status="in_progress",
            chunk_count=0,
            usage_bytes=0,
            embedding_tokens=0,
            last_error_code="",
            last_error_message="",
            updated=now,
        )

        def apply() -> VectorStoreFile:
            return changed if replace_row(core, row, changed) else row

        return await core.writer.write_then_apply(
            [VectorStoreFileRestart(row.store_id, row.file_id, changed.attach_id, now)], apply
        )


def progressed(core: Core, store_id: str, file_id: str, attach_id: str) -> str:
    """Marks the attachment's ingest as progressing now (memory only). → its status, `superseded`
    when the file was retried or re-attached since (another run's now)."""
    _, row, _ = job(core, store_id, file_id)
    if row.attach_id != attach_id:
        return "superseded"
    if row.status == "in_progress":
        row.updated = core.now()  # a mark, not a change: never written (see the module's note)
    return row.status
