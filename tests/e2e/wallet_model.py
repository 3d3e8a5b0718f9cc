"""What one wallet customer's ledger must look like, kept from the answers of the core's API, and
the check of every wallet invariant against what the core shows (API.md "Prepaid wallet",
"Holds, expiry, late settles"; issue 4's invariants).

The model never reads the core's own arithmetic: amounts come from what the test asked for (top-ups,
adjusts, refunds) and from the price (a call posts min(cost of its usage, its hold)). The one thing
it learns from the core is *when* an abandoned hold expired, which only the clock decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ringside.core.v1 import wallets_pb2
from tests.core_api import CoreApi
from tests.harness import wait_until

CONSISTENT_READ_S = 10.0


@dataclass(slots=True)
class Call:
    """A call admitted with `hold_nano`. posted is None while its hold is open."""

    request_id: str
    hold_nano: int
    posted_nano: int | None = None
    abandoned: bool = False  # never settled by the client: it expires (posted at the hold)
    expired: bool = False
    correction_nano: int = 0  # a late settle's refund of the difference
    first_settle: tuple[int, bool] | None = None  # (posted, late) as the first settle answered


@dataclass(slots=True)
class WalletModel:
    customer_id: str
    topups_nano: int = 0
    adjusts_nano: int = 0
    refunds_nano: dict[str, int] = field(default_factory=dict)  # debit wtx id → refunded through the API
    calls: dict[str, Call] = field(default_factory=dict)
    seen: dict[str, tuple[object, ...]] = field(default_factory=dict)  # wtx id → what it first showed
    seen_transfers: dict[str, tuple[object, ...]] = field(default_factory=dict)
    debits: dict[str, int] = field(default_factory=dict)  # debit wtx id → amount, as listed
    debit_calls: dict[str, str] = field(default_factory=dict)  # debit wtx id → the call's request id

    @property
    def debited_nano(self) -> int:
        return sum(
            call.hold_nano if call.expired else (call.posted_nano or 0)
            for call in self.calls.values()
            if call.posted_nano is not None or call.expired
        )

    @property
    def balance_nano(self) -> int:
        """Σ topups + Σ adjusts − Σ debits + Σ refunds (late-settle corrections are refunds)."""
        refunds = sum(self.refunds_nano.values()) + sum(call.correction_nano for call in self.calls.values())
        return self.topups_nano + self.adjusts_nano - self.debited_nano + refunds

    @property
    def held_nano(self) -> int:
        return sum(call.hold_nano for call in self.calls.values() if call.posted_nano is None and not call.expired)

    def given_back(self, request_id: str) -> int:
        """Refunds of a call's debit plus its late settle's correction: never more than the debit."""
        refunded = sum(
            self.refunds_nano.get(wtx_id, 0) for wtx_id, rid in self.debit_calls.items() if rid == request_id
        )
        return refunded + self.calls[request_id].correction_nano

    def refund_left(self, wtx_id: str) -> int:
        return self.debits[wtx_id] - self.given_back(self.debit_calls[wtx_id])


def _snapshot(tx: wallets_pb2.WalletTransaction) -> tuple[object, ...]:
    return (tx.type, tx.amount_nano_usd, tx.balance_after_nano_usd, tx.request_id, tx.created)


def consistent_wallet(
    api: CoreApi, customer_id: str
) -> tuple[wallets_pb2.GetWalletResponse, list[wallets_pb2.WalletTransaction]]:
    """A read whose history ends at the balance it reports. An expiry committing during the read
    can show in the history a moment before it shows in the balance; it must not stay so."""

    def read() -> tuple[wallets_pb2.GetWalletResponse, list[wallets_pb2.WalletTransaction]] | None:
        wallet, transactions = api.wallet(customer_id)
        end = transactions[-1].balance_after_nano_usd if transactions else 0
        return (wallet, transactions) if end == wallet.balance_nano_usd else None

    found: tuple[wallets_pb2.GetWalletResponse, list[wallets_pb2.WalletTransaction]] = wait_until(
        read, CONSISTENT_READ_S, f"{customer_id}'s history to end at its balance"
    )
    return found


def check_chain(wallet: wallets_pb2.GetWalletResponse, transactions: list[wallets_pb2.WalletTransaction]) -> None:
    """The balance_after chain follows from zero to the balance, and never dips below zero."""
    running = 0
    for tx in transactions:
        running += tx.amount_nano_usd
        assert tx.balance_after_nano_usd == running, (tx, running)
        assert running >= 0, f"{tx.id} took the wallet to {running}"
    assert wallet.balance_nano_usd == running >= 0


def check_wallet(api: CoreApi, model: WalletModel) -> None:
    """Every invariant of one wallet, from the core's API (and its transfers table)."""
    wallet, transactions = consistent_wallet(api, model.customer_id)
    check_chain(wallet, transactions)
    by_id = {tx.id: tx for tx in transactions}
    for tx_id, before in model.seen.items():  # what was shown once is never edited or removed
        assert tx_id in by_id, f"{tx_id} disappeared"
        assert _snapshot(by_id[tx_id]) == before, (tx_id, before, by_id[tx_id])
    model.seen.update((tx.id, _snapshot(tx)) for tx in transactions)
    _check_movements(model, transactions)
    _check_calls(model, transactions)
    assert wallet.held_nano_usd == model.held_nano, (wallet.held_nano_usd, model.held_nano)
    assert wallet.balance_nano_usd == model.balance_nano, (wallet.balance_nano_usd, model.balance_nano)
    _check_transfers_unchanged(api, model)
    audit = api.stack.audit()
    assert audit.ok and audit.imbalance_nano_usd == 0, audit


