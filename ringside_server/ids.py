"""Prefixed random ids in Stripe's style (`cus_…`, `req_…`)."""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Bytes 0..247 map onto the alphabet four times over (248 = 4 × 62), so each kept byte is one uniform
# base62 character; bytes 248..255 are dropped (rejection sampling keeps it uniform). Translating a
# buffer is one C call: ids are on the hot path (three per model call), a per-character divmod loop
# was a tenth of a settle's CPU.
_KEPT = 4 * len(_ALPHABET)
_TABLE = bytes(ord(_ALPHABET[byte % len(_ALPHABET)]) if byte < _KEPT else 0 for byte in range(256))
_DROPPED = bytes(range(_KEPT, 256))


def random_token(length: int) -> str:
    """`length` base62 characters from the OS's CSPRNG (each ~5.95 bits, uniform)."""
    chars = b""
    while len(chars) < length:
        # 1/32 of the bytes are dropped: a few spare ones make a second read rare.
        chars += os.urandom(length - len(chars) + 8).translate(_TABLE, _DROPPED)
    return chars[:length].decode()


# Ids' random parts (new_id, new_sortable_id) come from one 4 KiB read of the CSPRNG, translated
# once and handed out in order, never twice (under a lock: the writer's and executors' threads make
# ids too). A system call per id was a tenth of a settle's event-loop CPU (two or three ids a call).
# A forked child starts with an empty buffer, so it never repeats its parent's. Secrets
# (`random_token`) keep a read of their own.
_REFILL = 4096
_buffer = b""
_offset = 0
_lock = threading.Lock()


def _forget_buffer() -> None:
    global _buffer, _offset, _last
    _buffer, _offset, _last = b"", 0, (-1, "")


os.register_at_fork(after_in_child=_forget_buffer)


def _buffered_token(length: int) -> str:
    """The next `length` characters of the buffer; the caller holds `_lock`."""
    global _buffer, _offset
    end = _offset + length
    if end > len(_buffer):
        chars = _buffer[_offset:]
        while len(chars) < length:  # 1/32 of the bytes are dropped: a refill gives ~3,970
            chars += os.urandom(max(_REFILL, length)).translate(_TABLE, _DROPPED)
        _buffer, _offset, end = chars, 0, length
    token = _buffer[_offset:end]
    _offset = end
    return token.decode()


def new_id(prefix: str, length: int = 24) -> str:
    """A new id such as `cus_3fK…`; 24 base62 characters carry ~143 bits, from the buffered CSPRNG
    (an id is not a secret; a request takes two, and a system call each was ~1 % of the edge's CPU)."""
    with _lock:
        return f"{prefix}_{_buffered_token(length)}"


# A stamp is 6 characters for the millisecond's 3,844 ms window (62**2) and 2 for its place in it.
# The window's 6 are cached and the 2 looked up: a stamp made from scratch (8 divmods, a join) cost
# about as much as the rest of the id, and a core settling a few thousand calls a second makes one
# for a new millisecond on nearly every id (docs/performance.md, "Ids' stamps").
_LOW = len(_ALPHABET) ** 2
_PAIRS = tuple(high + low for high in _ALPHABET for low in _ALPHABET)
_window_cache: tuple[int, str] = (-1, "")


def _base62(value: int, width: int) -> str:
    """`value`'s last `width` base62 digits, fixed width."""
    digits = []
    for _ in range(width):
        value, digit = divmod(value, len(_ALPHABET))
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _stamp(millis: int) -> str:
    """`millis` as 8 base62 characters, fixed width (its last 8 digits, as `_base62(millis, 8)`)."""
    global _window_cache
    window, place = divmod(millis, _LOW)
    cached_window, prefix = _window_cache
    if cached_window != window:
        prefix = _base62(window, 6)
        _window_cache = (window, prefix)
    return prefix + _PAIRS[place]


_DIGIT = {char: value for value, char in enumerate(_ALPHABET)}
_last: tuple[int, str] = (-1, "")  # the last sortable id's millisecond and random part (under _lock)
_FRESH_TAIL = 5  # characters of a stepped random part that stay fresh (~30 bits), see `_after`


def _after(last: str, fresh: str) -> str | None:
    """A random part that sorts after `last`: its characters up to some position, that one stepped
    up by one, the rest (at least `_FRESH_TAIL` characters) from `fresh`; None when every position
    that may step is already the top character (62**11 steps away: never in practice)."""
    for i in range(len(last) - _FRESH_TAIL - 1, -1, -1):
        digit = _DIGIT[last[i]]
        if digit < len(_ALPHABET) - 1:
            return last[:i] + _ALPHABET[digit + 1] + fresh[i + 1 :]
    return None


def new_sortable_id(prefix: str, random_length: int = 16) -> str:
    """An id whose first 8 characters encode the creation time in milliseconds (base62, fixed
    width), so ids sort in creation order (lists, their cursors and the wallet's running balances
    rely on it) and stay unguessable. Within one process the order is strict: an id made in the same
    millisecond as the last one (or after the clock stepped back) keeps that millisecond and steps its
    random part past the last one's."""
    global _last
    millis = time.time_ns() // 1_000_000
    with _lock:
        token = _buffered_token(random_length)
        last_millis, last_token = _last
        if millis <= last_millis and len(last_token) == random_length > _FRESH_TAIL:
            stepped = _after(last_token, token)
            if stepped is None:
                millis = last_millis + 1
            else:
                millis, token = last_millis, stepped
        _last = (millis, token)
        return f"{prefix}_{_stamp(millis)}{token}"


def new_request_id() -> str:
    """A call's request id (`req_…`, 24 characters as `new_id`'s), sortable: the rows keyed by it —
    its hold, usage record, pending transfer, request-log entry — then go in at the right edge of
    their indexes, as the transfers' own ids do, instead of at a random page of each (random ids
    dirtied a page of every such index per call: ~20 % of the SQLite writer's CPU a settle)."""
    return new_sortable_id("req")


def new_lease_id() -> str:
    """A lease's id (`lse_…`), sortable for the same reason as `new_request_id`: its hold and the
    index entries of its calls' transfers and admissions (`hold_id`, `lease_id`) are keyed by it."""
    return new_sortable_id("lse")
