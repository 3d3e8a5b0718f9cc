"""Which events a customer's change fires, decided where the change is planned (API.md "Webhooks").

Edge-triggered: `wallet.low` fires once per crossing (of posted spend over the budget's threshold, or
of the wallet balance under its low threshold) and is re-armed by a new period, a changed cap, or a
credit that brings the balance back over; `customer.budget_exceeded` fires once per period and cap
value; `wallet.empty` once per emptying. The fired marks live on the customer and are set when the
event is planned, so concurrent plans cannot fire twice; they are rebuilt at start-up from the ledger
and the events table (core/store/loader.py).
"""

from __future__ import annotations

from typing import Any

from core.domain.entities import Customer
from core.domain.limits import effective, effective_budget
from core.domain.state import State
from core.domain.webhooks import new_event
from ringside_server.usd import nano_to_usd


def low_threshold_pct(state: State, customer: Customer) -> int:
    """The account's `low_threshold_pct` (API.md, default 80)."""
    account = state.accounts.get(customer.account_id)
    return account.low_threshold_pct if account is not None else 80


def snapshot(state: State, customer: Customer, spent_nano: int | None = None) -> dict[str, Any]:
    """`data.customer` of every event about a customer."""
    budget = effective(state, customer).budget_nano
    return {
        "id": customer.id,
        "external_id": customer.external_id,
        "budget_usd": nano_to_usd(budget) if budget is not None else None,
        "spent_usd": nano_to_usd(customer.spent_nano if spent_nano is None else spent_nano),
        "metadata": customer.metadata,
    }


def customer_event(
    state: State,
    customer: Customer,
    event_type: str,
    now: int,
    extra: dict[str, Any] | None = None,
    trigger_key: str = "",
    spent_nano: int | None = None,
) -> list[object]:
    data = {"customer": snapshot(state, customer, spent_nano), **(extra or {})}
    return new_event(customer.account_id, customer.livemode, event_type, data, now, customer.id, trigger_key)


def budget_trigger_key(period_start: int, budget_nano: int | None) -> str:
    return f"{period_start}:{budget_nano}"


def on_budget_refusal(state: State, customer: Customer, now: int) -> list[object]:
    """`customer.budget_exceeded` at the first refusal for budget of a period (and cap value)."""
    if customer.budget_exceeded_period == customer.period_start:
        return []
    customer.budget_exceeded_period = customer.period_start
    budget = effective(state, customer).budget_nano
    extra = {"period_start": customer.period_start}
    key = budget_trigger_key(customer.period_start, budget)
    return customer_event(state, customer, "customer.budget_exceeded", now, extra, key)


def on_wallet_refusal(state: State, customer: Customer, now: int) -> list[object]:
    """`wallet.empty` once per emptying: re-armed by money coming back in (see `on_wallet_credit`)."""
    if customer.wallet_empty_fired:
        return []
    customer.wallet_empty_fired = True
    extra = {"balance_usd": nano_to_usd(customer.wallet_balance_nano)}
    return customer_event(state, customer, "wallet.empty", now, extra, str(customer.wallet_balance_nano))


def on_wallet_credit(customer: Customer, balance_after_nano: int) -> None:
    """A top-up, a credit adjustment or a refund re-arms what the new balance is back above."""
    if balance_after_nano > 0:
        customer.wallet_empty_fired = False
    if balance_after_nano >= customer.wallet_low_threshold_nano:
        customer.wallet_low_fired = False


def _in_flight(customer: Customer) -> int:
    """Spend planned but not applied yet: plans made concurrently (a lease report beside a settle)
    must see each other, or a crossing split between them would fire with neither. Applied plans
    show up as growth of `spent_nano`, which is taken off the unapplied sum."""
    if customer.spend_seen_period != customer.period_start:
        customer.spend_seen_period = customer.period_start
        customer.spend_seen_nano = customer.spent_nano
        customer.unapplied_spend_nano = 0
    applied = customer.spent_nano - customer.spend_seen_nano
    if applied > 0:
        customer.unapplied_spend_nano = max(0, customer.unapplied_spend_nano - applied)
    customer.spend_seen_nano = customer.spent_nano
    return customer.unapplied_spend_nano


def on_posting(state: State, customer: Customer, posted_nano: int, from_wallet: bool, now: int) -> list[object]:
    """Threshold crossings of a posting of `posted_nano` (in the customer's current period), to be
    committed with it."""
    if posted_nano <= 0:
        return []
    in_flight = _in_flight(customer)
    customer.unapplied_spend_nano += posted_nano
    records: list[object] = []
    spent_after = customer.spent_nano + in_flight + posted_nano
    budget = effective_budget(state, customer)
    pct = low_threshold_pct(state, customer)
    if budget and spent_after * 100 >= budget * pct:
        key = (customer.period_start, budget)
        if customer.low_budget_key != key:
            customer.low_budget_key = key
            extra = {"trigger": "budget_threshold", "threshold_pct": pct}
            records += customer_event(state, customer, "wallet.low", now, extra, spent_nano=spent_after)
    if from_wallet:
        balance_after = customer.wallet_balance_nano - in_flight - posted_nano
        threshold = customer.wallet_low_threshold_nano
        if threshold > 0 and balance_after < threshold and not customer.wallet_low_fired:
            customer.wallet_low_fired = True
            extra = {
                "trigger": "wallet_threshold",
                "balance_usd": nano_to_usd(balance_after),
                "low_threshold_usd": nano_to_usd(threshold),
            }
            records += customer_event(state, customer, "wallet.low", now, extra, spent_nano=spent_after)
        if balance_after <= 0 and not customer.wallet_empty_fired:
            customer.wallet_empty_fired = True
            extra = {"balance_usd": nano_to_usd(balance_after)}
            records += customer_event(state, customer, "wallet.empty", now, extra, "0", spent_nano=spent_after)
    return records
