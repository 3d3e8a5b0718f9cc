"""Prepaid wallets: top-up, adjust, refund and the transaction history (API.md "Prepaid wallet").

A wallet is the ledger account `<cus>:wallet`; every movement is a transfer with it on one side.
Money leaving the wallet by hand (a negative adjust) is reserved first, like a call's hold, so it can
never take the wallet below what open holds need; a wallet never goes below zero.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.exc import IntegrityError

from core.domain import events, ledger
from core.domain.entities import Customer, CustomerUpdate, Transfer, TransferKind
from core.services.core import Core, Principal, require_scope
from core.services.customers import get
from core.services.pages import DEFAULT_LIMIT, MAX_LIMIT
from core.store import wallet_history
from core.store.tables import TRANSFERS
from ringside_server.errors import RingsideError
from ringside_server.ids import new_id, new_sortable_id
from ringside_server.usd import nano_to_usd

MIN_NANO = 1
MAX_NANO = 10**15  # 1e6 USD per operation
MAX_TEXT = 500
CHOSEN_ID = re.compile(r"wtx_[0-9A-Za-z]{24}")  # a sortable id's form (ringside_server/ids.py)
DEBIT_KINDS: tuple[TransferKind, ...] = ("post", "lease_post", "expire")
TYPES: dict[TransferKind, str] = {
    "topup": "topup",
    "adjust": "adjust",
    "refund": "refund",
    "correction": "refund",
    "post": "debit",
    "lease_post": "debit",
    "expire": "debit",
}


@dataclass(frozen=True, slots=True)
class WalletTransaction:
    id: str
    type: str
    amount_nano: int
    balance_after_nano: int
    request_id: str
    description: str
    created: int


def _amount(amount: int, param: str = "amount_usd") -> int:
    if not MIN_NANO <= abs(amount) <= MAX_NANO:
        raise RingsideError("invalid_request", "An amount must be between 0.000000001 and 1000000 USD.", param)
    return amount


def _text(value: str, param: str) -> str:
    if len(value) > MAX_TEXT:
        raise RingsideError("invalid_request", f"{param} must be at most {MAX_TEXT} characters.", param)
    return value


def transaction_id(transfer_id: str) -> str:
    return "wtx_" + transfer_id.removeprefix("tr_")


def _transfer_id(chosen: str, param: str = "transaction_id") -> str:
    """The transfer of a movement whose caller chose its `wtx_…` id, or a new one's."""
    if not chosen:
        return new_sortable_id("tr")
    if not CHOSEN_ID.fullmatch(chosen):
        raise RingsideError("invalid_request", f"{param} must be a wtx_ id of 24 characters.", param)
    return "tr_" + chosen.removeprefix("wtx_")


def _transfer(
    customer: Customer,
    debit: str,
    credit: str,
    amount: int,
    kind: TransferKind,
    request_id: str,
    memo: str,
    now: int,
    transfer_id: str = "",
) -> Transfer:
    return Transfer(
        id=transfer_id or new_sortable_id("tr"),
        account_id=customer.account_id,
        livemode=customer.livemode,
        debit=debit,
        credit=credit,
        amount_nano=amount,
        kind=kind,
        request_id=request_id,
        period_start=customer.period_start,
        created=now,
        memo=memo,
    )


async def _move(
    core: Core, customer: Customer, transfer: Transfer, delta: int, enable: bool = False, extra: tuple[object, ...] = ()
) -> WalletTransaction:
    """Persist one movement (and turn the wallet on, and its events), then apply it; a debit is
    reserved first. A credit re-arms the wallet's threshold events it brings the balance back over."""
    records: list[object] = [transfer, *extra]
    if enable and not customer.wallet_enabled:
        records.append(CustomerUpdate(dataclasses.replace(customer, wallet_enabled=True)))
    reserved = -delta if delta < 0 else 0
    customer.held_nano += reserved

    def unreserve(_: BaseException) -> None:
        customer.held_nano -= reserved

    def apply() -> WalletTransaction:
        customer.held_nano -= reserved
        customer.wallet_balance_nano += delta
        if delta > 0:
            events.on_wallet_credit(customer, customer.wallet_balance_nano)
        if enable:
            customer.wallet_enabled = True
        return WalletTransaction(
            transaction_id(transfer.id),
            TYPES[transfer.kind],
            delta,
            customer.wallet_balance_nano,
            transfer.request_id,
            transfer.memo,
            transfer.created,
        )

    return await core.writer.write_then_apply(records, apply, unreserve)


