"""Files (issue 16): the metadata of files whose bytes the edge stored, kept per account, mode and
customer. A request naming a customer (FC-Customer, or a Client Token) sees that customer's files
only; anything it may not see is 404 `not_found`, never 403 (API.md "Managed RAG")."""

from __future__ import annotations

import re

from core.domain.files import LISTED_PURPOSES, MAX_FILENAME, PURPOSES, FileDeletion, StoredFile
from core.domain.vector_store_files import VectorStoreFileDetach
from core.services.core import Core, Principal, require_scope
from core.services.pages import cursor_page
from ringside_server.errors import RingsideError

FILE_ID = re.compile(r"^file-[0-9A-Za-z]{8,60}$")
MAX_LIST = 10_000  # OpenAI's bound on GET /v1/files?limit
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def asking_customer(
    core: Core, principal: Principal, customer_ref: str, unknown: RingsideError | None = None
) -> str | None:
    """The customer a request acts as (a Client Token's, else FC-Customer's), None for the account.
    An unknown FC-Customer — or, with a Client Token, one naming another customer — raises `unknown`
    (by default 404 customer_not_found)."""
    if principal.customer_id and not customer_ref:
        return principal.customer_id
    if not customer_ref:
        return None
    customer = core.state.find_customer(principal.account_id, principal.livemode, customer_ref)
    if principal.customer_id and (customer is None or customer.id != principal.customer_id):
        customer = None  # a Client Token's FC-Customer naming another customer: 404, as on model calls
    if customer is None:
        message = f"No such customer: '{customer_ref[:300]}'."
        raise unknown or RingsideError("customer_not_found", message, "FC-Customer")
    return customer.id


def listing_customer(core: Core, principal: Principal, customer_ref: str, customer_filter: str) -> str | None:
    """Whose objects a list shows: the asking customer's, or for an account-level request the
    `customer_id` filter's (None: the whole account's)."""
    customer_id = asking_customer(core, principal, customer_ref)
    if not customer_filter:
        return customer_id
    if customer_id is not None:  # a customer sees its own only: no filter names another
        raise RingsideError("invalid_request", "customer_id filters an account-level list only.", "customer_id")
    return asking_customer(core, principal, customer_filter)


def not_found(file_id: str) -> RingsideError:
    return RingsideError("not_found", f"No such file: '{file_id[:200]}'.", "file_id")


async def create(
    core: Core,
    principal: Principal,
    file_id: str,
    customer_ref: str,
    filename: str,
    purpose: str,
    size_bytes: int,
    sha256: str,
) -> StoredFile:
    require_scope(principal, "api:write", customer_bound=True)
    if not FILE_ID.match(file_id) or not SHA256.match(sha256) or size_bytes < 0:
        raise RingsideError("invalid_request", "A file needs an id, its size and its sha256.", "file")
    if purpose not in PURPOSES:
        raise RingsideError("invalid_request", f"purpose must be one of {', '.join(PURPOSES)}.", "purpose")
    if not 1 <= len(filename) <= MAX_FILENAME or "\x00" in filename:
        raise RingsideError("invalid_request", f"filename must be 1..{MAX_FILENAME} characters.", "file")
    customer_id = asking_customer(core, principal, customer_ref)
    existing = core.state.files.get(file_id)
    if existing is not None:  # a retried record of the same upload
        if existing.account_id != principal.account_id or existing.sha256 != sha256:
            raise RingsideError("invalid_request", "That file id is taken.", "file")
        return existing
    stored = StoredFile(
        file_id,
        principal.account_id,
        principal.livemode,
        customer_id,
        filename,
        purpose,
        size_bytes,
        sha256,
        int(core.now()),
    )
    core.state.files[file_id] = stored  # claims the id before the write

    def unclaim(_: BaseException) -> None:
        core.state.files.pop(file_id, None)

    await core.writer.write_then_apply([stored], lambda: None, unclaim)
    return stored


