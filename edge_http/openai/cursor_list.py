"""OpenAI's cursor list over objects held in memory (a stored response's input items, a run's
steps): `limit` 1..100, `order` (desc by default), `after` / `before`, `first_id` / `last_id`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ringside_server.errors import RingsideError

DEFAULT_LIMIT = 20


def cursor_page(request: web.Request, items: list[dict[str, Any]]) -> dict[str, Any]:
    """One page of `items` (oldest first, each with an `id`) as OpenAI lists them."""
    query = request.query
    raw = query.get("limit", str(DEFAULT_LIMIT))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw[:4]) <= 100:
        raise RingsideError("invalid_request", "limit must be an integer between 1 and 100.", "limit")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise RingsideError("invalid_request", "order must be asc or desc.", "order")
    items = list(reversed(items)) if order == "desc" else list(items)
    ids = [item.get("id") for item in items]
    after, before = query.get("after"), query.get("before")
    if after in ids:
        items = items[ids.index(after) + 1 :]
    elif before in ids:
        items = items[: ids.index(before)]
    limit = int(raw[:4])
    page = items[-limit:] if before in ids and after not in ids else items[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(items) > limit,
    }
