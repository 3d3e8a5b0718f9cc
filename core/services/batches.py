"""Batches (issue 19): create over a validated input file, read, list, cancel; and the worker's side —
what is pending, a batch's job, progress, and the outcome with its output and error files and its
`batch.completed` / `.failed` event, in one commit. Visibility is the files' rule: a request naming a
customer sees that customer's batches only (anything else is 404)."""

from __future__ import annotations

import dataclasses
from typing import Any

from core.domain import webhooks
from core.domain.batches import COMPLETION_WINDOWS, FINAL, MAX_LINES, RUNNING, Batch, BatchUpdate
from core.domain.events import customer_event
from core.domain.files import StoredFile
from core.services.core import Core, Principal, require_scope
from core.services.files import FILE_ID, SHA256, asking_customer
from core.services.pages import cursor_page
from ringside_server.batches.lines import check_terms
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

MAX_LIST = 100
DEFAULT_LIST = 20  # OpenAI's default page
MAX_ERRORS_JSON = 64 * 1024
OUTPUT_PURPOSE = "batch_output"


def not_found(batch_id: str) -> RingsideError:
    return RingsideError("not_found", f"No such batch: '{batch_id[:200]}'.", "batch_id")


async def create(
    core: Core,
    principal: Principal,
    input_file_id: str,
    endpoint: str,
    completion_window: str,
    metadata_json: str,
    customer_ref: str,
    total_lines: int,
) -> Batch:
    require_scope(principal, "api:write")
    check_terms(endpoint, completion_window)
    window_s = min(COMPLETION_WINDOWS[completion_window], core.batch_window_s)
    if not 1 <= total_lines <= MAX_LINES:
        raise RingsideError("invalid_request", f"A batch holds 1..{MAX_LINES} lines.", "input_file_id")
    customer_id = asking_customer(core, principal, customer_ref)
    stored = core.state.files.get(input_file_id)
    if stored is None or not stored.visible(principal.account_id, principal.livemode, customer_id):
        raise RingsideError("not_found", f"No such file: '{input_file_id[:200]}'.", "input_file_id")
    if stored.purpose != "batch":
        raise RingsideError("invalid_request", "The input file's purpose must be 'batch'.", "input_file_id")
    now = int(core.now())
    batch = Batch(
        id=new_sortable_id("batch"),
        account_id=principal.account_id,
        livemode=principal.livemode,
        customer_id=customer_id,
        key_id=principal.key_id,
        endpoint=endpoint,
        input_file_id=input_file_id,
        completion_window=completion_window,
        status="validating",  # until the worker has read its input file through (`start`)
        metadata_json=metadata_json or "{}",
        total=total_lines,
        created=now,
        expires_at=now + window_s,
    )
    await core.writer.write_then_apply([batch], lambda: core.state.batches.__setitem__(batch.id, batch))
    return batch


def get(core: Core, principal: Principal, batch_id: str, customer_ref: str) -> Batch:
    require_scope(principal, "api:read")
    customer_id = asking_customer(core, principal, customer_ref)
    batch = core.state.batches.get(batch_id)
    if batch is None or not batch.visible(principal.account_id, principal.livemode, customer_id):
        raise not_found(batch_id)
    return batch


def list_batches(
    core: Core, principal: Principal, customer_ref: str, limit: int, after: str
) -> tuple[list[Batch], bool]:
    """One page, newest first, after the batch `after`."""
    require_scope(principal, "api:read")
    customer_id = asking_customer(core, principal, customer_ref)
    limit = limit or DEFAULT_LIST
    if not 1 <= limit <= MAX_LIST:
        raise RingsideError("invalid_request", f"limit must be between 1 and {MAX_LIST}.", "limit")
    mine = sorted(
        (b for b in core.state.batches.values() if b.visible(principal.account_id, principal.livemode, customer_id)),
        key=lambda b: (b.created, b.id),
        reverse=True,
    )
    return cursor_page(mine, lambda b: b.id, limit, after, "", "batch")


async def cancel(core: Core, principal: Principal, batch_id: str, customer_ref: str) -> Batch:
    """`cancelling` until the worker has stopped its lines (a batch cancelling or cancelled already:
    as it is; a finished one: 400, as OpenAI answers)."""
    require_scope(principal, "api:write")
    batch = get(core, principal, batch_id, customer_ref)
    if batch.status in ("cancelling", "cancelled"):
        return batch
    if batch.status in FINAL:
        raise RingsideError("invalid_request", f"Cannot cancel a batch that is {batch.status}.", "batch_id")
    changed = dataclasses.replace(batch, status="cancelling", cancelling_at=int(core.now()))
    await _write(core, changed, [])
    return changed


