"""Settlement of leases: the calls an edge reports under a lease, late ones, its expiry and its close.

A lease is a hold an edge admits calls against by itself (core/domain/metering.py); each call it
reports is posted at min(billable, its own estimate, what the lease has left), like a call's hold
capped at its reservation (settlement.py, whose plans and `apply` these share).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from core.domain import postings
from core.domain.entities import (
    LATE,
    Hold,
    HoldStateChange,
    LeaseAdmission,
    LeaseExpiry,
    SettleResult,
    UsageCorrection,
    UsageRecord,
    UsageStatus,
)
from core.domain.periods import period_bounds
from core.domain.settlement import FinishedCall, Settlement, SettlePlan
from ringside_server.admission import posted_nano
from ringside_server.money import Usage, billable_nano, cost_nano


class LeaseSettlement(Settlement):
    def plan_expire(self, hold: Hold) -> SettlePlan:
        """An expired lease posts the calls its dead edge reported admitted (plan_expire_lease); any
        other hold its reserved amount (Settlement.plan_expire)."""
        return self.plan_expire_lease(hold) if hold.kind == "lease" else super().plan_expire(hold)

    def plan_expire_lease(self, lease: Hold) -> SettlePlan:
        """A lease whose edge stopped reporting: each call it reported admitted and not finished is
        posted at its estimate (its usage record says `lease_released`), every other slot is
        released, and the lease records how many slots no report named (the operator's exposure:
        calls admitted in the edge's last unreported interval)."""
        now = int(self.clock())
        records: list[object] = []
        plan = SettlePlan(lease, SettleResult(0, 0, 0, 0), records, "expired", spend_period=lease.period_start)
        left = lease.remaining_nano
        for call in lease.admitted.values():
            posted = min(call.estimate_nano, left)
            left -= posted
            records += [
                postings.transfer(
                    lease, lease.payer, lease.revenue, posted, "lease_post", call.request_id, lease.period_start, now
                ),
                postings.usage_record(
                    lease,
                    call.request_id,
                    call.provider,
                    call.model_ref,
                    Usage(),
                    "lease_released",
                    True,
                    "",
                    0,
                    posted,
                    posted,
                    now,
                ),
            ]
            plan.reported.append(call.request_id)
            plan.consumed += posted
            plan.requests += 1
        unreported = max(0, lease.lease_calls - len(lease.reported) - len(lease.admitted))
        records += [
            postings.transfer(lease, lease.payer, lease.revenue, 0, "expire", lease.id, lease.period_start, now, True),
            HoldStateChange(lease.id, "expired", now),
            LeaseExpiry(lease.id, unreported),
            *self._crossings(lease, plan.consumed, now),
        ]
        plan.held_release = lease.remaining_nano
        plan.spend = plan.consumed
        plan.wallet_delta = -plan.consumed
        plan.close_hold = True
        return plan

    def plan_late_lease_calls(
        self, lease: Hold, calls: Iterable[FinishedCall], released: dict[str, int], recorded: set[str]
    ) -> SettlePlan:
        """Calls reported after their lease expired. One its expiry posted at its estimate
        (`released`: request id → what was posted) is corrected to its actual amount like a late
        settle (a refund of the difference, in the current period); one no report had named was
        not posted, and is posted now (≤ its estimate and what the lease has left). `recorded`:
        calls that already have their final record (a repeated report)."""
        now = int(self.clock())
        customer = self._customer(lease, now)
        period = customer.period_start if customer else period_bounds(now)[0]
        records: list[object] = []
        plan = SettlePlan(lease, SettleResult(0, 0, 0, 0), records, "lease_calls", spend_period=period)
        left = lease.remaining_nano
        for call in calls:
            if call.request_id in recorded or call.request_id in plan.reported:
                continue
            cost = cost_nano(call.usage, call.price)
            billable = billable_nano(cost, lease.markup_bp)
            expired_post = released.get(call.request_id)
            if expired_post is not None:
                posted = posted_nano(billable, expired_post)
                refund = expired_post - posted
                if refund:
                    records.append(
                        postings.transfer(
                            lease, lease.revenue, lease.payer, refund, "correction", call.request_id, period, now
                        )
                    )
                status: UsageStatus = LATE[call.status]
                plan.spend -= refund
            else:
                posted = posted_nano(billable, call.estimate_nano, left)
                left -= posted
                records += [
                    postings.transfer(
                        lease, lease.payer, lease.revenue, posted, "lease_post", call.request_id, period, now
                    ),
                    # never reported admitted: its estimate is kept beside it all the same
                    LeaseAdmission(call.request_id, lease.id, call.model_ref, call.provider, call.estimate_nano, now),
                ]
                status = call.status
                plan.consumed += posted
                plan.spend += posted
                plan.requests += int(call.status != "failed")
            usage = _usage_record(lease, call, status, cost, billable, posted, now)
            records += postings.cost_transfer(lease, call.request_id, call.provider, cost, now)
            if expired_post is not None:
                records.append(UsageCorrection(usage))  # the request stays counted where the expiry put it
            else:
                records.append(dataclasses.replace(usage, period_start=period))
            plan.reported.append(call.request_id)
        plan.wallet_delta = -plan.spend
        return plan

    def plan_lease_calls(self, lease: Hold, calls: Iterable[FinishedCall]) -> SettlePlan:
        """Post each call reported under a lease at min(billable, its estimate, what the lease has left)."""
        now = int(self.clock())
        records: list[object] = []
        left = lease.remaining_nano
        plan = SettlePlan(lease, SettleResult(0, 0, 0, 0), records, "lease_calls", spend_period=lease.period_start)
        for call in calls:
            if call.request_id in lease.reported or call.request_id in plan.reported:
                continue  # a repeated report
            cost = cost_nano(call.usage, call.price)
            billable = billable_nano(cost, lease.markup_bp)
            posted = posted_nano(billable, call.estimate_nano, left)
            left -= posted
            post = postings.transfer(
                lease, lease.payer, lease.revenue, posted, "lease_post", call.request_id, lease.period_start, now
            )
            records += [
                post,
                *postings.cost_transfer(lease, call.request_id, call.provider, cost, now, post),
                _usage_record(lease, call, call.status, cost, billable, posted, now),
            ]
            plan.reported.append(call.request_id)
            plan.rate_requests += 1
            plan.rate_tokens += call.usage.prompt_tokens + call.usage.completion_tokens
            plan.consumed += posted
            plan.requests += int(call.status != "failed")
        plan.held_release = plan.spend = plan.consumed
        plan.wallet_delta = -plan.consumed
        records += self._crossings(lease, plan.consumed, now)
        return plan

    @staticmethod
    def new_admissions(lease: Hold, admitted: Iterable[LeaseAdmission]) -> list[LeaseAdmission]:
        """The admissions a report names that the core does not know yet (neither admitted nor
        finished under this lease): they are made durable, then `admit_calls` keeps them in memory."""
        fresh: dict[str, LeaseAdmission] = {}
        for call in admitted:
            if call.request_id not in lease.admitted and call.request_id not in lease.reported:
                fresh.setdefault(call.request_id, call)
        return list(fresh.values())

    @staticmethod
    def admit_calls(lease: Hold, admitted: Iterable[LeaseAdmission]) -> None:
        for call in admitted:
            if call.request_id not in lease.reported:
                lease.admitted[call.request_id] = call
        if lease.rate_charge is not None:
            lease.rate_charge.taken(len(lease.admitted) + len(lease.reported))

    @staticmethod
    def retire_lease(lease: Hold) -> None:
        """Its edge admits no more under it: the request slots no call took are given back now,
        not when its last call in flight finishes."""
        if lease.rate_charge is not None:
            lease.rate_charge.retire(len(lease.admitted) + len(lease.reported))

    def plan_close_lease(self, lease: Hold) -> SettlePlan:
        """Every call under the lease is reported: release what it did not use."""
        now = int(self.clock())
        records: list[object] = [
            postings.transfer(lease, lease.payer, lease.revenue, 0, "release", lease.id, lease.period_start, now, True),
            HoldStateChange(lease.id, "closed", now),
        ]
        return SettlePlan(
            lease, SettleResult(0, 0, 0, 0), records, "closed", held_release=lease.remaining_nano, close_hold=True
        )


def _usage_record(
    lease: Hold, call: FinishedCall, status: UsageStatus, cost: int, billable: int, posted: int, now: int
) -> UsageRecord:
    """The usage record of a call its edge reported under `lease`, as it reported it."""
    return postings.usage_record(
        lease,
        call.request_id,
        call.provider,
        call.model_ref,
        call.usage,
        status,
        call.usage_estimated,
        call.upstream_model,
        cost,
        billable,
        posted,
        now,
    )
