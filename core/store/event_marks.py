"""Start-up: rebuild the customers' edge-trigger marks (core/domain/events.py), so a restart neither
re-fires an event nor forgets one already fired.

Threshold marks follow from the ledger: every posting that crossed a threshold committed its event
with it, so a customer at or past a threshold now has had its event. Refusal events leave their
trigger in the events table: the period and cap of the last `customer.budget_exceeded`, the balance
at the last `wallet.empty`.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from core.domain.events import budget_trigger_key, low_threshold_pct
from core.domain.limits import effective
from core.domain.state import State
from core.store.among import among
from core.store.tables import EVENTS

_LOOKBACK_S = 32 * 86_400
_REFUSAL_EVENTS = ("customer.budget_exceeded", "wallet.empty")


def rebuild_marks(connection: Connection, state: State, now: int, accounts: list[str] | None = None) -> None:
    """`accounts`: only those accounts' events are read (a `fair` core's share; None: every one)."""
    e = EVENTS.c
    last: dict[tuple[str, str], str] = {}
    query = select(e.customer_id, e.type, e.trigger_key).where(
        e.type.in_(_REFUSAL_EVENTS), e.customer_id.is_not(None), e.created >= now - _LOOKBACK_S
    )
    if accounts is not None:
        query = query.where(among(e.account_id, accounts, connection.dialect.name == "postgresql"))
    query = query.order_by(e.id)
    for customer_id, event_type, trigger_key in connection.execute(query):
        last[(customer_id, event_type)] = trigger_key
    for customer in state.customers.values():
        budget = effective(state, customer).budget_nano
        if budget and customer.spent_nano * 100 >= budget * low_threshold_pct(state, customer):
            customer.low_budget_key = (customer.period_start, budget)
        threshold = customer.wallet_low_threshold_nano
        customer.wallet_low_fired = threshold > 0 and customer.wallet_balance_nano < threshold
        exceeded = last.get((customer.id, "customer.budget_exceeded"))
        if exceeded == budget_trigger_key(customer.period_start, budget):
            customer.budget_exceeded_period = customer.period_start
        customer.wallet_empty_fired = last.get((customer.id, "wallet.empty")) == str(customer.wallet_balance_nano)
