"""An account's own prepaid balance (API.md "Prepaid wallet", last paragraph; "Accounts").

When the account enables it, every live call also reserves the provider-cost bound of the call (its
estimate without markup) from the account's balance, which the operator funds with top-ups; at settle
the balance pays the call's actual provider cost (at most what was reserved), an expired hold pays
its whole reservation, and a late settle refunds the difference. Not enough balance for even a
1-token answer: 402 `wallet_empty`. Test-mode calls never reach a provider and never draw on it.
Calls of a prepaid account take the per-call path (no leases), so the balance is exact.
"""

from __future__ import annotations

from core.domain import ledger
from core.domain.entities import Hold, Transfer
from core.domain.state import State
from ringside_server.admission import estimate_nano, max_affordable_output
from ringside_server.ids import new_sortable_id
from ringside_server.money import Price

WALLET_EMPTY = "This account's prepaid balance cannot pay for this call; the operator can top it up."


def draws_on_prepaid(state: State, account_id: str, livemode: bool) -> bool:
    account = state.accounts.get(account_id)
    return livemode and account is not None and account.prepaid_balance_enabled


def cost_bound(input_tokens: int, output_tokens: int, choices: int, price: Price) -> int:
    return estimate_nano(input_tokens, output_tokens, choices, price, 0)


def affordable_output(
    state: State, account_id: str, input_tokens: int, choices: int, price: Price, ceiling: int
) -> int:
    """The largest output bound ≤ ceiling whose cost bound the balance still pays for (0: none)."""
    room = state.prepaid_of(account_id).room_nano
    if cost_bound(input_tokens, ceiling, choices, price) <= room:
        return ceiling
    return max_affordable_output(input_tokens, choices, price, 0, room, ceiling)


def reserve(state: State, hold: Hold, amount: int) -> None:
    hold.prepaid_nano = amount
    state.prepaid_of(hold.account_id).held_nano += amount


def unreserve(state: State, hold: Hold) -> None:
    if hold.prepaid_nano:
        state.prepaid_of(hold.account_id).held_nano -= hold.prepaid_nano


def movement(hold: Hold, amount: int, now: int, refund: bool = False) -> Transfer:
    """The balance paying for a call (or, refunded, getting part of it back)."""
    balance, usage = ledger.prepaid(hold.account_id), ledger.prepaid_usage(hold.account_id)
    return Transfer(
        id=new_sortable_id("tr"),
        account_id=hold.account_id,
        livemode=hold.livemode,
        debit=usage if refund else balance,
        credit=balance if refund else usage,
        amount_nano=amount,
        kind="prepaid_refund" if refund else "prepaid_debit",
        request_id=hold.id,
        period_start=hold.period_start,
        created=now,
    )


def top_up(account_id: str, amount: int, memo: str, now: int, period_start: int, transfer_id: str = "") -> Transfer:
    return Transfer(
        id=transfer_id or new_sortable_id("tr"),
        account_id=account_id,
        livemode=True,
        debit=ledger.prepaid_funding(account_id),
        credit=ledger.prepaid(account_id),
        amount_nano=amount,
        kind="prepaid_topup",
        request_id=new_sortable_id("ptx"),
        period_start=period_start,
        created=now,
        memo=memo,
    )