def _check_movements(model: WalletModel, transactions: list[wallets_pb2.WalletTransaction]) -> None:
    topups = sum(tx.amount_nano_usd for tx in transactions if tx.type == "topup")
    adjusts = sum(tx.amount_nano_usd for tx in transactions if tx.type == "adjust")
    assert (topups, adjusts) == (model.topups_nano, model.adjusts_nano)
    model.debits.update((tx.id, -tx.amount_nano_usd) for tx in transactions if tx.type == "debit")
    model.debit_calls.update((tx.id, tx.request_id) for tx in transactions if tx.type == "debit")
    refunded: dict[str, int] = {}
    for tx in transactions:
        if tx.type == "refund" and tx.request_id.startswith("tr_"):
            debit_id = "wtx_" + tx.request_id.removeprefix("tr_")
            assert debit_id in model.debits, f"refund {tx.id} of {debit_id}, which is not a debit here"
            refunded[debit_id] = refunded.get(debit_id, 0) + tx.amount_nano_usd
    assert refunded == {k: v for k, v in model.refunds_nano.items() if v}


def _check_calls(model: WalletModel, transactions: list[wallets_pb2.WalletTransaction]) -> None:
    """Every debit belongs to exactly one admitted call, at the amount it must have posted; every
    late settle shows its correction once."""
    debits: dict[str, list[int]] = {}
    corrections: dict[str, list[int]] = {}
    for tx in transactions:
        if tx.type == "debit":
            debits.setdefault(tx.request_id, []).append(-tx.amount_nano_usd)
        elif tx.type == "refund" and not tx.request_id.startswith("tr_"):
            corrections.setdefault(tx.request_id, []).append(tx.amount_nano_usd)
    unknown = (debits.keys() | corrections.keys()) - model.calls.keys()
    assert not unknown, f"wallet movements of calls never admitted: {unknown}"
    for call in model.calls.values():
        posted = debits.get(call.request_id, [])
        assert len(posted) <= 1, f"{call.request_id} was debited {len(posted)} times"
        if call.abandoned and call.posted_nano is None and not call.expired and posted:
            call.expired = True  # the clock decided: its hold was posted at its reserved amount
        if call.expired:
            assert posted == [call.hold_nano], (call, posted)
        elif call.posted_nano is None:
            assert not posted, (call, posted)  # still held
        else:
            assert posted == ([call.posted_nano] if call.posted_nano else []), (call, posted)
        expected = [call.correction_nano] if call.correction_nano else []
        assert corrections.get(call.request_id, []) == expected, (call, corrections.get(call.request_id))
        # all that is ever given back for a call (refunds, a late settle's correction) stays within its debit
        given_back = model.given_back(call.request_id)
        assert given_back <= sum(posted), f"{call.request_id}: {given_back} given back of {sum(posted)} debited"


def _check_transfers_unchanged(api: CoreApi, model: WalletModel) -> None:
    """Transfers are insert-only: every row touching the wallet keeps what it first said."""
    account = f"{model.customer_id}:wallet"
    rows = api.stack.query(
        "SELECT id, debit, credit, amount_nano, kind, request_id, pending_id, created FROM transfers "
        "WHERE debit = ? OR credit = ?",
        account,
        account,
    )
    now = {str(row[0]): tuple(row[1:]) for row in rows}
    for transfer_id, before in model.seen_transfers.items():
        assert now.get(transfer_id) == before, (transfer_id, before, now.get(transfer_id))
    model.seen_transfers.update(now)
