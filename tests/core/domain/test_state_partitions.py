"""core/domain/state_partitions.py and core/services/ownership.py without a database: a core's
memory keeps, drops and adopts exactly one partition set's accounts; a key of an account another
core serves is answered "not owner" (with that account), one of its own passes."""

from __future__ import annotations

import copy

import pytest

from core.domain import state_partitions
from core.domain.state import State
from core.services.ownership import NotOwner, Ownership, key_router
from ringside_server.partitions import partition_of
from tests.core.domain.world import OTHER_SECRET, WRITE_SECRET, World

# A partition count that puts the world's two accounts apart.
PARTITIONS = next(p for p in range(2, 64) if partition_of("acct_1", p) != partition_of("acct_2", p))


def _world() -> World:
    world = World()
    world.customer("cus_1", budget_nano=10**12, external_id="one")
    world.customer("cus_2", account_id="acct_2", external_id="two")
    world.state.prepaid_of("acct_2").balance_nano = 5
    world.admitted(customer_ref="cus_1")
    return world


def _accounts_in(state: State) -> set[str]:
    return (
        set(state.accounts)
        | {k.account_id for k in state.keys_by_hash.values()}
        | {k.account_id for k in state.keys_by_id.values()}
        | {c.account_id for c in state.customers.values()}
        | {key[0] for key in state.customers_by_external}
        | {h.account_id for h in state.holds.values()}
        | set(state.prepaid)
    )


def test_dropping_a_partition_set_removes_exactly_its_accounts_objects() -> None:
    state = _world().state
    assert _accounts_in(state) == {"acct_1", "acct_2"}
    holds = dict(state.holds)
    assert len(holds) == 1  # acct_1's admitted call
    state_partitions.drop(state, state_partitions.in_partitions([partition_of("acct_2", PARTITIONS)], PARTITIONS))
    assert _accounts_in(state) == {"acct_1"}
    assert state.holds == holds  # acct_1's hold stays, with its expiry
    assert [hold_id for _, hold_id in state.expiry_heap] == list(holds)


def test_keeping_then_adopting_the_other_set_gives_back_the_whole_state() -> None:
    whole = _world().state
    mine = state_partitions.keep_only(copy.deepcopy(whole), lambda account_id: account_id == "acct_1")
    theirs = state_partitions.keep_only(copy.deepcopy(whole), lambda account_id: account_id == "acct_2")
    assert _accounts_in(mine) == {"acct_1"} and _accounts_in(theirs) == {"acct_2"}
    state_partitions.adopt(mine, theirs)
    for name in ("accounts", "keys_by_hash", "keys_by_id", "customers", "customers_by_external", "holds"):
        assert set(getattr(mine, name)) == set(getattr(whole, name)), name
    assert mine.prepaid["acct_2"].balance_nano == 5


def test_another_cores_key_is_answered_not_owner_with_its_account() -> None:
    world = _world()
    mine = partition_of("acct_1", PARTITIONS)
    ownership = Ownership(PARTITIONS, serving=frozenset({mine}), owners={partition_of("acct_2", PARTITIONS): "b:1"})
    world.meter.route_key = key_router(ownership, engine=None)  # type: ignore[arg-type]  # keys in memory only
    assert world.meter.authenticate(WRITE_SECRET) is not None
    with pytest.raises(NotOwner) as refused:
        world.meter.authenticate(OTHER_SECRET)
    assert (refused.value.account_id, refused.value.owner_address) == ("acct_2", "b:1")
    assert refused.value.code == "service_unavailable"  # a client that cannot route shows a 503
    ownership.serving = None  # one active core: nothing is refused
    assert world.meter.authenticate(OTHER_SECRET) is not None
