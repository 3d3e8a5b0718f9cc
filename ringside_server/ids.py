"""Prefixed random ids in Stripe's style (`cus_…`, `req_…`)."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def random_token(length: int) -> str:
    """`length` base62 characters from the OS's CSPRNG (one read, not one per character: ids are on
    the hot path, three per model call)."""
    value = int.from_bytes(secrets.token_bytes(length), "big")  # 8 bits a byte ≥ 5.95 bits a char
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 62)
        chars.append(_ALPHABET[digit])
    return "".join(chars)


def new_id(prefix: str, length: int = 24) -> str:
    """A new id such as `cus_3fK…`; 24 base62 characters carry ~143 bits."""
    return f"{prefix}_{random_token(length)}"


def new_sortable_id(prefix: str, random_length: int = 16) -> str:
    """An id whose first 8 characters encode the creation time in milliseconds (base62, fixed
    width), so ids sort in creation order (lists and their cursors rely on it) and stay unguessable."""
    millis = time.time_ns() // 1_000_000
    stamp = []
    for _ in range(8):
        millis, digit = divmod(millis, 62)
        stamp.append(_ALPHABET[digit])
    return f"{prefix}_{''.join(reversed(stamp))}{random_token(random_length)}"
