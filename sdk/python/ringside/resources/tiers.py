"""`client.tiers` (API.md "Budgets, tiers, periods"): named limit sets customers inherit."""

from __future__ import annotations

from typing import Any

from ringside._requests import AsyncRequester, Call, ListCall, SyncRequester, body_of, idempotency, params_of, path
from ringside.pagination import AsyncPage, Page
from ringside.types import Deleted, Tier

__all__ = ["AsyncTiers", "Tiers"]


def _create(name: str, fields: dict[str, Any], key: str | None) -> Call[Tier]:
    body = body_of({"name": name, **fields})
    return Call(Tier, "post", "tiers", body=body, idempotency_key=idempotency(key))


def _list(limit: int | None, starting_after: str | None) -> ListCall[Tier]:
    return ListCall(Tier, "tiers", params_of({"limit": limit, "starting_after": starting_after}))


class Tiers:
    """Fields: `budget_usd`, `rate_limit_rpm`, `rate_limit_tpm`, `markup_pct`, `allowed_models`."""

    def __init__(self, requester: SyncRequester) -> None:
        self._requester = requester

    def create(self, *, name: str, idempotency_key: str | None = None, **fields: Any) -> Tier:
        return self._requester.run(_create(name, fields, idempotency_key))

    def retrieve(self, tier: str) -> Tier:
        return self._requester.run(Call(Tier, "get", path("tiers", tier)))

    def update(self, tier: str, **fields: Any) -> Tier:
        return self._requester.run(Call(Tier, "patch", path("tiers", tier), body=body_of(fields)))

    def delete(self, tier: str) -> Deleted:
        return self._requester.run(Call(Deleted, "delete", path("tiers", tier)))

    def list(self, *, limit: int | None = None, starting_after: str | None = None) -> Page[Tier]:
        return self._requester.list(_list(limit, starting_after))


class AsyncTiers:
    """The async twin of `Tiers`."""

    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def create(self, *, name: str, idempotency_key: str | None = None, **fields: Any) -> Tier:
        return await self._requester.run(_create(name, fields, idempotency_key))

    async def retrieve(self, tier: str) -> Tier:
        return await self._requester.run(Call(Tier, "get", path("tiers", tier)))

    async def update(self, tier: str, **fields: Any) -> Tier:
        return await self._requester.run(Call(Tier, "patch", path("tiers", tier), body=body_of(fields)))

    async def delete(self, tier: str) -> Deleted:
        return await self._requester.run(Call(Deleted, "delete", path("tiers", tier)))

    async def list(self, *, limit: int | None = None, starting_after: str | None = None) -> AsyncPage[Tier]:
        return await self._requester.list(_list(limit, starting_after))
