"""Statements of the billing records (periods, Stripe settings, sync cursors and runs).

Rows that change are replaced: a deletion record and the new row, in the same commit (the
deletions run first: see the order in core/store/records.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert
from sqlalchemy.sql import Executable

from core.domain.billing import (
    PeriodRecord,
    StripeSettings,
    StripeSettingsDeletion,
    SyncCursor,
    SyncCursorDeletion,
    SyncRun,
    SyncRunDeletion,
)
from core.store.tables import CUSTOMER_PERIODS, STRIPE_CURSORS, STRIPE_SETTINGS, STRIPE_SYNC_RUNS

_settings = STRIPE_SETTINGS.c
_cursors = STRIPE_CURSORS.c

STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    StripeSettingsDeletion: (
        delete(STRIPE_SETTINGS).where(
            and_(_settings.account_id == bindparam("b_account_id"), _settings.livemode == bindparam("b_livemode"))
        ),
        lambda r: {"b_account_id": r.account_id, "b_livemode": r.livemode},
    ),
    SyncCursorDeletion: (
        delete(STRIPE_CURSORS).where(
            and_(_cursors.customer_id == bindparam("b_customer_id"), _cursors.value_kind == bindparam("b_value_kind"))
        ),
        lambda r: {"b_customer_id": r.customer_id, "b_value_kind": r.value_kind},
    ),
    SyncRunDeletion: (
        delete(STRIPE_SYNC_RUNS).where(STRIPE_SYNC_RUNS.c.id == bindparam("b_id")),
        lambda r: {"b_id": r.id},
    ),
    PeriodRecord: (insert(CUSTOMER_PERIODS), lambda r: dataclasses.asdict(r)),
    StripeSettings: (insert(STRIPE_SETTINGS), lambda r: dataclasses.asdict(r)),
    SyncCursor: (insert(STRIPE_CURSORS), lambda r: dataclasses.asdict(r)),
    SyncRun: (insert(STRIPE_SYNC_RUNS), lambda r: dataclasses.asdict(r)),
}
