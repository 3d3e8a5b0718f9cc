"""Assistants API objects (assistants, threads, thread messages, runs), kept for compatibility.

An assistant or thread belongs to the customer named by FC-Customer (else the account); a thread's
messages and runs belong to the thread's owner. A caller bound to a customer sees that customer's
objects only; an account-level caller sees the account's. Anything else is 404, never 403. The
run's worker acts for the key that created the run (`Key key_…` with the internal token)."""

from __future__ import annotations

import dataclasses

from core.domain.assistants import (
    CHILD_KINDS,
    KINDS,
    MAX_JSON_CHARS,
    MAX_PRIVATE_CHARS,
    AssistantObject,
    AssistantObjectDeletion,
    AssistantObjectUpdate,
    visible_to,
)
from core.services.core import Core, Principal, has_scope, require_scope
from core.services.files import asking_customer
from core.services.webhooks import read
from core.store import assistants as store
from ringside_server.errors import RingsideError

MAX_ID = 64
PREFIXES = {"assistant": "asst_", "thread": "thread_", "message": "msg_", "run": "run_"}
PARAMS = {"assistant": "assistant_id", "thread": "thread_id", "message": "message_id", "run": "run_id"}
NAMES = {"assistant": "assistant", "thread": "thread", "message": "message", "run": "run"}
DEFAULT_LIST = 20
MAX_LIST = 100
MAX_PENDING = 500
TOKEN_WRITABLE = ("thread", "message", "run")  # what a Client Token creates and changes
ENDED = ("failed", "cancelled", "expired", "completed", "incomplete")


def not_found(kind: str, object_id: str) -> RingsideError:
    return RingsideError(
        "not_found", f"No {NAMES.get(kind, 'object')} found with id '{object_id[:MAX_ID]}'.", PARAMS.get(kind, "id")
    )


def _reader(core: Core, principal: Principal, customer_ref: str, kind: str, object_id: str) -> str | None:
    """The customer a request is bound to (None: an account-level request); an unknown customer
    answers as the object not found."""
    return asking_customer(core, principal, customer_ref, unknown=not_found(kind, object_id))


async def _visible(
    core: Core,
    principal: Principal,
    object_id: str,
    kind: str,
    customer_ref: str,
    parent_id: str = "",
    shared_ok: bool = False,
) -> AssistantObject:
    """The object when this caller may see it; `shared_ok`: a customer also reads the account's own
    assistants (one assistant serving every customer's threads), which only the account changes."""
    if kind not in KINDS:
        raise RingsideError("invalid_request", "Unknown object kind.", "kind")
    reader = _reader(core, principal, customer_ref, kind, object_id)
    # an id that cannot be one (a NUL PostgreSQL cannot look up) is simply not found
    found = await read(store.get, core.engine, object_id[:MAX_ID]) if object_id and "\x00" not in object_id else None
    if (
        found is None
        or found.kind != kind
        or (parent_id and found.parent_id != parent_id)
        or not (
            visible_to(found, principal.account_id, principal.livemode, reader)
            or (shared_ok and kind == "assistant" and visible_to(found, principal.account_id, principal.livemode, ""))
        )
    ):
        raise not_found(kind, object_id)
    return found


def _write_scope(core: Core, principal: Principal, kind: str) -> str:
    """May this caller write an object of this kind? → the key the object is made as (a run's worker
    acts for it). A Client Token writes its customer's threads, messages and runs (never
    assistants: they are the account's configuration) as the key that minted it, while that key lives."""
    if not principal.customer_id:
        require_scope(principal, "api:write")
        return principal.key_id
    if kind not in TOKEN_WRITABLE:
        raise RingsideError(
            "endpoint_not_allowed",
            "A client token cannot create or change assistants; use a secret key on your server.",
        )
    if not principal.minting_key_id:
        raise RingsideError(
            "invalid_client_token",
            "This client token was minted before Assistants accepted client tokens; mint a new one.",
        )
    key = core.state.keys_by_id.get(principal.minting_key_id)
    if key is None or key.revoked_at is not None or key.account_id != principal.account_id:
        raise RingsideError(
            "invalid_client_token", "The API key that minted this client token was revoked; mint a new one."
        )
    if not has_scope(key.scopes, "api:write"):
        raise RingsideError("insufficient_scope", "The key that minted this client token lacks the api:write scope.")
    return key.id


def _ending_run(principal: Principal, kind: str, status: str = "") -> bool:
    """A run's worker acting for a revoked key: it may read its run and end it, nothing else."""
    if not principal.key_revoked:
        return False
    if kind != "run" or (status and status not in ENDED):
        raise RingsideError("invalid_api_key", "The key this work was started with is revoked.")
    return True


def _check_size(body_json: str, private_json: str) -> None:
    if len(body_json) > MAX_JSON_CHARS or len(private_json) > MAX_PRIVATE_CHARS:
        raise RingsideError("payload_too_large", "This object is too large to store.")