async def _made(
    core: Core,
    customer: Customer,
    transfer_id: str,
    kind: TransferKind,
    delta: int,
    of_call: str | None = None,
    param: str = "transaction_id",
) -> WalletTransaction | None:
    """The movement a caller's chosen id already made (a resend after a cut-off call: answered as
    the first was, nothing moved twice), or None; an id naming another movement (another wallet,
    kind, amount — `delta` 0: any — or, `of_call`, refunded debit) is refused."""
    wallet, t = ledger.customer_wallet(customer.id), TRANSFERS.c

    def find() -> tuple[Any, int] | None:
        with core.engine.connect() as connection:
            row = connection.execute(
                select(t.debit, t.credit, t.kind, t.amount_nano, t.request_id, t.memo, t.created).where(
                    t.id == transfer_id
                )
            ).first()
            return None if row is None else (row, wallet_history.balance_through(connection, wallet, transfer_id))

    found = await asyncio.get_running_loop().run_in_executor(None, find)
    if found is None:
        return None
    row, balance = found
    signed = int(row.amount_nano) if row.credit == wallet else -int(row.amount_nano)
    other_call = of_call is not None and row.request_id != of_call
    if row.kind != kind or wallet not in (row.debit, row.credit) or (delta and signed != delta) or other_call:
        raise RingsideError("invalid_request", f"This {param} names another movement.", param)
    return WalletTransaction(
        transaction_id(transfer_id), TYPES[kind], signed, balance, str(row.request_id), str(row.memo), int(row.created)
    )


async def _move_once(
    core: Core, customer: Customer, transfer: Transfer, delta: int, chosen: bool, **move: Any
) -> WalletTransaction:
    """`_move`, or — under an id the caller chose that a twin wrote meanwhile — the twin's answer."""
    try:
        return await _move(core, customer, transfer, delta, **move)
    except IntegrityError:
        made = await _made(core, customer, transfer.id, transfer.kind, delta) if chosen else None
        if made is None:
            raise
        return made


async def top_up(
    core: Core, principal: Principal, ref: str, amount: int, description: str, chosen_id: str = ""
) -> WalletTransaction:
    """Credit the wallet; under `chosen_id` (the caller's `wtx_…`) at most once."""
    require_scope(principal, "api:write")
    customer = get(core, principal, ref)
    amount = _amount(amount)
    if amount < 0:
        raise RingsideError("invalid_request", "A top-up must be positive; use adjust to take money out.", "amount_usd")
    transfer_id = _transfer_id(chosen_id)
    made = await _made(core, customer, transfer_id, "topup", amount) if chosen_id else None
    if made is not None:
        return made
    transfer = _transfer(
        customer,
        ledger.wallet_funding(customer.account_id, customer.livemode),
        ledger.customer_wallet(customer.id),
        amount,
        "topup",
        new_id("wop"),
        _text(description, "description"),
        core.now(),
        transfer_id,
    )
    data = {
        "amount_usd": nano_to_usd(amount),
        "balance_usd": nano_to_usd(customer.wallet_balance_nano + amount),
        "transaction_id": transaction_id(transfer.id),
    }
    event = events.customer_event(core.state, customer, "wallet.topup", transfer.created, data)
    return await _move_once(core, customer, transfer, amount, bool(chosen_id), enable=True, extra=tuple(event))


async def adjust(
    core: Core, principal: Principal, ref: str, amount: int, reason: str, chosen_id: str = ""
) -> WalletTransaction:
    """Credit or debit the wallet by hand; under `chosen_id` (the caller's `wtx_…`) at most once."""
    require_scope(principal, "api:write")
    customer = get(core, principal, ref)
    amount = _amount(amount)
    if not reason.strip():
        raise RingsideError("invalid_request", "An adjustment needs a reason.", "reason")
    transfer_id = _transfer_id(chosen_id)
    made = await _made(core, customer, transfer_id, "adjust", amount) if chosen_id else None
    if made is not None:  # before the balance check: the first may have spent what it checks
        return made
    if amount < 0 and customer.wallet_balance_nano - customer.held_nano < -amount:
        raise RingsideError(
            "invalid_request",
            "This would take the wallet below zero (or below what calls in flight hold).",
            "amount_usd",
        )
    wallet, funding = ledger.customer_wallet(customer.id), ledger.wallet_funding(customer.account_id, customer.livemode)
    debit, credit = (funding, wallet) if amount > 0 else (wallet, funding)
    transfer = _transfer(
        customer, debit, credit, abs(amount), "adjust", new_id("wop"), _text(reason, "reason"), core.now(), transfer_id
    )
    return await _move_once(core, customer, transfer, amount, bool(chosen_id))


def given_back_nano(engine: Engine, wallet: str, call_id: str) -> int:
    """What a wallet has had back of one call's debit: refunds of that debit plus the correction of
    a late settle (its refund of the difference), which counts toward the same limit."""
    t, d = TRANSFERS.c, TRANSFERS.alias("debit").c
    debits = select(d.id).where(d.request_id == call_id, d.debit == wallet, d.kind.in_(DEBIT_KINDS))
    with engine.connect() as connection:
        refunded = connection.execute(
            select(func.coalesce(func.sum(t.amount_nano), 0)).where(
                t.credit == wallet,
                or_(
                    (t.kind == "refund") & t.request_id.in_(debits),
                    (t.kind == "correction") & (t.request_id == call_id),
                ),
            )
        ).scalar_one()
    return int(refunded)


