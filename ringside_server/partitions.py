"""Accounts hashed into a fixed number of partitions (RINGSIDE_CORE_PARTITIONS, issue 25): the unit a
core owns on PostgreSQL. The core and every edge must agree, so the hash is a stable one (CRC-32 of
the account id), never Python's per-process `hash`."""

from __future__ import annotations

import zlib

DEFAULT_PARTITIONS = 256


def partition_of(account_id: str, partitions: int) -> int:
    """The partition `account_id` belongs to, in 0..partitions-1."""
    return zlib.crc32(account_id.encode()) % partitions
