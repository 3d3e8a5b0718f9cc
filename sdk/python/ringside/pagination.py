"""Stripe-style lists: one page in `.data`, and iteration that fetches the next pages on demand.

`for customer in client.customers.list():` walks every customer, newest first, one request per
page (`limit` per page, default 10, at most 100); `.data` and `.has_more` describe the page at hand.
A list started with `ending_before` walks towards newer objects instead, oldest first, as Stripe's
does (each page's `.data` stays in the server's order, newest first).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["AsyncPage", "HasId", "Page"]


class HasId(Protocol):
    @property
    def id(self) -> str: ...


ItemT = TypeVar("ItemT", bound=HasId)
Params = dict[str, Any]


def _backwards(params: Params) -> bool:
    return params.get("ending_before") is not None


def _next_params(params: Params, data: list[Any]) -> Params:
    """The cursor of the page after this one, in the direction the list was started in."""
    following = {k: v for k, v in params.items() if k not in ("starting_after", "ending_before")}
    if _backwards(params):
        return following | {"ending_before": data[0].id}
    return following | {"starting_after": data[-1].id}


class Page(Generic[ItemT]):
    """One page of a list; iterating it yields every item of this page and of the pages after it."""

    def __init__(
        self, data: list[ItemT], has_more: bool, params: Params, fetch: Callable[[Params], Page[ItemT]]
    ) -> None:
        self.data = data
        self.has_more = has_more
        self._params = params
        self._fetch = fetch

    def has_next_page(self) -> bool:
        return self.has_more and bool(self.data)

    def next_page(self) -> Page[ItemT]:
        """The following page (call only when `has_next_page()`)."""
        return self._fetch(_next_params(self._params, self.data))

    def auto_paging_iter(self) -> Iterator[ItemT]:
        """Every item from this page on, fetching pages as the iteration reaches them."""
        page: Page[ItemT] = self
        while True:
            yield from reversed(page.data) if _backwards(page._params) else page.data
            if not page.has_next_page():
                return
            page = page.next_page()

    def __iter__(self) -> Iterator[ItemT]:
        return self.auto_paging_iter()


class AsyncPage(Generic[ItemT]):
    """The async twin of `Page`: `async for item in await client.customers.list():`."""

    def __init__(
        self, data: list[ItemT], has_more: bool, params: Params, fetch: Callable[[Params], Awaitable[AsyncPage[ItemT]]]
    ) -> None:
        self.data = data
        self.has_more = has_more
        self._params = params
        self._fetch = fetch

    def has_next_page(self) -> bool:
        return self.has_more and bool(self.data)

    async def next_page(self) -> AsyncPage[ItemT]:
        return await self._fetch(_next_params(self._params, self.data))

    async def auto_paging_iter(self) -> AsyncIterator[ItemT]:
        page: AsyncPage[ItemT] = self
        while True:
            for item in reversed(page.data) if _backwards(page._params) else page.data:
                yield item
            if not page.has_next_page():
                return
            page = await page.next_page()

    def __aiter__(self) -> AsyncIterator[ItemT]:
        return self.auto_paging_iter()