async def refund(
    core: Core, principal: Principal, ref: str, tx_id: str, amount: int, chosen_id: str = ""
) -> WalletTransaction:
    """Give back (part of) one debit of this wallet; all refunds of a debit stay within it; under
    `chosen_id` (the caller's `wtx_…` for the refund) at most once.

    A refund and a late settle of the same call (whose correction is a refund too) exclude each
    other through `core.refunding`, keyed by the call: each reads what was given back, then books."""
    require_scope(principal, "api:write")
    customer = get(core, principal, ref)
    wallet = ledger.customer_wallet(customer.id)
    transfer_id = "tr_" + tx_id.removeprefix("wtx_")[:80]
    refund_id = _transfer_id(chosen_id, "refund_id")
    t = TRANSFERS.c

    def find_debit() -> tuple[int, str] | None:
        with core.engine.connect() as connection:
            row = connection.execute(
                select(t.amount_nano, t.request_id).where(
                    t.id == transfer_id, t.debit == wallet, t.kind.in_(DEBIT_KINDS)
                )
            ).first()
        return None if row is None else (int(row[0]), str(row[1]))

    loop = asyncio.get_running_loop()
    found = await loop.run_in_executor(None, find_debit)
    if found is None:
        raise RingsideError("not_found", f"No debit '{tx_id[:100]}' in this wallet.", "transaction_id")
    debited, call_id = found
    if call_id in core.refunding:
        raise RingsideError("conversation_locked", f"A refund of {tx_id} is in progress; retry.")
    core.refunding.add(call_id)
    try:
        made = await _made(core, customer, refund_id, "refund", amount, transfer_id, "refund_id") if chosen_id else None
        if made is not None:  # before what is left: the first may have given it all back
            return made
        left = debited - await loop.run_in_executor(None, given_back_nano, core.engine, wallet, call_id)
        amount = amount or left
        if not MIN_NANO <= amount <= left:
            raise RingsideError(
                "invalid_request", f"At most {left} nano-USD of this debit is left to refund.", "amount_usd"
            )
        transfer = _transfer(
            customer,
            ledger.revenue(customer.account_id, customer.livemode),
            wallet,
            amount,
            "refund",
            transfer_id,
            "",
            core.now(),
            refund_id,
        )
        return await _move(core, customer, transfer, amount)
    finally:
        core.refunding.discard(call_id)


async def wallet(
    core: Core, principal: Principal, ref: str, limit: int, starting_after: str, ending_before: str
) -> tuple[Customer, list[WalletTransaction], bool]:
    """One page of the wallet's transactions, newest first, each with the balance after it: read by
    keyset (core/store/wallet_history.py), so a page costs the same however long the history."""
    require_scope(principal, "api:read", customer_bound=True)
    customer = get(core, principal, ref)
    limit = limit or DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise RingsideError("invalid_request", "limit must be between 1 and 100.", "limit")
    if starting_after and ending_before:
        raise RingsideError("invalid_request", "Use starting_after or ending_before, not both.", "starting_after")
    account = ledger.customer_wallet(customer.id)
    cursor, param = (starting_after, "starting_after") if starting_after else (ending_before, "ending_before")
    cursor_id = "tr_" + cursor.removeprefix("wtx_") if cursor else ""

    def read() -> tuple[list[wallet_history.WalletRow], int] | None:
        with core.engine.connect() as connection:
            if cursor and not wallet_history.is_transaction(connection, account, cursor_id):
                return None
            after, before = (cursor_id, "") if starting_after else ("", cursor_id)
            rows = wallet_history.rows(connection, account, limit + 1, after, before)
            balance = wallet_history.balance_through(connection, account, rows[0].transfer_id) if rows else 0
        return rows, balance

    found = await asyncio.get_running_loop().run_in_executor(None, read)
    if found is None:
        raise RingsideError("invalid_request", f"No such object: '{cursor[:200]}'.", param)
    rows, balance = found  # one more than a page, newest first; `balance` is after the newest
    has_more = len(rows) > limit
    if has_more and ending_before:  # the extra row is the newest: the page's balance is before it
        balance -= rows[0].delta_nano
    rows = rows[-limit:] if ending_before else rows[:limit]
    items = []
    for row in rows:
        items.append(
            WalletTransaction(
                transaction_id(row.transfer_id),
                TYPES.get(row.kind, "adjust"),  # type: ignore[call-overload]
                row.delta_nano,
                balance,
                row.request_id if row.kind in (*DEBIT_KINDS, "refund", "correction") else "",
                row.memo,
                row.created,
            )
        )
        balance -= row.delta_nano
    return customer, items, has_more