def pending(core: Core, limit: int) -> list[Batch]:
    """Batches a worker still has to run or finish, oldest first."""
    if not 1 <= limit <= 500:
        raise RingsideError("invalid_request", "limit must be between 1 and 500.", "limit")
    running = (b for b in core.state.batches.values() if b.status in RUNNING)
    return sorted(running, key=lambda b: (b.created, b.id))[:limit]


def job(core: Core, batch_id: str) -> Batch:
    batch = core.state.batches.get(batch_id)
    if batch is None:
        raise not_found(batch_id)
    return batch


async def start(core: Core, batch_id: str) -> Batch:
    """`validating` → `in_progress` once the worker has validated the input file (a batch cancelled
    meanwhile, or already running: as it is)."""
    batch = job(core, batch_id)
    if batch.status != "validating":
        return batch
    changed = dataclasses.replace(batch, status="in_progress", in_progress_at=int(core.now()))
    await _write(core, changed, [])
    return changed


async def progress(core: Core, batch_id: str, completed: int, failed: int) -> Batch:
    """Counts so far (never lowered: a report from a retried attempt may come late)."""
    batch = job(core, batch_id)
    if batch.status in FINAL or (completed <= batch.completed and failed <= batch.failed):
        return batch
    changed = dataclasses.replace(
        batch,
        completed=min(batch.total, max(batch.completed, completed)),
        failed=min(batch.total, max(batch.failed, failed)),
    )
    await _write(core, changed, [])
    return changed


@dataclasses.dataclass(frozen=True, slots=True)
class ResultFile:
    id: str
    bytes: int
    sha256: str


async def finish(
    core: Core,
    batch_id: str,
    status: str,
    counts: tuple[int, int],
    files: tuple[ResultFile | None, ResultFile | None],
    errors_json: str,
) -> Batch:
    """Records the outcome once (a repeated report changes nothing), its files owned by the batch's
    owner, and its `batch.<status>` event (completed, failed, expired, cancelled) in the same commit."""
    if status not in FINAL:
        raise RingsideError("invalid_request", f"status must be one of {', '.join(FINAL)}.", "status")
    batch = job(core, batch_id)
    if batch.status in FINAL:
        return batch
    if batch.status == "cancelling" and status == "completed":
        status = "cancelled"  # cancelled while its last lines ran: what was asked stands
    now = int(core.now())
    records: list[object] = []
    file_ids: list[str] = []
    owner = core.state.customers.get(batch.customer_id) if batch.customer_id else None
    owner_gone = batch.customer_id is not None and (owner is None or owner.erasure != "")
    for result, name in zip(files, ("output", "errors"), strict=True):
        if result is None or owner_gone:  # a deleted or erased owner's answers are not kept
            file_ids.append("")
            continue
        if not FILE_ID.match(result.id) or not SHA256.match(result.sha256) or result.bytes < 0:
            raise RingsideError("invalid_request", "A result file needs an id, its size and its sha256.", "file")
        stored = StoredFile(
            result.id, batch.account_id, batch.livemode, batch.customer_id,
            f"{batch.id}_{name}.jsonl", OUTPUT_PURPOSE, result.bytes, result.sha256, now,
        )  # fmt: skip
        records.append(stored)
        file_ids.append(stored.id)
    completed, failed = counts
    changed = dataclasses.replace(
        batch,
        status=status,
        completed=min(batch.total, max(0, completed)),
        failed=min(batch.total, max(0, failed)),
        output_file_id=file_ids[0],
        error_file_id=file_ids[1],
        errors_json=errors_json[:MAX_ERRORS_JSON],
        finalizing_at=batch.finalizing_at or now,
    )
    setattr(changed, f"{status}_at", now)  # completed_at, failed_at, expired_at or cancelled_at
    if not owner_gone:  # every outcome has its event, as OpenAI's webhooks have (an erased owner's: none)
        data: dict[str, Any] = {
            "object": "batch",
            "id": batch.id,
            "status": status,
            "endpoint": batch.endpoint,
            "output_file_id": changed.output_file_id or None,
            "error_file_id": changed.error_file_id or None,
            "request_counts": {"total": batch.total, "completed": changed.completed, "failed": changed.failed},
        }
        event_type = f"batch.{status}"
        if owner is not None:  # data.customer, as every event about a customer carries it
            records.extend(customer_event(core.state, owner, event_type, now, data))
        else:
            records.extend(webhooks.new_event(batch.account_id, batch.livemode, event_type, data, now))

    def apply() -> None:
        for record in records:
            if isinstance(record, StoredFile):
                core.state.files[record.id] = record
        core.state.batches[batch.id] = changed

    await core.writer.write_then_apply([*records, BatchUpdate(changed)], apply)
    return changed


async def _write(core: Core, changed: Batch, records: list[object]) -> None:
    await core.writer.write_then_apply(
        [*records, BatchUpdate(changed)], lambda: core.state.batches.__setitem__(changed.id, changed)
    )
