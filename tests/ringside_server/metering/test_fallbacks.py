"""ringside_server/metering/fallbacks.py: when the same model is tried again, and after how long."""

from __future__ import annotations

import email.utils
import time

import pytest

from ringside_server.metering.fallbacks import MAX_WAIT_S, TRIES_PER_MODEL, Failure, retry_after_s, wait_before_retry_s


@pytest.mark.parametrize(("value", "seconds"), [("1", 1.0), ("0.5", 0.5), ("-3", 0.0), ("soon", None), (None, None)])
def test_retry_after_reads_seconds(value: str | None, seconds: float | None) -> None:
    assert retry_after_s(value) == seconds


def test_retry_after_reads_an_http_date() -> None:
    later = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 50 < (retry_after_s(later) or 0) <= 60


def test_a_short_retry_after_is_waited_for_a_long_one_moves_on() -> None:
    assert wait_before_retry_s(0, Failure("model_unavailable", 1.0)) == 1.0
    assert wait_before_retry_s(0, Failure("model_unavailable", MAX_WAIT_S + 1)) is None


def test_without_retry_after_the_backoff_grows_and_tries_are_bounded() -> None:
    assert wait_before_retry_s(0, Failure("upstream_error")) == pytest.approx(0.2)
    assert wait_before_retry_s(TRIES_PER_MODEL - 1, Failure("upstream_error")) is None


def test_a_timeout_is_not_tried_again() -> None:
    assert wait_before_retry_s(0, Failure("upstream_timeout", move_on=True)) is None
