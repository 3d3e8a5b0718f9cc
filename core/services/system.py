"""Readiness of the roles, and the ledger audit."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass

from sqlalchemy import Connection, func, select, union_all

from core.domain import ledger
from core.domain.periods import period_bounds
from core.services.core import Core
from core.store import ledger_totals
from core.store.loader import customer_spend, spend_by_payer_period
from core.store.tables import TRANSFERS, USAGE

MAX_REPORTERS = 1000
AUDIT_LOOKBACK_S = 40 * 86_400


def heartbeat(core: Core, role: str, instance: str) -> None:
    if len(role) > 32 or len(instance) > 200:
        return
    core.heartbeats[(role, instance)] = core.clock()
    if len(core.heartbeats) > MAX_REPORTERS:  # bound: forget the stalest reporters
        for stale in sorted(core.heartbeats, key=core.heartbeats.__getitem__)[:100]:
            del core.heartbeats[stale]


def status(core: Core) -> list[tuple[str, str, float]]:
    now = core.clock()
    return [(role, instance, now - seen) for (role, instance), seen in core.heartbeats.items()]


@dataclass(frozen=True, slots=True)
class LedgerAudit:
    transfer_count: int
    imbalance_nano: int
    overposted_holds: int
    multiply_resolved_holds: int
    usage_ledger_mismatches: int
    open_holds: int
    invalid_transfers: int
    period_spend: dict[tuple[str, int], int]
    memory_mismatches: int = 0
    # Accounts' prepaid balances in the ledger (credits − debits of `<acct>:live:prepaid`).
    prepaid_balances: dict[str, int] = dataclasses.field(default_factory=dict)
    # (account, period, kind) rows of the running ledger totals that differ from the transfers summed
    # again: the core starts, and the Stripe sync and period close read, from those totals.
    totals_mismatches: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.imbalance_nano
            or self.overposted_holds
            or self.multiply_resolved_holds
            or self.usage_ledger_mismatches
            or self.invalid_transfers
            or self.memory_mismatches
            or self.totals_mismatches
        )


def _scalar(connection: Connection, statement: object) -> int:
    return int(connection.execute(statement).scalar_one())  # type: ignore[call-overload]


def _audit(core: Core) -> LedgerAudit:
    t = TRANSFERS.c
    pending = TRANSFERS.alias("pending")
    resolution = TRANSFERS.alias("resolution")
    with core.engine.connect() as connection:
        count = _scalar(connection, select(func.count()).select_from(TRANSFERS))
        # Σ over ledger accounts of (credits - debits) of posted transfers: zero unless a leg is
        # missing or an amount was altered. One statement, so one snapshot: read as two, a transfer
        # committed between them (an expiry, a live call) showed as a false imbalance.
        legs = union_all(
            select(t.credit.label("account"), t.amount_nano.label("amount")).where(t.kind != "pending"),
            select(t.debit.label("account"), (-t.amount_nano).label("amount")).where(t.kind != "pending"),
        ).subquery()
        # a dict comprehension, not dict(result): a Result has .keys() and would be read as a mapping.
        balances = {
            account: int(amount)
            for account, amount in connection.execute(
                select(legs.c.account, func.sum(legs.c.amount)).group_by(legs.c.account)
            )
        }
        invalid = _scalar(
            connection,
            select(func.count()).select_from(TRANSFERS).where((t.amount_nano < 0) | (t.debit == t.credit)),
        )
        overposted = _scalar(
            connection,
            select(func.count())
            .select_from(resolution.join(pending, pending.c.id == resolution.c.pending_id))
            .where(resolution.c.amount_nano > pending.c.amount_nano),
        )
        lease_posts = (
            select(t.hold_id, func.sum(t.amount_nano).label("amount"))
            .where(t.kind == "lease_post")
            .group_by(t.hold_id)
            .subquery()
        )
        overposted += _scalar(
            connection,
            select(func.count())
            .select_from(
                pending.join(lease_posts, lease_posts.c.hold_id == pending.c.request_id).outerjoin(
                    resolution, resolution.c.pending_id == pending.c.id
                )
            )
            .where(
                pending.c.kind == "pending",
                lease_posts.c.amount + func.coalesce(resolution.c.amount_nano, 0) > pending.c.amount_nano,
            ),
        )
        multiply = _scalar(
            connection,
            select(func.count()).select_from(
                select(t.pending_id)
                .where(t.pending_id.is_not(None))
                .group_by(t.pending_id)
                .having(func.count() > 1)
                .subquery()
            ),
        )
        posted = (
            select(t.request_id, func.sum(t.amount_nano).label("amount"))
            .where(t.kind.in_(ledger.SPEND_KINDS))
            .group_by(t.request_id)
            .subquery()
        )
        refunded = (
            select(t.request_id, func.sum(t.amount_nano).label("amount"))
            .where(t.kind == "correction")
            .group_by(t.request_id)
            .subquery()
        )
        mismatches = _scalar(
            connection,
            select(func.count())
            .select_from(
                USAGE.join(posted, posted.c.request_id == USAGE.c.request_id).outerjoin(
                    refunded, refunded.c.request_id == USAGE.c.request_id
                )
            )
            .where(posted.c.amount - func.coalesce(refunded.c.amount, 0) != USAGE.c.posted_nano),
        )
        open_holds = _scalar(
            connection,
            select(func.count())
            .select_from(pending)
            .where(
                pending.c.kind == "pending",
                ~select(resolution.c.id).where(resolution.c.pending_id == pending.c.id).exists(),
            ),
        )
        period_spend = spend_by_payer_period(connection, core.now() - AUDIT_LOOKBACK_S)
        totals_mismatches = len(ledger_totals.mismatches(connection))
    imbalance = sum(balances.values())
    prepaid = {a: amount for a, amount in balances.items() if a.endswith(":live:prepaid")}
    return LedgerAudit(
        count,
        imbalance,
        overposted,
        multiply,
        mismatches,
        open_holds,
        invalid,
        period_spend,
        prepaid_balances=prepaid,
        totals_mismatches=totals_mismatches,
    )


def _memory_snapshot(core: Core) -> dict[str, tuple[int, int]]:
    customers = {c.id: (c.spent_nano, c.held_nano) for c in core.state.customers.values()}
    prepaid = {ledger.prepaid(a): (b.balance_nano, b.held_nano) for a, b in core.state.prepaid.items()}
    return customers | prepaid


def _prepaid_mismatches(core: Core, audit: LedgerAudit, before: dict[str, tuple[int, int]]) -> int:
    """Accounts whose prepaid balance in memory differs from the ledger, is below zero, or whose
    reservations differ from their open holds' (accounts busy while the audit read are skipped)."""
    held: dict[str, int] = {}
    for hold in core.state.holds.values():
        if hold.prepaid_nano:
            held[hold.account_id] = held.get(hold.account_id, 0) + hold.prepaid_nano
    mismatches = 0
    for account_id in core.state.accounts:
        name = ledger.prepaid(account_id)
        memory = core.state.prepaid.get(account_id)
        funds, reserved = (memory.balance_nano, memory.held_nano) if memory else (0, 0)
        if before.get(name, (0, 0)) != (funds, reserved):
            continue
        in_ledger = audit.prepaid_balances.get(name, 0)
        if in_ledger != funds or in_ledger < 0 or reserved != held.get(account_id, 0):
            mismatches += 1
    return mismatches


async def verify_ledger(core: Core) -> LedgerAudit:
    """Audit the database, and compare the hot state with it (customers whose counters moved
    while the audit read the database are skipped: they were busy, not wrong)."""
    before = _memory_snapshot(core)
    audit = await asyncio.get_running_loop().run_in_executor(None, _audit, core)
    after = _memory_snapshot(core)
    open_held: dict[str, int] = {}
    for hold in core.state.holds.values():
        if hold.customer_id:
            open_held[hold.customer_id] = open_held.get(hold.customer_id, 0) + hold.remaining_nano
    mismatches = 0
    for customer in core.state.customers.values():
        current = period_bounds(core.now(), customer.billing_anchor_day)[0]
        if before.get(customer.id) != after.get(customer.id) or customer.period_start != current:
            continue
        in_ledger = customer_spend(audit.period_spend, customer.id, customer.period_start)
        if in_ledger != customer.spent_nano or open_held.get(customer.id, 0) != customer.held_nano:
            mismatches += 1
    mismatches += _prepaid_mismatches(core, audit, after)
    return dataclasses.replace(audit, memory_mismatches=mismatches)
