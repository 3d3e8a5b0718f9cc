"""Start-up: rebuild the customers' edge-trigger marks (core/domain/events.py), so a restart neither
re-fires an event nor forgets one already fired.

Threshold marks follow from the ledger: every posting that crossed a threshold committed its event
with it, so a customer at or past a threshold now has had its event. Refusal events leave their
trigger in the events table: the period and cap of the last `customer.budget_exceeded`, the balance
at the last `wallet.empty`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, select

from core.domain.entities import Customer
from core.domain.events import budget_trigger_key, low_threshold_pct
from core.domain.limits import effective_budget
from core.domain.state import State
from core.store.among import Among, among
from core.store.tables import EVENTS

_LOOKBACK_S = 32 * 86_400
_REFUSAL_EVENTS = ("customer.budget_exceeded", "wallet.empty")


def rebuild_marks(connection: Connection, state: State, now: int, accounts: list[str] | None = None) -> None:
    """`accounts`: only those accounts' events are read (a `fair` core's share; None: every one)."""
    e = EVENTS.c
    query = select(e.customer_id, e.type, e.trigger_key).where(
        e.type.in_(_REFUSAL_EVENTS), e.customer_id.is_not(None), e.created >= now - _LOOKBACK_S
    )
    if accounts is not None:
        query = query.where(among(e.account_id, accounts, connection.dialect.name == "postgresql"))
    last = _last(connection, query)
    for customer in state.customers.values():
        set_marks(state, customer, last)


def last_refusal_events(connection: Connection, now: int, customers: Among) -> dict[tuple[str, str], str]:
    """(customer, event type) → the trigger key of its last refusal event, for these customers only."""
    e = EVENTS.c
    query = select(e.customer_id, e.type, e.trigger_key).where(
        e.type.in_(_REFUSAL_EVENTS),
        among(e.customer_id, customers, connection.dialect.name == "postgresql"),
        e.created >= now - _LOOKBACK_S,
    )
    return _last(connection, query)


def _last(connection: Connection, query: Select[Any]) -> dict[tuple[str, str], str]:
    last: dict[tuple[str, str], str] = {}
    for customer_id, event_type, trigger_key in connection.execute(query.order_by(EVENTS.c.id)):
        last[(customer_id, event_type)] = trigger_key
    return last


def set_marks(state: State, customer: Customer, last: dict[tuple[str, str], str]) -> None:
    """A loaded customer's marks, from its money and its last refusal events."""
    # `effective_budget`, not `effective`: its sources and closure were half of a customer's install.
    budget = effective_budget(state, customer)
    if budget and customer.spent_nano * 100 >= budget * low_threshold_pct(state, customer):
        customer.low_budget_key = (customer.period_start, budget)
    threshold = customer.wallet_low_threshold_nano
    customer.wallet_low_fired = threshold > 0 and customer.wallet_balance_nano < threshold
    exceeded = last.get((customer.id, "customer.budget_exceeded"))
    if exceeded is not None and exceeded == budget_trigger_key(customer.period_start, budget):
        customer.budget_exceeded_period = customer.period_start
    customer.wallet_empty_fired = last.get((customer.id, "wallet.empty")) == str(customer.wallet_balance_nano)
