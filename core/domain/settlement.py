"""Settlement: what a finished call or an expired hold posts to the ledger; a lease's calls, its
expiry and its close: lease_settlement.py, on top of this.

Every plan is computed first (records to persist and the memory deltas), made durable by the caller,
then applied to memory with `apply`. Posts never exceed what was reserved: a call's hold, or a lease
call's own estimate and the lease's remainder; the excess is recorded as unbilled cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.domain import events, postings, prepaid
from core.domain.entities import (
    LATE,
    Customer,
    Hold,
    HoldExtension,
    HoldStateChange,
    Outcome,
    SettleResult,
    UsageCorrection,
    record,
)
from core.domain.periods import period_bounds
from core.domain.state import State
from ringside_server.admission import posted_nano
from ringside_server.money import Price, Usage, billable_nano, cost_nano


@record  # one per call a lease report names
class FinishedCall:
    """A call admitted under a lease, as the edge reports it."""

    request_id: str
    model_ref: str
    provider: str
    price: Price
    estimate_nano: int
    usage: Usage
    status: Outcome
    usage_estimated: bool
    upstream_model: str


@dataclass(slots=True)
class SettlePlan:
    """Records to persist and how memory moves once they are durable."""

    hold: Hold
    result: SettleResult
    records: list[object]
    state_change: str  # settled | expired | late | lease_calls | closed
    held_release: int = 0
    spend: int = 0
    spend_period: int = 0
    requests: int = 0
    wallet_delta: int = 0
    consumed: int = 0
    reported: list[str] = field(default_factory=list)
    close_hold: bool = False
    # What the calls really took from the rate limits (requests, prompt + completion tokens).
    rate_requests: int = 0
    rate_tokens: int = 0
    # The account's prepaid balance: reservation released, balance moved (negative: paid).
    prepaid_release: int = 0
    prepaid_delta: int = 0


class Settlement:
    state: State
    clock: Callable[[], float]
    hold_ttl_s: int

    def plan_settle(
        self, hold: Hold, usage: Usage, status: Outcome, usage_estimated: bool, upstream_model: str
    ) -> SettlePlan:
        """Post the actual billable amount, capped at the hold; the rest is released."""
        now = int(self.clock())
        cost = cost_nano(usage, hold.price)
        billable = billable_nano(cost, hold.markup_bp)
        posted = posted_nano(billable, hold.amount_nano)
        post = postings.transfer(hold, hold.payer, hold.revenue, posted, "post", hold.id, hold.period_start, now, True)
        records: list[object] = [
            post,
            *postings.cost_transfer(hold, hold.id, hold.provider, cost, now, post),
            postings.usage_record(
                hold,
                hold.id,
                hold.provider,
                hold.model_ref,
                usage,
                status,
                usage_estimated,
                upstream_model,
                cost,
                billable,
                posted,
                now,
            ),
            HoldStateChange(hold.id, "settled", now),
            *self._crossings(hold, posted, now),
        ]
        prepaid_paid = min(cost, hold.prepaid_nano)
        if prepaid_paid:
            records.append(prepaid.movement(hold, prepaid_paid, now))
        result = SettleResult(
            cost, billable, posted, billable - posted, wallet_balance_nano=self._wallet_after(hold, posted)
        )
        return SettlePlan(
            hold,
            result,
            records,
            "settled",
            held_release=hold.amount_nano,
            spend=posted,
            spend_period=hold.period_start,
            requests=int(status != "failed"),
            wallet_delta=-posted,
            close_hold=True,
            rate_requests=1,
            rate_tokens=usage.prompt_tokens + usage.completion_tokens,
            prepaid_release=hold.prepaid_nano,
            prepaid_delta=-prepaid_paid,
        )

    def plan_expire(self, hold: Hold) -> SettlePlan:
        """An unsettled hold is posted at its reserved amount: a crash never makes usage free. A
        lease posts the calls its dead edge reported admitted (LeaseSettlement.plan_expire)."""
        now = int(self.clock())
        amount = hold.remaining_nano
        records: list[object] = [
            postings.transfer(hold, hold.payer, hold.revenue, amount, "expire", hold.id, hold.period_start, now, True),
            postings.usage_record(
                hold, hold.id, hold.provider, hold.model_ref, Usage(), "expired", True, "", 0, amount, amount, now
            ),
            HoldStateChange(hold.id, "expired", now),
            *self._crossings(hold, amount, now),
        ]
        if hold.prepaid_nano:
            records.append(prepaid.movement(hold, hold.prepaid_nano, now))
        return SettlePlan(
            hold,
            SettleResult(0, amount, amount, 0),
            records,
            "expired",
            held_release=amount,
            spend=amount,
            spend_period=hold.period_start,
            requests=1,
            wallet_delta=-amount,
            close_hold=True,
            prepaid_release=hold.prepaid_nano,
            prepaid_delta=-hold.prepaid_nano,
        )

    def plan_late_settle(
        self,
        hold: Hold,
        usage: Usage,
        status: Outcome,
        usage_estimated: bool,
        upstream_model: str,
        given_back_nano: int = 0,
    ) -> SettlePlan:
        """A settle for an expired hold: refund the difference with a new transfer, in the current
        period; the expiry's posting is never edited. `given_back_nano` (wallet refunds of that
        posting) caps the difference: all that comes back for a call stays within what it posted."""
        now = int(self.clock())
        cost = cost_nano(usage, hold.price)
        billable = billable_nano(cost, hold.markup_bp)
        due = posted_nano(billable, hold.amount_nano)
        refund = max(0, min(hold.amount_nano - due, hold.amount_nano - given_back_nano))
        posted = hold.amount_nano - refund
        customer = self._customer(hold, now)
        period = customer.period_start if customer else period_bounds(now)[0]
        records: list[object] = []
        if refund:
            correction = postings.transfer(hold, hold.revenue, hold.payer, refund, "correction", hold.id, period, now)
            records.append(correction)
        records += [
            *postings.cost_transfer(hold, hold.id, hold.provider, cost, now),
            UsageCorrection(
                postings.usage_record(
                    hold,
                    hold.id,
                    hold.provider,
                    hold.model_ref,
                    usage,
                    LATE[status],
                    usage_estimated,
                    upstream_model,
                    cost,
                    billable,
                    posted,
                    now,
                )
            ),
        ]
        prepaid_refund = hold.prepaid_nano - min(cost, hold.prepaid_nano)
        if prepaid_refund:
            records.append(prepaid.movement(hold, prepaid_refund, now, refund=True))
        result = SettleResult(
            cost,
            billable,
            posted,
            max(0, billable - posted),
            late=True,
            wallet_balance_nano=self._wallet_after(hold, -refund),
        )
        return SettlePlan(
            hold,
            result,
            records,
            "late",
            spend=-refund,
            spend_period=period,
            wallet_delta=refund,
            prepaid_delta=prepaid_refund,
        )

    def apply(self, plan: SettlePlan) -> None:
        """Bring memory in step with a plan that is now durable."""
        hold = plan.hold
        customer = self._customer(hold, int(self.clock()))
        if customer is not None:
            customer.held_nano -= plan.held_release
            if plan.spend_period == customer.period_start:
                customer.spent_nano += plan.spend
                customer.request_count += plan.requests
            if hold.payer.endswith(":wallet"):
                customer.wallet_balance_nano += plan.wallet_delta
        hold.consumed_nano += plan.consumed
        hold.reported.update(plan.reported)
        for request_id in plan.reported:
            hold.admitted.pop(request_id, None)
        self._correct_rate_charge(hold, plan)
        if plan.prepaid_release or plan.prepaid_delta:
            balance = self.state.prepaid_of(hold.account_id)
            balance.held_nano -= plan.prepaid_release
            balance.balance_nano += plan.prepaid_delta
        if plan.close_hold:
            self.state.holds.pop(hold.id, None)
        if plan.state_change == "expired":
            self.state.expired.put(hold.id, hold)
        elif plan.state_change in ("settled", "late"):
            self.state.settled.put(hold.id, plan.result)
        if plan.state_change == "late":
            # Settled for good: a repeat must replay (from memory, else from the usage record),
            # never book a second correction.
            self.state.expired.discard(hold.id)

    def extend(self, hold: Hold) -> HoldExtension:
        hold.expires_at = int(self.clock()) + self.hold_ttl_s
        self.state.schedule_expiry(hold)
        return HoldExtension(hold.id, hold.expires_at)

    # -- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _correct_rate_charge(hold: Hold, plan: SettlePlan) -> None:
        """A settled call counts its actual tokens; a closed lease only the calls it covered.
        An expired hold keeps its whole charge (what its calls used is not known)."""
        hold.rate_requests_used += plan.rate_requests
        hold.rate_tokens_used += plan.rate_tokens
        if hold.rate_charge is not None and plan.state_change in ("settled", "closed"):
            hold.rate_charge.adjust(hold.rate_requests_used, hold.rate_tokens_used)
        elif hold.rate_charge is not None and hold.kind == "lease":
            hold.rate_charge.taken(len(hold.admitted) + len(hold.reported))

    def _crossings(self, hold: Hold, posted: int, now: int) -> list[object]:
        """Threshold events this posting fires, committed with it (core/domain/events.py)."""
        customer = self._customer(hold, now)
        if customer is None or hold.period_start != customer.period_start:
            return []
        return events.on_posting(self.state, customer, posted, hold.payer.endswith(":wallet"), now)

    def _customer(self, hold: Hold, now: int) -> Customer | None:
        customer = self.state.customers.get(hold.customer_id) if hold.customer_id else None
        if customer is not None:
            customer.roll_period(period_bounds(now, customer.billing_anchor_day)[0])
        return customer

    def _wallet_after(self, hold: Hold, debit: int) -> int | None:
        if not hold.payer.endswith(":wallet") or hold.customer_id is None:
            return None
        customer = self.state.customers.get(hold.customer_id)
        return None if customer is None else customer.wallet_balance_nano - debit