async def create(core: Core, principal: Principal, given: AssistantObject, customer_ref: str) -> AssistantObject:
    acting_key = _write_scope(core, principal, given.kind)
    if given.kind not in KINDS:
        raise RingsideError("invalid_request", "Unknown object kind.", "kind")
    if not given.id.startswith(PREFIXES[given.kind]) or len(given.id) > MAX_ID:
        raise RingsideError("invalid_request", f"An {given.kind} needs a {PREFIXES[given.kind]} id.", "id")
    _check_size(given.body_json, given.private_json)
    if given.kind in CHILD_KINDS:
        thread = await _visible(core, principal, given.parent_id, "thread", customer_ref)
        owner = thread.customer_id
    else:
        reader = _reader(core, principal, customer_ref, given.kind, given.id)
        owner = reader or ""
    kept = dataclasses.replace(
        given,
        account_id=principal.account_id,
        livemode=principal.livemode,
        customer_id=owner,
        parent_id=given.parent_id if given.kind in CHILD_KINDS else "",
        created=given.created or core.now(),
        position=core.assistant_positions.next(int(core.clock() * 1_000_000_000)),
        key_id=acting_key,
    )
    await core.writer.write([kept])
    return kept


async def get(
    core: Core, principal: Principal, object_id: str, kind: str, customer_ref: str, parent_id: str
) -> AssistantObject:
    if not _ending_run(principal, kind):
        require_scope(principal, "api:read", customer_bound=True)
    return await _visible(core, principal, object_id, kind, customer_ref, parent_id, shared_ok=True)


async def update(
    core: Core,
    principal: Principal,
    target: tuple[str, str, str, str],
    change: tuple[str, str, str],
    only_from: tuple[str, ...],
) -> AssistantObject:
    """Write (body_json, private_json, status) unless the status has moved on; the object as it is."""
    object_id, kind, customer_ref, parent_id = target
    if not _ending_run(principal, kind, change[2] or "-"):
        _write_scope(core, principal, kind)
    found = await _visible(core, principal, object_id, kind, customer_ref, parent_id)
    body_json, private_json, status = change
    _check_size(body_json, private_json)
    await core.writer.write([AssistantObjectUpdate(found.id, status[:32], body_json, private_json, only_from)])
    now = await read(store.get, core.engine, found.id)
    if now is None:
        raise not_found(kind, object_id)
    return now


async def delete(core: Core, principal: Principal, object_id: str, kind: str, customer_ref: str, parent_id: str) -> str:
    _write_scope(core, principal, kind)
    found = await _visible(core, principal, object_id, kind, customer_ref, parent_id)
    await core.writer.write([AssistantObjectDeletion(found.id)], accounts=(found.account_id,))  # fenced on its account
    return found.id


@dataclasses.dataclass(frozen=True, slots=True)
class ListAsk:
    kind: str
    parent_id: str
    customer_ref: str
    limit: int
    order: str
    after: str
    before: str


async def list_objects(core: Core, principal: Principal, ask: ListAsk) -> tuple[list[AssistantObject], bool]:
    require_scope(principal, "api:read", customer_bound=True)
    if ask.kind not in KINDS:
        raise RingsideError("invalid_request", "Unknown object kind.", "kind")
    limit = ask.limit or DEFAULT_LIST
    if not 1 <= limit <= MAX_LIST:
        raise RingsideError("invalid_request", f"limit must be between 1 and {MAX_LIST}.", "limit")
    if ask.order not in ("", "asc", "desc"):
        raise RingsideError("invalid_request", "order must be asc or desc.", "order")
    reader = _reader(core, principal, ask.customer_ref, ask.kind, "")
    if ask.kind in CHILD_KINDS:
        await _visible(core, principal, ask.parent_id, "thread", ask.customer_ref)
    cursors: dict[str, int | None] = {"after": None, "before": None}
    for name, cursor in (("after", ask.after), ("before", ask.before)):
        if cursor:
            found = await read(store.get, core.engine, cursor[:MAX_ID]) if "\x00" not in cursor else None
            if (
                found is None
                or found.kind != ask.kind
                or (found.account_id, found.livemode) != (principal.account_id, principal.livemode)
            ):
                raise RingsideError("invalid_request", f"No such object: '{cursor[:MAX_ID]}'.", name)
            cursors[name] = found.position
    listing = store.Listing(
        kind=ask.kind,
        account_id=principal.account_id,
        livemode=principal.livemode,
        customer_ids=None if reader is None else ((reader, "") if ask.kind == "assistant" else (reader,)),
        parent_id=ask.parent_id if ask.kind in CHILD_KINDS else "",
        limit=limit,
        descending=ask.order != "asc",
        after_position=cursors["after"],
        before_position=cursors["before"],
    )
    return await read(store.page, core.engine, listing)


async def pending_runs(core: Core, limit: int) -> list[AssistantObject]:
    return await read(store.queued_runs, core.engine, max(1, min(limit or MAX_PENDING, MAX_PENDING)))
