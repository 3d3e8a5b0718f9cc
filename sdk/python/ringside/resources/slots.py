"""`client.slots`: an account's named model aliases, with ordered fallbacks (`slot:<name>` refs)."""

from __future__ import annotations

from openai import NOT_GIVEN, NotGiven

from ringside._requests import AsyncRequester, Call, ListCall, SyncRequester, body_of, idempotency, params_of, path
from ringside.pagination import AsyncPage, Page
from ringside.types import Deleted, Slot

__all__ = ["AsyncSlots", "Slots"]


def _create(name: str, models: str | list[str], weights: list[int] | NotGiven, key: str | None) -> Call[Slot]:
    refs = [models] if isinstance(models, str) else models
    body = body_of({"name": name, "models": refs, "weights": weights})
    return Call(Slot, "post", "slots", body=body, idempotency_key=idempotency(key))


def _list(limit: int | None, starting_after: str | None) -> ListCall[Slot]:
    return ListCall(Slot, "slots", params_of({"limit": limit, "starting_after": starting_after}))


class Slots:
    def __init__(self, requester: SyncRequester) -> None:
        self._requester = requester

    def create(
        self,
        *,
        name: str,
        models: str | list[str],
        weights: list[int] | NotGiven = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Slot:
        """`models`: one ref, or refs in fallback order (optionally weighted)."""
        return self._requester.run(_create(name, models, weights, idempotency_key))

    def delete(self, slot: str) -> Deleted:
        return self._requester.run(Call(Deleted, "delete", path("slots", slot)))

    def list(self, *, limit: int | None = None, starting_after: str | None = None) -> Page[Slot]:
        return self._requester.list(_list(limit, starting_after))


class AsyncSlots:
    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def create(
        self,
        *,
        name: str,
        models: str | list[str],
        weights: list[int] | NotGiven = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Slot:
        return await self._requester.run(_create(name, models, weights, idempotency_key))

    async def delete(self, slot: str) -> Deleted:
        return await self._requester.run(Call(Deleted, "delete", path("slots", slot)))

    async def list(self, *, limit: int | None = None, starting_after: str | None = None) -> AsyncPage[Slot]:
        return await self._requester.list(_list(limit, starting_after))
