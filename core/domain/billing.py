"""Closed billing periods and the Stripe usage sync: the records and the rules (no I/O).

A period is a function of the clock (core/domain/periods.py): admission switches at the boundary
by itself. Closing only records an ended period, once every hold authorized in it is resolved.
The sync pushes whole units (cents or tokens) of a customer's cumulative usage; what does not
make a whole unit yet stays in the cumulative total for the next run, so nothing is rounded away.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.periods import period_bounds

VALUE_KINDS = ("billable_cents", "cost_cents", "tokens")
NANO_PER_CENT = 10_000_000
MAX_PERIODS_PER_CUSTOMER = 24  # per call: a customer idle for years catches up over several calls
MAX_METER_EVENT_NAME = 100
MAX_SECRET_KEY = 255
MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class PeriodRecord:
    id: str
    account_id: str
    livemode: bool
    customer_id: str
    period_start: int
    period_end: int
    cost_nano: int
    billable_nano: int
    request_count: int
    input_tokens: int
    output_tokens: int
    closed_at: int

    @property
    def margin_nano(self) -> int:
        return self.billable_nano - self.cost_nano


def ended_periods(created: int, anchor_day: int, closed_through: int, now: int) -> list[tuple[int, int]]:
    """[start, end) of the customer's periods that ended by `now` and are not closed yet, oldest
    first: from the end of the last closed one (or the period it was created in)."""
    start = closed_through or period_bounds(created, anchor_day)[0]
    periods: list[tuple[int, int]] = []
    while len(periods) < MAX_PERIODS_PER_CUSTOMER:
        end = period_bounds(start, anchor_day)[1]
        if end > now:
            break
        periods.append((start, end))
        start = end
    return periods


@dataclass(frozen=True, slots=True)
class StripeSettings:
    account_id: str
    livemode: bool
    secret_key: str
    meter_event_name: str
    value_kind: str
    updated: int


@dataclass(frozen=True, slots=True)
class SyncedCustomer:
    """A live customer with a Stripe customer id: what a sync plans for and sends (read from the
    database's index of them, not from the hot state, which may hold only some customers)."""

    id: str
    account_id: str
    livemode: bool
    stripe_customer_id: str


@dataclass(frozen=True, slots=True)
class StripeSettingsDeletion:
    """Clears a tenant's settings row (written before its replacement, in the same commit)."""

    account_id: str
    livemode: bool


def redact(secret_key: str) -> str:
    """Never echo a key back in full: its type prefix and last four characters."""
    prefix = secret_key[: secret_key.find("_", 3) + 1] if secret_key.count("_") >= 2 else ""
    return f"{prefix}…{secret_key[-4:]}"


def settings_error(secret_key: str, meter_event_name: str, value_kind: str, livemode: bool) -> tuple[str, str] | None:
    """(message, param) of the first invalid field, or None. Test usage never lands in live Stripe:
    a test tenant takes only Stripe test keys. A live tenant takes either, so real provider calls
    can be pushed to Stripe's test mode in staging before going live (issue 14)."""
    modes = ("live", "test") if livemode else ("test",)
    prefixes = tuple(f"{kind}_{mode}_" for mode in modes for kind in ("sk", "rk"))
    if not secret_key.startswith(prefixes) or not 12 <= len(secret_key) <= MAX_SECRET_KEY:
        allowed = " or ".join(f"{prefix}…" for prefix in prefixes)
        return f"secret_key must be a Stripe secret or restricted key ({allowed}).", "secret_key"
    if not meter_event_name or len(meter_event_name) > MAX_METER_EVENT_NAME or not meter_event_name.isprintable():
        return f"meter_event_name must be 1..{MAX_METER_EVENT_NAME} printable characters.", "meter_event_name"
    if value_kind not in VALUE_KINDS:
        return f"value must be one of {', '.join(VALUE_KINDS)}.", "value"
    return None


def units(value_kind: str, billable_nano: int, cost_nano: int, tokens: int) -> int:
    """Whole units of cumulative usage; the fraction below one unit is carried, not lost."""
    if value_kind == "billable_cents":
        return max(0, billable_nano) // NANO_PER_CENT
    if value_kind == "cost_cents":
        return max(0, cost_nano) // NANO_PER_CENT
    return max(0, tokens)


@dataclass(frozen=True, slots=True)
class SyncCursor:
    """Units of a customer's usage Stripe has (`pushed_units`), and the push planned next: its
    value and identifier are durable before it is sent, so a retry after a crash resends the very
    same event (Stripe refuses a second one with the same identifier)."""

    customer_id: str
    value_kind: str
    account_id: str
    livemode: bool
    pushed_units: int = 0
    pending_units: int = 0
    pending_identifier: str = ""
    pending_at: int = 0
    last_error: str = ""
    updated: int = 0


@dataclass(frozen=True, slots=True)
class SyncCursorDeletion:
    customer_id: str
    value_kind: str


def identifier(customer_id: str, value_kind: str, from_units: int, to_units: int) -> str:
    """One per pushed range of units: the same range always gets the same identifier (≤ 100 chars)."""
    return f"rs_{customer_id}_{value_kind}_{from_units}_{to_units}"[:100]


def plan(cursor: SyncCursor, total_units: int, now: int) -> SyncCursor:
    """The cursor with its next push planned (kept when one is planned already)."""
    if cursor.pending_units or total_units <= cursor.pushed_units:
        return cursor
    ident = identifier(cursor.customer_id, cursor.value_kind, cursor.pushed_units, total_units)
    return SyncCursor(
        cursor.customer_id,
        cursor.value_kind,
        cursor.account_id,
        cursor.livemode,
        cursor.pushed_units,
        total_units - cursor.pushed_units,
        ident,
        now,
        cursor.last_error,
        now,
    )


def done(cursor: SyncCursor, now: int) -> SyncCursor:
    """Stripe has the planned push (accepted now, or earlier: refused as a duplicate)."""
    return SyncCursor(
        cursor.customer_id,
        cursor.value_kind,
        cursor.account_id,
        cursor.livemode,
        cursor.pushed_units + cursor.pending_units,
        updated=now,
    )


@dataclass(frozen=True, slots=True)
class SyncRun:
    id: str
    run_id: str
    account_id: str
    livemode: bool
    status: str
    events_pushed: int
    units_pushed: int
    duplicates: int
    failed: int
    errors_json: str
    snapshot_at: int
    started: int
    finished: int


@dataclass(frozen=True, slots=True)
class SyncRunDeletion:
    id: str
