"""`client.events` (API.md "Usage" → events): every event of the last 30 days, subscribed or not."""

from __future__ import annotations

from ringside._requests import AsyncRequester, Call, ListCall, SyncRequester, params_of, path
from ringside.pagination import AsyncPage, Page
from ringside.types import Event

__all__ = ["AsyncEvents", "Events"]


def _list(type: str | None, limit: int | None, starting_after: str | None) -> ListCall[Event]:
    return ListCall(Event, "events", params_of({"type": type, "limit": limit, "starting_after": starting_after}))


class Events:
    def __init__(self, requester: SyncRequester) -> None:
        self._requester = requester

    def retrieve(self, event: str) -> Event:
        return self._requester.run(Call(Event, "get", path("events", event)))

    def list(
        self, *, type: str | None = None, limit: int | None = None, starting_after: str | None = None
    ) -> Page[Event]:
        return self._requester.list(_list(type, limit, starting_after))


class AsyncEvents:
    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def retrieve(self, event: str) -> Event:
        return await self._requester.run(Call(Event, "get", path("events", event)))

    async def list(
        self, *, type: str | None = None, limit: int | None = None, starting_after: str | None = None
    ) -> AsyncPage[Event]:
        return await self._requester.list(_list(type, limit, starting_after))
