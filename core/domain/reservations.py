"""Holds reserved in memory for an admitted call or lease, and the records that make them durable:
its pending transfer, an auto-created customer's row and event; the room a customer's budget and
wallet leave, and the refusal (with its first-of-the-period event) when none is left. A base of
`core.domain.metering.Meter`."""

from __future__ import annotations

from collections.abc import Callable

from core.domain import events, ledger
from core.domain.calls import CallRequest
from core.domain.entities import ApiKey, Customer, Denial, Hold, HoldKind, Transfer
from core.domain.limits import Limits
from core.domain.periods import period_bounds
from core.domain.state import State


class Reservations:
    state: State
    clock: Callable[[], float]
    hold_ttl_s: int

    def _with_new(self, customer: Customer | None, records: list[object]) -> list[object]:
        """An auto-created customer is persisted in the same commit as its first hold (and its
        `customer.created` event)."""
        if customer is None or not customer.unsaved:
            return records
        customer.unsaved = False  # claimed: later calls must not insert it twice
        created = events.customer_event(self.state, customer, "customer.created", int(self.clock()))
        return [customer, *records, *created]

    def _hold(
        self,
        hold_id: str,
        kind: HoldKind,
        key: ApiKey,
        customer: Customer | None,
        amount: int,
        request: CallRequest,
        now: int,
        markup_bp: int,
    ) -> tuple[Hold, list[object]]:
        """Reserve `amount` in memory now; the records make it durable."""
        if customer is not None:
            payer = (
                ledger.customer_wallet(customer.id) if customer.wallet_enabled else ledger.customer_spend(customer.id)
            )
            period_start = customer.period_start
        else:
            payer = ledger.unattributed(key.account_id, key.livemode)
            period_start = period_bounds(now)[0]
        hold = Hold(
            id=hold_id,
            account_id=key.account_id,
            livemode=key.livemode,
            customer_id=customer.id if customer else None,
            payer=payer,
            revenue=ledger.revenue(key.account_id, key.livemode),
            amount_nano=amount,
            period_start=period_start,
            created=now,
            expires_at=now + self.hold_ttl_s,
            provider=request.provider,
            model_ref=request.model_ref,
            price=request.price,
            markup_bp=markup_bp,
            kind=kind,
        )
        self._reserve(hold, customer)
        pending = Transfer(
            id=ledger.pending_transfer_id(hold.id),
            account_id=hold.account_id,
            livemode=hold.livemode,
            debit=hold.payer,
            credit=hold.revenue,
            amount_nano=hold.amount_nano,
            kind="pending",
            request_id=hold.id,
            period_start=hold.period_start,
            created=now,
            hold_id=hold.id if kind == "lease" else None,
        )
        return hold, [hold, pending]

    @staticmethod
    def _room(customer: Customer, limits: Limits | None) -> tuple[int | None, str]:
        """The least of what the budget and the wallet still allow (None = unlimited)."""
        rooms: list[tuple[int, str]] = []
        budget = limits.budget_nano if limits is not None else None
        if budget is not None:
            rooms.append((budget - customer.spent_nano - customer.held_nano, "budget"))
        if customer.wallet_enabled:
            rooms.append((customer.wallet_balance_nano - customer.held_nano, "wallet"))
        if not rooms:
            return None, ""
        room, limiting = min(rooms)
        return max(0, room), limiting

    def _refuse(self, customer: Customer, limiting: str) -> Denial:
        now = int(self.clock())
        if limiting == "wallet":
            denial = Denial("customer_wallet_empty", f"Customer {customer.id}'s wallet cannot pay for this call.")
            denial.records = events.on_wallet_refusal(self.state, customer, now)
            return denial
        denial = Denial("customer_budget_exceeded", f"Customer {customer.id} has exhausted its monthly budget.")
        denial.records = events.on_budget_refusal(self.state, customer, now)
        return denial

    def _reserve(self, hold: Hold, customer: Customer | None) -> None:
        self.state.add_hold(hold)
        if customer is not None:
            customer.held_nano += hold.amount_nano
