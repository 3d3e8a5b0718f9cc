"""One page of a wallet's history, read by keyset: its cost is the page, not the wallet's history.

A wallet's transactions are the transfers with its ledger account on one side (holds' pending
transfers aside), newest first by id (ids begin with their time, so code-point order is time order,
whatever the database's collation). Each side is read through its (debit, id) / (credit, id) index,
at most `limit + 1` rows. The balance after the page's newest transaction is the wallet's balance
from the running ledger totals minus what every newer transfer moved — nothing on the first page,
the pages before it on a deep one — read in one statement, so one snapshot: a transfer committed
between the page's read and this one is newer than the page and cancels out.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Select, func, select, text

from core.store.tables import LEDGER_TOTALS, TRANSFERS, WALLET_CREDIT_SQL, WALLET_DEBIT_SQL

# The partial indexes' predicates word for word (core/store/tables/ledger.py): with them in the WHERE, both
# databases can prove the index covers the query (a bound parameter would not match the index's
# literal). They add nothing to `side == account`, which names a wallet.
WALLET_DEBIT = text(WALLET_DEBIT_SQL)
WALLET_CREDIT = text(WALLET_CREDIT_SQL)


@dataclass(frozen=True, slots=True)
class WalletRow:
    transfer_id: str
    kind: str
    delta_nano: int  # what it moved into the wallet (negative: out of it)
    request_id: str
    memo: str
    created: int


def _side(account: str, debit: bool) -> Select[str, str, int, str, str, int]:
    t = TRANSFERS.c
    side, listed = (t.debit, WALLET_DEBIT) if debit else (t.credit, WALLET_CREDIT)
    return select(t.id, t.kind, t.amount_nano, t.request_id, t.memo, t.created).where(
        side == account, listed, t.amount_nano != 0
    )


def is_transaction(connection: Connection, account: str, transfer_id: str) -> bool:
    """Whether `transfer_id` is one of this wallet's listed transactions (a valid cursor)."""
    t = TRANSFERS.c
    found = connection.execute(select(t.debit, t.credit, t.kind, t.amount_nano).where(t.id == transfer_id)).first()
    return found is not None and account in (found[0], found[1]) and found[2] != "pending" and found[3] != 0


def rows(connection: Connection, account: str, limit: int, after: str = "", before: str = "") -> list[WalletRow]:
    """Up to `limit` transactions older than `after` (or, with `before`, the `limit` just newer than
    it), newest first."""
    t = TRANSFERS.c
    found: dict[str, WalletRow] = {}
    for debit in (True, False):
        query = _side(account, debit)
        if before:
            query = query.where(t.id > before).order_by(t.id.asc())
        else:
            query = query.where(t.id < after) if after else query
            query = query.order_by(t.id.desc())
        for transfer_id, kind, amount, request_id, memo, created in connection.execute(query.limit(limit)):
            found[transfer_id] = WalletRow(
                transfer_id, kind, -int(amount) if debit else int(amount), request_id, memo, int(created)
            )
    # ids are compared as Python strings (code points): the page the two sides make together
    ordered = sorted(found.values(), key=lambda row: row.transfer_id, reverse=True)
    return ordered[-limit:] if before else ordered[:limit]


def balance_through(connection: Connection, account: str, transfer_id: str) -> int:
    """The wallet's balance once every transfer up to `transfer_id` (by id) had moved."""
    t, lt = TRANSFERS.c, LEDGER_TOTALS.c
    total = (
        select(func.coalesce(func.sum(lt.credit_nano - lt.debit_nano), 0))
        .where(lt.ledger_account == account, lt.kind != "pending")
        .scalar_subquery()
    )
    newer = t.id > transfer_id
    credited = (
        select(func.coalesce(func.sum(t.amount_nano), 0))
        .where(t.credit == account, WALLET_CREDIT, newer)
        .scalar_subquery()
    )
    debited = (
        select(func.coalesce(func.sum(t.amount_nano), 0))
        .where(t.debit == account, WALLET_DEBIT, newer)
        .scalar_subquery()
    )
    return int(connection.execute(select(total - credited + debited)).scalar_one())
