"""When a call through a slot is tried again: the same model once more on 429/5xx (after the
provider's `retry-after` when it is short), then the slot's next model; a timeout or an unreachable
provider moves on at once. Every attempt is its own authorized call (its own hold, its own settle).
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
RETRYABLE_ERRORS = frozenset({"upstream_timeout", "upstream_error"})
TRIES_PER_MODEL = 2
FIRST_BACKOFF_S = 0.2
# A provider asking for a longer wait is not waited for: the next model is tried instead.
MAX_WAIT_S = 2.0
MAX_ATTEMPTS = 10


def retry_after_s(value: str | None) -> float | None:
    """`Retry-After` as seconds (a number or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()[:64]
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True, slots=True)
class Failure:
    """An attempt that failed before its first byte reached the client."""

    code: str  # the error the caller gets if no later attempt answers
    retry_after_s: float | None = None  # what the provider asked for, if anything
    move_on: bool = False  # a timeout or an unreachable provider: not worth a second try


def wait_before_retry_s(try_number: int, failure: Failure) -> float | None:
    """How long to wait before trying the same model again; None: do not, move on."""
    if failure.move_on or try_number + 1 >= TRIES_PER_MODEL:
        return None
    if failure.retry_after_s is None:
        return FIRST_BACKOFF_S * 2**try_number
    return failure.retry_after_s if failure.retry_after_s <= MAX_WAIT_S else None