def get(core: Core, principal: Principal, file_id: str, customer_ref: str) -> StoredFile:
    require_scope(principal, "api:read", customer_bound=True)
    customer_id = asking_customer(core, principal, customer_ref)
    stored = core.state.files.get(file_id)
    if stored is None or not stored.visible(principal.account_id, principal.livemode, customer_id):
        raise not_found(file_id)
    return stored


def list_files(
    core: Core,
    principal: Principal,
    customer_ref: str,
    purpose: str,
    limit: int,
    order: str,
    after: str,
    customer_filter: str,
) -> tuple[list[StoredFile], bool]:
    """One page in creation order (`desc` by default), after the file `after`."""
    require_scope(principal, "api:read", customer_bound=True)
    customer_id = listing_customer(core, principal, customer_ref, customer_filter)
    limit = limit or MAX_LIST
    if not 1 <= limit <= MAX_LIST:
        raise RingsideError("invalid_request", f"limit must be between 1 and {MAX_LIST}.", "limit")
    if order not in ("", "asc", "desc"):
        raise RingsideError("invalid_request", "order must be asc or desc.", "order")
    if purpose and purpose not in LISTED_PURPOSES:
        raise RingsideError("invalid_request", f"purpose must be one of {', '.join(LISTED_PURPOSES)}.", "purpose")
    visible = (f for f in core.state.files.values() if f.visible(principal.account_id, principal.livemode, customer_id))
    mine = sorted(
        (f for f in visible if not purpose or f.purpose == purpose),
        key=lambda f: (f.created, f.id),
        reverse=order != "asc",
    )
    return cursor_page(mine, lambda f: f.id, limit, after, "", "file")


async def delete(
    core: Core, principal: Principal, file_id: str, customer_ref: str
) -> tuple[StoredFile, list[tuple[str, int]]]:
    """Deletes the file and, in the same commit, detaches it from every store (it leaves their
    listings and file_counts at once). → the file and the (store id, generation) it left, whose
    points the caller removes from the index."""
    require_scope(principal, "api:write", customer_bound=True)
    stored = get(core, principal, file_id, customer_ref)
    now = int(core.now())
    attached = [store_id for store_id, rows in core.state.store_files.items() if stored.id in rows]
    left = [(store_id, store.generation) for store_id in attached if (store := core.state.vector_stores.get(store_id))]

    def forget() -> None:
        stored.deleted_at = now
        core.state.files.pop(stored.id, None)
        for store_id in attached:
            core.state.store_files.get(store_id, {}).pop(stored.id, None)

    detaches = [VectorStoreFileDetach(store_id, stored.id) for store_id in attached]
    await core.writer.write_then_apply([FileDeletion(stored.id, now), *detaches], forget, accounts=(stored.account_id,))
    return stored, left


MAX_LIVE_CHECK = 1000  # ids per list in one LiveRagObjects call


def live_rag_objects(
    core: Core, file_ids: list[str], store_ids: list[str], sha256s: list[str]
) -> tuple[list[str], list[str], list[str]]:
    """Which of these the rag role may keep: files not deleted, stores not deleted, contents some
    live file has. Everything else — deleted, or erased with its customer — it removes."""
    if max(len(file_ids), len(store_ids), len(sha256s)) > MAX_LIVE_CHECK:
        raise RingsideError("invalid_request", f"At most {MAX_LIVE_CHECK} ids per list.", "file_ids")
    files = [f for f in file_ids if f in core.state.files]
    stores = [s for s in store_ids if s in core.state.vector_stores]
    wanted = set(sha256s)
    held = {f.sha256 for f in core.state.files.values() if f.sha256 in wanted}
    return files, stores, [digest for digest in sha256s if digest in held]


def live_attachments(core: Core, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (store, file) pairs whose points the rag role may keep: the file is attached to the store
    and its ingest not cancelled. A file deleted or detached (even while the rag role was down) is not."""
    if len(pairs) > MAX_LIVE_CHECK:
        raise RingsideError("invalid_request", f"At most {MAX_LIVE_CHECK} ids per list.", "attachments")
    live = []
    for store_id, file_id in pairs:
        row = core.state.store_files.get(store_id, {}).get(file_id)
        if row is not None and row.status != "cancelled":
            live.append((store_id, file_id))
    return live
