"""Slots: a name for an ordered list of model refs (the first, then its fallbacks), stored
comma-separated in `model` (refs never hold a comma), each with an optional `*<weight>`
(ringside_server/metering/slot_refs.py). The edge checks each ref before creating it."""

from __future__ import annotations

from core.domain.entities import Slot, SlotDeletion
from core.services.core import Core, Principal, require_scope
from core.services.pages import page
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

MAX_NAME = 100
MAX_MODEL = 300
MAX_REFS = 5


async def create(core: Core, principal: Principal, name: str, model: str) -> Slot:
    require_scope(principal, "api:write")
    if not 1 <= len(name) <= MAX_NAME or name.startswith("slot_") or ":" in name:
        raise RingsideError(
            "invalid_request", f"name must be 1..{MAX_NAME} characters, without ':', not starting with 'slot_'.", "name"
        )
    refs = model.split(",")
    if len(model) > MAX_MODEL or len(refs) > MAX_REFS or not all(ref.startswith(("fc:", "match:")) for ref in refs):
        raise RingsideError(
            "invalid_model_ref",
            f"model must be 1..{MAX_REFS} refs like fc:openai/gpt-4o-mini or match:anthropic/sonnet>=4 "
            f"({MAX_MODEL} characters in all).",
            "model",
        )
    if core.state.find_slot(principal.account_id, principal.livemode, name) is not None:
        raise RingsideError("invalid_request", f"A slot named '{name}' exists already.", "name")
    slot = Slot(new_sortable_id("slot"), principal.account_id, principal.livemode, name, model, core.now())
    core.state.add_slot(slot)  # claims the name before the write

    def unclaim(_: BaseException) -> None:
        core.state.slots.pop(slot.id, None)
        core.state.slots_by_name.pop((slot.account_id, slot.livemode, slot.name), None)

    await core.writer.write_then_apply([slot], lambda: None, unclaim)
    return slot


def list_slots(
    core: Core, principal: Principal, limit: int, starting_after: str, ending_before: str
) -> tuple[list[Slot], bool]:
    require_scope(principal, "api:read")
    mine = sorted(
        (
            s
            for s in core.state.slots.values()
            if s.account_id == principal.account_id and s.livemode == principal.livemode and s.deleted_at is None
        ),
        key=lambda s: s.id,
        reverse=True,
    )
    return page(mine, lambda s: s.id, limit, starting_after, ending_before)


async def delete(core: Core, principal: Principal, ref: str) -> Slot:
    require_scope(principal, "api:write")
    slot = core.state.find_slot(principal.account_id, principal.livemode, ref)
    if slot is None:
        raise RingsideError("not_found", f"No such slot: '{ref[:200]}'.", "id")
    now = core.now()

    def forget() -> None:
        slot.deleted_at = now
        core.state.slots_by_name.pop((slot.account_id, slot.livemode, slot.name), None)

    await core.writer.write_then_apply([SlotDeletion(slot.id, now)], forget, accounts=(slot.account_id,))
    return slot


def resolve(core: Core, api_key: str, name: str, key_id: str = "") -> tuple[str, str]:
    """(the slot's target ref or "", the account's bare_model_provider for the key's mode or ""); the
    key by id for a call Ringside makes on its behalf (a batch's line)."""
    key = core.meter.key_by_id(key_id) if key_id else core.meter.authenticate(api_key)
    if key is None:
        raise RingsideError("invalid_api_key", "Invalid API key provided.")
    slot = core.state.find_slot(key.account_id, key.livemode, name)
    bare_provider = core.state.accounts[key.account_id].bare_model_provider(key.livemode) or ""
    return (slot.model if slot is not None else ""), bare_provider
