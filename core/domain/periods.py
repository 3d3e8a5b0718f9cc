"""Billing periods: a function of the clock and the customer's anchor day (UTC)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

_DAY_S = 86_400


def _anchor(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def period_bounds(now_s: float, anchor_day: int = 1) -> tuple[int, int]:
    """[start, end) unix seconds of the period containing `now_s`; periods start on `anchor_day`."""
    if not 1 <= anchor_day <= 28:
        raise ValueError("anchor_day must be 1..28")
    # Periods change at a UTC midnight: the bounds are one function of the day (asked ~twice a settle).
    return _day_bounds(int(now_s // _DAY_S), anchor_day)


@functools.lru_cache(maxsize=256)
def _day_bounds(day: int, anchor_day: int) -> tuple[int, int]:
    now = datetime.fromtimestamp(day * _DAY_S, tz=UTC)
    year, month = now.year, now.month
    if now.day < anchor_day:
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    start = _anchor(year, month, anchor_day)
    end_year, end_month = (year + 1, 1) if month == 12 else (year, month + 1)
    end = _anchor(end_year, end_month, anchor_day)
    return int(start.timestamp()), int(end.timestamp())
