"""Admission and settlement of model calls: holds on the ledger, exact under concurrency.

The rule (API.md "Budgets"): a call is admitted only if posted spend + open holds + its estimate
fit under the cap (and the wallet); when the room cannot pay for the whole output bound, the call is
admitted with the largest output bound the room pays for (≥ 1 token). Admission reserves in memory
synchronously, so concurrent calls can never all pass the same check; the caller makes the hold
durable before answering and calls `release` if that fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.domain import ledger
from core.domain.entities import (
    ApiKey,
    Customer,
    Denial,
    Hold,
    HoldExtension,
    HoldStateChange,
    SettleResult,
    Transfer,
    UsageCorrection,
    UsageRecord,
    has_scope,
    hash_secret,
)
from ringside.money import Price, Usage, billable_nano, cost_nano, estimate_nano, max_affordable_output
from core.domain.periods import period_bounds
from core.domain.state import State
from ringside.ids import new_id


@dataclass(frozen=True, slots=True)
class CallRequest:
    """What the edge knows of a call before it goes upstream."""

    api_key: str
    customer_ref: str
    user: str
    model_ref: str
    provider: str
    price: Price
    input_tokens_bound: int
    requested_output_tokens: int
    model_max_output_tokens: int
    choices: int = 1


@dataclass(slots=True)
class Admission:
    hold: Hold
    key: ApiKey
    customer: Customer | None
    max_output_tokens: int
    output_limited: bool
    records: list[object]


@dataclass(slots=True)
class SettlePlan:
    """A settle (or expiry) decided but not yet durable; `apply` updates memory once it is."""

    hold: Hold
    result: SettleResult
    records: list[object]
    state_change: str
    customer_spend_delta: int = 0
    counts_request: bool = True
    wallet_delta: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class Meter:
    def __init__(self, state: State, hold_ttl_s: int, clock: Callable[[], float]) -> None:
        self.state = state
        self.hold_ttl_s = hold_ttl_s
        self.clock = clock

    # -- admission ---------------------------------------------------------------------------------

    def authenticate(self, secret: str) -> ApiKey | None:
        return self.state.keys_by_hash.get(hash_secret(secret)) if secret else None

    def attribute(self, key: ApiKey, customer_ref: str, user: str) -> Customer | Denial | None:
        """API.md "Attribution": FC-Customer, else the body's `user`, else unattributed (None)."""
        if customer_ref:
            customer = self.state.find_customer(key.account_id, key.livemode, customer_ref)
            if customer is None:
                return Denial("customer_not_found", f"No such customer: '{customer_ref}'.", "FC-Customer")
            return customer
        if user:
            return self.state.find_customer(key.account_id, key.livemode, "ext:" + user)
        return None

    def admit(self, request: CallRequest) -> Admission | Denial:
        key = self.authenticate(request.api_key)
        if key is None:
            return Denial("invalid_api_key", "Invalid API key provided.")
        if not has_scope(key.scopes, "api:write"):
            return Denial("insufficient_scope", "This key lacks the api:write scope needed for model calls.")
        attributed = self.attribute(key, request.customer_ref, request.user)
        if isinstance(attributed, Denial):
            return attributed
        customer = attributed
        if customer is not None and customer.blocked:
            return Denial("customer_blocked", f"Customer {customer.id} is blocked.")

        now = int(self.clock())
        account = self.state.accounts[key.account_id]
        choices = max(1, request.choices)
        ceiling = (
            request.requested_output_tokens or account.default_max_output_tokens or request.model_max_output_tokens
        )
        ceiling = min(ceiling, request.model_max_output_tokens) if request.model_max_output_tokens else ceiling
        estimate = estimate_nano(request.input_tokens_bound, ceiling, choices, request.price, account.markup_bp)
        output_bound = ceiling
        if customer is not None:
            customer.roll_period(period_bounds(now, customer.billing_anchor_day)[0])
            room, limiting = self._room(customer)
            if room is not None and estimate > room:
                output_bound = max_affordable_output(
                    request.input_tokens_bound, choices, request.price, account.markup_bp, room, ceiling
                )
                if output_bound < 1:
                    return self._refuse(customer, limiting)
                estimate = estimate_nano(
                    request.input_tokens_bound, output_bound, choices, request.price, account.markup_bp
                )
            payer = (
                ledger.customer_wallet(customer.id) if customer.wallet_enabled else ledger.customer_spend(customer.id)
            )
            period_start = customer.period_start
        else:
            payer = ledger.unattributed(key.account_id, key.livemode)
            period_start = period_bounds(now)[0]

        hold = Hold(
            id=new_id("req"),
            account_id=key.account_id,
            livemode=key.livemode,
            customer_id=customer.id if customer else None,
            payer=payer,
            revenue=ledger.revenue(key.account_id, key.livemode),
            amount_nano=estimate,
            period_start=period_start,
            created=now,
            expires_at=now + self.hold_ttl_s,
            provider=request.provider,
            model_ref=request.model_ref,
            price=request.price,
            markup_bp=account.markup_bp,
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
        )
        return Admission(hold, key, customer, output_bound, output_bound < ceiling, [hold, pending])

    def _room(self, customer: Customer) -> tuple[int | None, str]:
        """The least of what the budget and the wallet still allow (None = unlimited)."""
        rooms: list[tuple[int, str]] = []
        budget = customer.effective_budget_nano
        if budget is not None:
            rooms.append((budget - customer.spent_nano - customer.held_nano, "budget"))
        if customer.wallet_enabled:
            rooms.append((customer.wallet_balance_nano - customer.held_nano, "wallet"))
        if not rooms:
            return None, ""
        room, limiting = min(rooms)
        return max(0, room), limiting

    def _refuse(self, customer: Customer, limiting: str) -> Denial:
        if limiting == "wallet":
            return Denial("customer_wallet_empty", f"Customer {customer.id}'s wallet cannot pay for this call.")
        customer.budget_exceeded_period = customer.period_start
        return Denial("customer_budget_exceeded", f"Customer {customer.id} has exhausted its monthly budget.")

    def _reserve(self, hold: Hold, customer: Customer | None) -> None:
        self.state.add_hold(hold)
        if customer is not None:
            customer.held_nano += hold.amount_nano

    def release(self, admission: Admission) -> None:
        """Undo an admission whose hold could not be made durable."""
        hold = self.state.holds.pop(admission.hold.id, None)
        if hold is not None and admission.customer is not None:
            admission.customer.held_nano -= hold.amount_nano

    # -- settlement --------------------------------------------------------------------------------

    def plan_settle(
        self, hold: Hold, usage: Usage, status: str, usage_estimated: bool, upstream_model: str
    ) -> SettlePlan:
        """Post the actual billable amount, capped at the hold; the rest is released."""
        now = int(self.clock())
        cost = cost_nano(usage, hold.price)
        billable = billable_nano(cost, hold.markup_bp)
        posted = min(billable, hold.amount_nano)
        records: list[object] = [
            Transfer(
                id=new_id("tr"),
                account_id=hold.account_id,
                livemode=hold.livemode,
                debit=hold.payer,
                credit=hold.revenue,
                amount_nano=posted,
                kind="post",
                request_id=hold.id,
                period_start=hold.period_start,
                created=now,
                pending_id=ledger.pending_transfer_id(hold.id),
            ),
            *self._cost_transfer(hold, cost, now),
            self._usage(hold, usage, status, usage_estimated, upstream_model, cost, billable, posted, now),
            HoldStateChange(hold.id, "settled", now),
        ]
        result = SettleResult(
            cost, billable, posted, billable - posted, wallet_balance_nano=self._wallet_after(hold, posted)
        )
        return SettlePlan(
            hold,
            result,
            records,
            "settled",
            customer_spend_delta=posted,
            counts_request=status != "failed",
            wallet_delta=-posted,
        )

    def plan_expire(self, hold: Hold) -> SettlePlan:
        """An unsettled hold is posted at its reserved amount: a crash never makes usage free."""
        now = int(self.clock())
        records: list[object] = [
            Transfer(
                id=new_id("tr"),
                account_id=hold.account_id,
                livemode=hold.livemode,
                debit=hold.payer,
                credit=hold.revenue,
                amount_nano=hold.amount_nano,
                kind="expire",
                request_id=hold.id,
                period_start=hold.period_start,
                created=now,
                pending_id=ledger.pending_transfer_id(hold.id),
            ),
            self._usage(hold, Usage(), "expired", True, "", 0, hold.amount_nano, hold.amount_nano, now),
            HoldStateChange(hold.id, "expired", now),
        ]
        result = SettleResult(0, hold.amount_nano, hold.amount_nano, 0)
        return SettlePlan(
            hold, result, records, "expired", customer_spend_delta=hold.amount_nano, wallet_delta=-hold.amount_nano
        )

    def plan_late_settle(
        self, hold: Hold, usage: Usage, status: str, usage_estimated: bool, upstream_model: str
    ) -> SettlePlan:
        """A settle for an expired hold: refund the difference with a new transfer, in the current
        period; the expiry's posting is never edited."""
        now = int(self.clock())
        cost = cost_nano(usage, hold.price)
        billable = billable_nano(cost, hold.markup_bp)
        posted = min(billable, hold.amount_nano)
        refund = hold.amount_nano - posted
        customer = self.state.customers.get(hold.customer_id) if hold.customer_id else None
        if customer is not None:
            customer.roll_period(period_bounds(now, customer.billing_anchor_day)[0])
        period = customer.period_start if customer else period_bounds(now)[0]
        records: list[object] = []
        if refund:
            records.append(
                Transfer(
                    id=new_id("tr"),
                    account_id=hold.account_id,
                    livemode=hold.livemode,
                    debit=hold.revenue,
                    credit=hold.payer,
                    amount_nano=refund,
                    kind="correction",
                    request_id=hold.id,
                    period_start=period,
                    created=now,
                )
            )
        records += [
            *self._cost_transfer(hold, cost, now),
            UsageCorrection(
                self._usage(hold, usage, "late_" + status, usage_estimated, upstream_model, cost, billable, posted, now)
            ),
        ]
        result = SettleResult(
            cost, billable, posted, billable - posted, late=True, wallet_balance_nano=self._wallet_after(hold, -refund)
        )
        plan = SettlePlan(hold, result, records, "late", counts_request=False, wallet_delta=refund)
        plan.extra["refund"] = refund
        plan.extra["period"] = period
        return plan

    def apply(self, plan: SettlePlan) -> None:
        """Bring memory in step with a settle, expiry or late settle that is now durable."""
        hold = plan.hold
        customer = self.state.customers.get(hold.customer_id) if hold.customer_id else None
        if plan.state_change == "late":
            if customer is not None:
                if plan.extra["period"] == customer.period_start:
                    customer.spent_nano -= plan.extra["refund"]
                if hold.payer.endswith(":wallet"):
                    customer.wallet_balance_nano += plan.wallet_delta
        else:
            self.state.holds.pop(hold.id, None)
            if customer is not None:
                customer.held_nano -= hold.amount_nano
                if hold.period_start == customer.period_start:
                    customer.spent_nano += plan.customer_spend_delta
                    customer.request_count += 1 if plan.counts_request else 0
                if hold.payer.endswith(":wallet"):
                    customer.wallet_balance_nano += plan.wallet_delta
            if plan.state_change == "expired":
                self.state.expired.put(hold.id, hold)
        if plan.state_change != "expired":
            self.state.settled.put(hold.id, plan.result)

    def extend(self, hold: Hold) -> HoldExtension:
        hold.expires_at = int(self.clock()) + self.hold_ttl_s
        self.state.schedule_expiry(hold)
        return HoldExtension(hold.id, hold.expires_at)

    # -- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _cost_transfer(hold: Hold, cost: int, now: int) -> list[Transfer]:
        if cost == 0:
            return []
        return [
            Transfer(
                id=new_id("tr"),
                account_id=hold.account_id,
                livemode=hold.livemode,
                debit=ledger.provider_cost(hold.account_id, hold.livemode),
                credit=ledger.provider_payable(hold.account_id, hold.livemode, hold.provider),
                amount_nano=cost,
                kind="cost",
                request_id=hold.id,
                period_start=hold.period_start,
                created=now,
            )
        ]

    @staticmethod
    def _usage(
        hold: Hold,
        usage: Usage,
        status: str,
        usage_estimated: bool,
        upstream_model: str,
        cost: int,
        billable: int,
        posted: int,
        now: int,
    ) -> UsageRecord:
        return UsageRecord(
            request_id=hold.id,
            account_id=hold.account_id,
            livemode=hold.livemode,
            customer_id=hold.customer_id,
            provider=hold.provider,
            model_ref=hold.model_ref,
            upstream_model=upstream_model,
            usage=usage,
            cost_nano=cost,
            billable_nano=billable,
            posted_nano=posted,
            unbilled_nano=billable - posted,
            status=status,
            usage_estimated=usage_estimated,
            period_start=hold.period_start,
            created=now,
        )

    def _wallet_after(self, hold: Hold, debit: int) -> int | None:
        if not hold.payer.endswith(":wallet") or hold.customer_id is None:
            return None
        customer = self.state.customers.get(hold.customer_id)
        return None if customer is None else customer.wallet_balance_nano - debit
