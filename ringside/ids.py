"""Prefixed random ids in Stripe's style (`cus_…`, `req_…`)."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def random_token(length: int) -> str:
    """`length` base62 characters from the OS's CSPRNG."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str, length: int = 24) -> str:
    """A new id such as `cus_3fK…`; 24 base62 characters carry ~143 bits."""
    return f"{prefix}_{random_token(length)}"
