"""core/domain/periods.py: a billing period is a function of the clock and the anchor day (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.periods import period_bounds

FAST = settings(max_examples=200, deadline=None)


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def test_default_period_is_the_calendar_month_in_utc() -> None:
    assert period_bounds(ts(2025, 3, 17, 12, 30)) == (ts(2025, 3, 1), ts(2025, 4, 1))


def test_anchor_one_is_the_calendar_month() -> None:
    assert period_bounds(ts(2024, 2, 29, 23, 59, 59), anchor_day=1) == (ts(2024, 2, 1), ts(2024, 3, 1))


def test_anchor_fifteen_before_the_fifteenth_is_the_period_from_last_month() -> None:
    assert period_bounds(ts(2025, 3, 14, 23, 59, 59), anchor_day=15) == (ts(2025, 2, 15), ts(2025, 3, 15))


def test_anchor_fifteen_after_the_fifteenth_is_the_period_to_next_month() -> None:
    assert period_bounds(ts(2025, 3, 20), anchor_day=15) == (ts(2025, 3, 15), ts(2025, 4, 15))


def test_december_period_ends_in_january_of_the_next_year() -> None:
    assert period_bounds(ts(2025, 12, 31, 23, 59, 59)) == (ts(2025, 12, 1), ts(2026, 1, 1))
    assert period_bounds(ts(2025, 12, 20), anchor_day=10) == (ts(2025, 12, 10), ts(2026, 1, 10))


def test_early_january_with_a_late_anchor_belongs_to_last_years_december_period() -> None:
    assert period_bounds(ts(2026, 1, 5), anchor_day=10) == (ts(2025, 12, 10), ts(2026, 1, 10))


@pytest.mark.parametrize("anchor_day", [1, 15, 28])
def test_the_boundary_instant_belongs_to_the_new_period(anchor_day: int) -> None:
    boundary = ts(2025, 7, anchor_day)
    old_start, old_end = period_bounds(boundary - 1, anchor_day)
    new_start, new_end = period_bounds(boundary, anchor_day)
    assert old_end == boundary
    assert new_start == boundary
    assert new_end == ts(2025, 8, anchor_day)
    assert old_start == ts(2025, 6, anchor_day)


def test_a_fractional_second_before_the_boundary_is_still_the_old_period() -> None:
    boundary = ts(2025, 8, 1)
    assert period_bounds(boundary - 0.25) == (ts(2025, 7, 1), boundary)


@pytest.mark.parametrize("anchor_day", [0, -1, 29, 31])
def test_anchor_day_outside_one_to_twenty_eight_is_refused(anchor_day: int) -> None:
    with pytest.raises(ValueError, match="anchor_day"):
        period_bounds(ts(2025, 3, 17), anchor_day)


@FAST
@given(
    now=st.integers(min_value=ts(2000, 1, 1), max_value=ts(2100, 1, 1)),
    anchor_day=st.integers(min_value=1, max_value=28),
)
def test_periods_contain_now_start_on_the_anchor_and_tile_the_timeline(now: int, anchor_day: int) -> None:
    start, end = period_bounds(now, anchor_day)
    assert start <= now < end
    start_date = datetime.fromtimestamp(start, tz=UTC)
    end_date = datetime.fromtimestamp(end, tz=UTC)
    assert (start_date.day, start_date.hour, start_date.minute, start_date.second) == (anchor_day, 0, 0, 0)
    assert (end_date.day, end_date.hour) == (anchor_day, 0)
    assert (end_date.year * 12 + end_date.month) - (start_date.year * 12 + start_date.month) == 1
    # Consecutive periods meet exactly: no gap, no overlap.
    assert period_bounds(end, anchor_day)[0] == end
    assert period_bounds(start - 1, anchor_day)[1] == start
