"""`client.usage.retrieve` (API.md "Usage"): cost, billable and margin from the ledger, optionally
grouped by day, model or customer."""

from __future__ import annotations

from typing import Literal

from ringside._requests import AsyncRequester, Call, SyncRequester, params_of
from ringside.types import Usage

__all__ = ["AsyncUsageResource", "UsageResource"]

GroupBy = Literal["day", "model", "customer"]
OrderBy = Literal["billable_usd", "cost_usd", "margin_usd", "request_count"]


def _retrieve(filters: dict[str, object]) -> Call[Usage]:
    return Call(Usage, "get", "usage", params=params_of(filters))


class UsageResource:
    def __init__(self, requester: SyncRequester) -> None:
        self._requester = requester

    def retrieve(
        self,
        *,
        customer_id: str | None = None,
        since: str | int | None = None,
        until: str | int | None = None,
        group_by: GroupBy | None = None,
        order_by: OrderBy | None = None,
        order: Literal["desc", "asc"] | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
    ) -> Usage:
        """`since`/`until`: `YYYY-MM-DD`, RFC 3339 or unix seconds (default: this period so far)."""
        filters: dict[str, object] = {"customer_id": customer_id, "since": since, "until": until}
        filters |= {"group_by": group_by, "order_by": order_by, "order": order}
        return self._requester.run(_retrieve(filters | {"limit": limit, "starting_after": starting_after}))


class AsyncUsageResource:
    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def retrieve(
        self,
        *,
        customer_id: str | None = None,
        since: str | int | None = None,
        until: str | int | None = None,
        group_by: GroupBy | None = None,
        order_by: OrderBy | None = None,
        order: Literal["desc", "asc"] | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
    ) -> Usage:
        filters: dict[str, object] = {"customer_id": customer_id, "since": since, "until": until}
        filters |= {"group_by": group_by, "order_by": order_by, "order": order}
        return await self._requester.run(_retrieve(filters | {"limit": limit, "starting_after": starting_after}))
