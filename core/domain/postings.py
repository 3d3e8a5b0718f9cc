"""The records a settlement posts: a hold's transfers (post, expire, release, correction), the
provider's cost of a call, and its usage record. Pure constructors; settlement.py decides amounts."""

from __future__ import annotations

from core.domain import ledger
from core.domain.entities import Hold, Transfer, TransferKind, UsageRecord, UsageStatus
from ringside_server.ids import new_sortable_id
from ringside_server.money import Usage


def transfer(
    hold: Hold,
    debit: str,
    credit: str,
    amount: int,
    kind: TransferKind,
    request_id: str,
    period: int,
    now: int,
    resolves: bool = False,
) -> Transfer:
    return Transfer(
        id=new_sortable_id("tr"),
        account_id=hold.account_id,
        livemode=hold.livemode,
        debit=debit,
        credit=credit,
        amount_nano=amount,
        kind=kind,
        request_id=request_id,
        period_start=period,
        created=now,
        pending_id=ledger.pending_transfer_id(hold.id) if resolves else None,
        hold_id=hold.id if hold.kind == "lease" else None,
    )


def cost_transfer(
    hold: Hold, request_id: str, provider: str, cost: int, now: int, beside: Transfer | None = None
) -> list[Transfer]:
    """The provider's cost of a call. Beside the call's post transfer (`beside`) its id is that one's
    with `c` appended: unique as that one is (every other transfer id is a 27-character sortable id
    or `tr_req_…`), it sorts right after it and before every later id, and the call makes one random
    id instead of two (a tenth of a settle's event-loop CPU went to ids)."""
    if cost == 0:
        return []
    return [
        Transfer(
            id=new_sortable_id("tr") if beside is None else beside.id + "c",
            account_id=hold.account_id,
            livemode=hold.livemode,
            debit=ledger.provider_cost(hold.account_id, hold.livemode),
            credit=ledger.provider_payable(hold.account_id, hold.livemode, provider),
            amount_nano=cost,
            kind="cost",
            request_id=request_id,
            period_start=hold.period_start,
            created=now,
            hold_id=hold.id if hold.kind == "lease" else None,
        )
    ]


def usage_record(
    hold: Hold,
    request_id: str,
    provider: str,
    model_ref: str,
    usage: Usage,
    status: UsageStatus,
    usage_estimated: bool,
    upstream_model: str,
    cost: int,
    billable: int,
    posted: int,
    now: int,
) -> UsageRecord:
    return UsageRecord(
        request_id=request_id,
        account_id=hold.account_id,
        livemode=hold.livemode,
        customer_id=hold.customer_id,
        provider=provider,
        model_ref=model_ref,
        upstream_model=upstream_model,
        usage=usage,
        cost_nano=cost,
        billable_nano=billable,
        posted_nano=posted,
        unbilled_nano=max(0, billable - posted),  # a late settle capped by refunds posts above billable
        status=status,
        usage_estimated=usage_estimated,
        period_start=hold.period_start,
        created=now,
        hold_id=hold.id if hold.kind == "lease" else None,
    )
