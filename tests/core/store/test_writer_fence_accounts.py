"""Which accounts a commit is fenced on (core/store/writer.py, issue 25): a record's own
`account_id`, or that of the one object it rewrites whole — so a core serving an account but not
the system partition may write its batch's, customer's or store file's new state, and a core
serving only the system partition may not."""

from __future__ import annotations

import dataclasses

from core.domain.batches import BatchUpdate
from core.domain.entities import Account, AccountUpdate, Transfer
from core.domain.webhooks import OutboxEntry
from core.store.writer import _account_of, _fenced_on, _Unit


def test_a_rewritten_object_is_fenced_on_its_account() -> None:
    @dataclasses.dataclass(frozen=True)
    class Batchish:
        account_id: str

    batch = BatchUpdate.__new__(BatchUpdate)
    object.__setattr__(batch, "batch", Batchish("acct_b"))
    assert _account_of(batch) == "acct_b"
    assert _account_of(AccountUpdate(Account("acct_a", "name", 1))) == "acct_a"


def test_a_ledger_write_names_its_own_and_a_relay_names_none() -> None:
    fields = {f.name: None for f in dataclasses.fields(Transfer)}
    transfer = Transfer.__new__(Transfer)
    for name in fields:
        object.__setattr__(transfer, name, None)
    object.__setattr__(transfer, "account_id", "acct_t")
    assert _account_of(transfer) == "acct_t"
    entry = OutboxEntry.__new__(OutboxEntry)
    for field in dataclasses.fields(OutboxEntry):
        object.__setattr__(entry, field.name, "")
    assert _account_of(entry) is None  # several fields, no account: the system partition's


def test_a_commit_is_fenced_on_its_units_accounts_and_on_the_system_partition_for_a_unit_naming_none() -> None:
    def unit(records: list[object], accounts: tuple[str, ...] = ()) -> _Unit:
        return _Unit(records, None, lambda: None, None, accounts)  # type: ignore[arg-type]

    ledger = unit([AccountUpdate(Account("acct_a", "a", 1)), AccountUpdate(Account("acct_b", "b", 1))])
    extension = unit([object()], accounts=("acct_c",))  # names its account beside its records
    assert _fenced_on([ledger, extension]) == ({"acct_a", "acct_b", "acct_c"}, False)
    assert _fenced_on([ledger, unit([object()])]) == ({"acct_a", "acct_b"}, True)
