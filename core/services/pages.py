"""Pagination over an in-memory sequence: Stripe-style (`starting_after`/`ending_before`, newest first)
and OpenAI-style (`after`/`before`, in the order asked)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from ringside_server.errors import RingsideError

T = TypeVar("T")
MAX_LIMIT = 100
DEFAULT_LIMIT = 10


def _checked(limit: int, starting_after: str, ending_before: str) -> int:
    """The page size asked for (0: the default), refused outside 1..MAX_LIMIT or with both cursors."""
    if limit == 0:
        limit = DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise RingsideError("invalid_request", "limit must be between 1 and 100.", "limit")
    if starting_after and ending_before:
        raise RingsideError("invalid_request", "Use starting_after or ending_before, not both.", "starting_after")
    return limit


def page(
    items: Sequence[T], key: Callable[[T], str], limit: int, starting_after: str, ending_before: str
) -> tuple[list[T], bool]:
    """`items` sorted newest first → (one page, has_more). Cursors are object ids."""
    limit = _checked(limit, starting_after, ending_before)
    ids = [key(item) for item in items]
    if starting_after:
        if starting_after not in ids:
            raise RingsideError("invalid_request", f"No such object: '{starting_after}'.", "starting_after")
        rest = items[ids.index(starting_after) + 1 :]
        return list(rest[:limit]), len(rest) > limit
    if ending_before:
        if ending_before not in ids:
            raise RingsideError("invalid_request", f"No such object: '{ending_before}'.", "ending_before")
        before = items[: ids.index(ending_before)]
        return list(before[-limit:]), len(before) > limit
    return list(items[:limit]), len(items) > limit


def page_by_id(
    items: Sequence[T], key: Callable[[T], str], limit: int, starting_after: str, ending_before: str
) -> tuple[list[T], bool]:
    """`page` for one core's part of a list spread over several active cores: `items` sorted by id,
    largest first; a cursor is compared with the ids, not looked for (it may be another core's)."""
    limit = _checked(limit, starting_after, ending_before)
    if starting_after:
        rest = [item for item in items if key(item) < starting_after]
        return rest[:limit], len(rest) > limit
    if ending_before:
        before = [item for item in items if key(item) > ending_before]
        return before[-limit:], len(before) > limit
    return list(items[:limit]), len(items) > limit


def cursor_page(
    items: Sequence[T], key: Callable[[T], str], limit: int, after: str, before: str, what: str
) -> tuple[list[T], bool]:
    """OpenAI-style: `items` in the order asked → (one page, has_more). A cursor (`after` or `before`,
    checked not both by the caller) is an item's id; one naming no item is refused as no such `what`."""
    ids = [key(item) for item in items]
    for cursor, param in ((after, "after"), (before, "before")):
        if cursor and cursor not in ids:
            raise RingsideError("invalid_request", f"No such {what}: '{cursor[:200]}'.", param)
    if after:
        rest = items[ids.index(after) + 1 :]
        return list(rest[:limit]), len(rest) > limit
    if before:
        earlier = items[: ids.index(before)]
        return list(earlier[-limit:]), len(earlier) > limit
    return list(items[:limit]), len(items) > limit
