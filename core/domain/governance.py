"""Which models a caller may call (API.md "Governance"): the lists a call's resolved model must
pass — the key's (a Client Token's: the list of the key that minted it) and the customer's
effective one (limits.py) — with `slot:` entries replaced by their slots' current targets, so the
edge can resolve `match:` refs and fallbacks among allowed models before anything is held."""

from __future__ import annotations

from core.domain import client_tokens
from core.domain.entities import ApiKey, Customer, Denial, hash_secret
from core.domain.limits import effective
from core.domain.state import State
from ringside_server.metering import slot_refs

ModelLists = list[tuple[str, ...]]


def expand_slots(state: State, account_id: str, livemode: bool, entries: tuple[str, ...]) -> tuple[str, ...]:
    """`slot:X` → every current target of slot X (a deleted or unknown slot allows nothing)."""
    expanded: dict[str, None] = {}
    for entry in entries:
        if not entry.startswith("slot:"):
            expanded[entry] = None
            continue
        slot = state.find_slot(account_id, livemode, entry[5:])
        if slot is not None and slot.deleted_at is None and slot.account_id == account_id:
            expanded.update((ref, None) for ref in slot_refs.decode(slot.model)[0])
    return tuple(expanded)


def customer_list(state: State, key: ApiKey, customer: Customer | None, would_create: bool) -> tuple[str, ...] | None:
    """The customer's effective list; for a customer a call would auto-create, its default tier's."""
    if customer is not None:
        return effective(state, customer).allowed_models
    if not would_create or not state.accounts[key.account_id].auto_create_customers:
        return None
    default = state.accounts[key.account_id].default_tier(key.livemode)
    tier = state.tiers.get(default) if default else None
    return tier.allowed_models if tier is not None and tier.deleted_at is None else None


def caller_lists(
    state: State,
    api_key: str,
    client_token: str,
    customer_ref: str,
    user: str,
    now: float,
    key_only: bool = False,
    key_id: str = "",
) -> ModelLists:
    """Every non-null list the caller's calls must pass ([]: every model). An unknown key or token
    gets [] here: the call's own admission refuses it with the right error."""
    customer: Customer | None
    if client_token:
        checked = client_tokens.caller(state, client_token, customer_ref, now)
        if isinstance(checked, Denial):
            return []
        key, customer, would_create = checked[0], checked[1], False
    else:
        # a call Ringside makes on a key's behalf (a batch's line) names the key by id
        found = (
            state.keys_by_id.get(key_id)
            if key_id
            else state.keys_by_hash.get(hash_secret(api_key))
            if api_key
            else None
        )
        if found is None or found.revoked_at is not None:
            return []
        key = found
        ref = customer_ref or ("ext:" + user if user else "")
        customer = state.find_customer(key.account_id, key.livemode, ref) if ref else None
        would_create = customer is None and ref.startswith("ext:")
    lists = [key.allowed_models]
    if not key_only:
        lists.append(customer_list(state, key, customer, would_create))
    return [expand_slots(state, key.account_id, key.livemode, entries) for entries in lists if entries is not None]
