"""Leases, reports, closes, expiries and per-call admissions in any order never pass a cap."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from core.domain import ledger
from core.domain.entities import Denial, Hold, Transfer
from core.domain.metering import LEASE_ROOM_SHARE, Admission
from core.domain.settlement import SettlePlan
from ringside_server.money import Usage
from tests.core.domain.lease_world import (
    FAST,
    ONE_CALL,
    acquire,
    finished,
)
from tests.core.domain.world import (
    World,
)

# -- the budget holds whatever the order of events -------------------------------------------------


@dataclass(frozen=True)
class Lease:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Admit:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Reported:
    """A call an edge reports: request id number, tokens used, the estimate it reserved, outcome."""

    number: int
    input_tokens: int
    output_tokens: int
    estimate_nano: int
    status: str


@dataclass(frozen=True)
class Report:
    lease: int
    calls: list[Reported]


@dataclass(frozen=True)
class Close:
    lease: int


@dataclass(frozen=True)
class Expire:
    lease: int


@dataclass(frozen=True)
class Settle:
    hold: int
    output_tokens: int


Op = Lease | Admit | Report | Close | Expire | Settle
TOKENS = st.integers(min_value=0, max_value=5_000)
PICK = st.integers(min_value=0, max_value=15)  # which open lease or hold, modulo how many are open


@st.composite
def lease_histories(draw: st.DrawFn) -> tuple[int, list[Op]]:
    """A cap and a history of one customer's calls: lease acquisitions, per-call admissions, reports
    of calls under a lease (request ids from a small pool so repeats occur; estimates as any edge may
    send them), closes, expiries and per-call settles."""
    # Calls' worth plus some nano: small integers alone would rarely leave room for a lease.
    budget = draw(st.integers(min_value=0, max_value=60)) * ONE_CALL + draw(st.integers(0, ONE_CALL))
    reported = st.builds(
        Reported,
        st.integers(min_value=0, max_value=9),
        TOKENS,
        TOKENS,
        st.integers(min_value=0, max_value=5 * ONE_CALL),
        st.sampled_from(["completed", "aborted", "failed"]),
    )
    output = st.integers(min_value=0, max_value=2_000)
    ops = st.one_of(
        st.builds(Lease, TOKENS, output),
        st.builds(Admit, TOKENS, output),
        st.builds(Report, PICK, st.lists(reported, max_size=10)),
        st.builds(Report, PICK, st.lists(reported, min_size=4, max_size=10)),  # reports are the busy part
        st.builds(Close, PICK),
        st.builds(Expire, PICK),
        st.builds(Settle, PICK, TOKENS),
    )
    return budget, draw(st.lists(ops, min_size=1, max_size=40))


@dataclass
class Books:
    """Every transfer the history wrote, to check the ledger beside the hot counters."""

    transfers: list[Transfer] = field(default_factory=list)

    def add(self, records: list[object]) -> None:
        self.transfers += [record for record in records if isinstance(record, Transfer)]

    def spent(self) -> int:
        return sum(t.amount_nano for t in self.transfers if t.kind in ledger.SPEND_KINDS)

    def posted_against(self, hold_id: str) -> int:
        return sum(
            t.amount_nano
            for t in self.transfers
            if t.kind in ("post", "expire", "lease_post") and (t.hold_id == hold_id or t.request_id == hold_id)
        )


def run(world: World, op: Op, open_holds: list[Hold]) -> list[object]:
    """Apply one event like the services do; returns the records it wrote."""
    customer = world.state.customers["cus_1"]
    assert customer.budget_nano is not None
    room = customer.budget_nano - customer.spent_nano - customer.held_nano
    leases = [hold for hold in open_holds if hold.kind == "lease"]
    calls = [hold for hold in open_holds if hold.kind == "call"]
    if isinstance(op, Lease | Admit):
        decision: Admission | Denial | None
        if isinstance(op, Lease):
            decision = acquire(world, input_tokens=op.input_tokens, output_tokens=op.output_tokens)
            share = LEASE_ROOM_SHARE
        else:
            decision = world.admit(input_tokens=op.input_tokens, output_tokens=op.output_tokens)
            share = 1
        if not isinstance(decision, Admission):
            return []
        assert decision.hold.amount_nano <= room // share
        return decision.records
    plan: SettlePlan
    if isinstance(op, Report) and leases:
        lease = leases[op.lease % len(leases)]
        plan = world.meter.plan_lease_calls(
            lease,
            [
                finished(
                    f"{lease.id}_c{c.number}",
                    input_tokens=c.input_tokens,
                    output_tokens=c.output_tokens,
                    estimate_nano=c.estimate_nano,
                    status=c.status,
                )
                for c in op.calls
            ],
        )
    elif isinstance(op, Close) and leases:
        plan = world.meter.plan_close_lease(leases[op.lease % len(leases)])
    elif isinstance(op, Expire) and leases:
        plan = world.meter.plan_expire(leases[op.lease % len(leases)])
    elif isinstance(op, Settle) and calls:
        hold = calls[op.hold % len(calls)]
        plan = world.meter.plan_settle(hold, Usage(500, output_tokens=op.output_tokens), "completed", False, "m")
    else:
        return []
    world.meter.apply(plan)
    return plan.records


@FAST
@given(history=lease_histories(), markup_bp=st.integers(min_value=0, max_value=20_000))
def test_leases_and_calls_never_let_spend_and_holds_pass_the_cap(history: tuple[int, list[Op]], markup_bp: int) -> None:
    budget, ops = history
    world = World()
    world.account.markup_bp = markup_bp
    customer = world.customer(budget_nano=budget)
    books = Books()
    reserved: dict[str, int] = {}  # every hold and lease granted, in order → its amount
    for op in ops:
        open_holds = [world.state.holds[hold_id] for hold_id in reserved if hold_id in world.state.holds]
        records = run(world, op, open_holds)
        books.add(records)
        reserved |= {r.id: r.amount_nano for r in records if isinstance(r, Hold)}
        assert customer.spent_nano + customer.held_nano <= budget
        assert customer.held_nano == sum(h.remaining_nano for h in world.state.holds.values())
        assert customer.spent_nano == books.spent()
        assert all(t.amount_nano >= 0 for t in books.transfers)
        assert all(books.posted_against(hold_id) <= amount for hold_id, amount in reserved.items())
