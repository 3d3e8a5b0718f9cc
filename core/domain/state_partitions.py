"""A core's hot state by partition (issue 25, docs/scaling.md "Partitions over active cores"):
keep only some partitions' accounts, add a partition set loaded later, drop one handed back.

Every object of the state belongs to one account (signing keys to none: they are shared), and an
account to one partition, so partition sets never share an object: adopting a set loaded after
the core started is a union, and dropping one removes exactly its accounts' objects."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable

from core.domain.erasure import PENDING
from core.domain.state import State

Owned = Callable[[str], bool]  # account id → is it in the partitions concerned


def keep_only(state: State, owned: Owned) -> State:
    """`state` without the objects of accounts outside `owned` (what a load keeps)."""
    _drop(state, lambda account_id: not owned(account_id))
    return state


def drop(state: State, leaving: Owned) -> None:
    """Removes the objects of the accounts in `leaving` (partitions this core handed back: their
    next owner loads them from the database; a copy left here would go stale)."""
    _drop(state, leaving)


def adopt(state: State, loaded: State) -> None:
    """Adds `loaded` (another partition set's objects, loaded from the database) to `state`."""
    state.accounts.update(loaded.accounts)
    state.keys_by_hash.update(loaded.keys_by_hash)
    state.keys_by_id.update(loaded.keys_by_id)
    state.customers.update(loaded.customers)
    state.erasures_pending.update(c.id for c in loaded.customers.values() if c.erasure == PENDING)
    if state.customers_seen is not None:  # a lazy start's chunks never install an older copy of them
        state.customers_seen.update(loaded.customers)
    state.customers_by_external.update(loaded.customers_by_external)
    state.tiers.update(loaded.tiers)
    state.tiers_by_name.update(loaded.tiers_by_name)
    state.slots.update(loaded.slots)
    state.slots_by_name.update(loaded.slots_by_name)
    for hold in loaded.holds.values():
        state.add_hold(hold)
    state.prepaid.update(loaded.prepaid)
    for kid, key in loaded.signing_keys.items():
        state.signing_keys.setdefault(kid, key)
    state.files.update(loaded.files)
    state.vector_stores.update(loaded.vector_stores)
    state.store_files.update(loaded.store_files)
    state.batches.update(loaded.batches)
    state.store_migrations.update(loaded.store_migrations)


def _drop(state: State, gone: Owned) -> None:
    for name in ("accounts", "prepaid"):
        table = getattr(state, name)
        for account_id in [a for a in table if gone(a)]:
            del table[account_id]
    for name in ("keys_by_hash", "keys_by_id", "customers", "tiers", "slots", "files", "batches", "vector_stores"):
        _drop_where(getattr(state, name), lambda value: gone(getattr(value, "account_id", "")))
    for name in ("customers_by_external", "tiers_by_name", "slots_by_name"):
        table = getattr(state, name)
        for key in [k for k in table if gone(k[0])]:
            del table[key]
    for store_id in [s for s, files in state.store_files.items() if any(gone(f.account_id) for f in files.values())]:
        del state.store_files[store_id]
    for store_id in [s for s in state.store_migrations if s not in state.vector_stores]:
        del state.store_migrations[store_id]
    held = [hold.id for hold in state.holds.values() if gone(hold.account_id)]
    for hold_id in held:
        del state.holds[hold_id]
    if held:
        state.expiry_heap = [(h.expires_at, h.id) for h in state.holds.values()]
        heapq.heapify(state.expiry_heap)


def _drop_where(table: dict[str, object], gone: Callable[[object], bool]) -> None:
    for key in [k for k, v in table.items() if gone(v)]:
        del table[key]


def window_account(state: State, key: tuple[str, ...]) -> str:
    """What partitions a rate-limit window (core/domain/limits.py's keys): a customer's or an
    account's account; an IP's `ip:<address>` (core/domain/ip_blocks.py: its window is the owner's
    of that partition); "" for a client token's (it follows its account's calls) or a block
    borrowed from another core's IP window, which no partition owns (not handed over)."""
    if key[:1] == ("customer",) and len(key) > 1:
        customer = state.customers.get(key[1])
        return customer.account_id if customer is not None else ""
    if key[:1] == ("account",) and len(key) > 1:
        return key[1]
    if key[:1] == ("ip",) and len(key) > 1:
        return "ip:" + key[1]
    return ""


def in_partitions(partitions: Iterable[int], count: int) -> Owned:
    """The predicate `account id → its partition is one of partitions`."""
    from ringside_server.partitions import partition_of

    wanted = frozenset(partitions)
    return lambda account_id: partition_of(account_id, count) in wanted
