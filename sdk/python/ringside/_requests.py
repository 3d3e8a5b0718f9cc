"""How a Ringside resource talks to the server: through the OpenAI client it hangs off, so the
client's base URL, key, `FC-Customer`, timeout, retries and error classes apply unchanged.

Each resource method describes its request once (a `Call` or a `ListCall`, built by functions the
sync and async resources share); a `SyncRequester` or `AsyncRequester` sends it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar
from urllib.parse import quote

from openai import NotGiven

from ringside.pagination import AsyncPage, Page, Params
from ringside.types import Identified, RingsideObject

if TYPE_CHECKING:
    import openai

__all__ = ["AsyncRequester", "Call", "ListCall", "SyncRequester", "body_of", "idempotency", "path"]

Method = Literal["get", "post", "patch", "put", "delete"]
ModelT = TypeVar("ModelT", bound=RingsideObject)
ItemT = TypeVar("ItemT", bound=Identified)


@dataclass(frozen=True, slots=True)
class Call(Generic[ModelT]):
    """One request whose answer is one object."""

    model: type[ModelT]
    method: Method
    path: str
    body: dict[str, Any] | None = None
    params: Params | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class ListCall(Generic[ItemT]):
    """A list request; `envelope` names the member holding the list when it is not the answer itself
    (the wallet's `transactions`)."""

    item: type[ItemT]
    path: str
    params: Params
    envelope: str | None = None


def path(*parts: str) -> str:
    """A path relative to the base URL, each id escaped (an external id may hold '/', '?' or '#')."""
    return "/".join(quote(part, safe=":@") for part in parts)


def _json_value(value: Any) -> Any:
    # The API takes USD as numbers or numeric strings; a Decimal goes as a string so it stays exact.
    return str(value) if isinstance(value, Decimal) else value


def body_of(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A request body from keyword arguments: NOT_GIVEN fields are left out (they keep or inherit
    their value); an explicit None is sent as null (for `budget_usd`, "no cap")."""
    return {k: _json_value(v) for k, v in fields.items() if not isinstance(v, NotGiven)}


def params_of(fields: dict[str, Any]) -> Params:
    return {k: v for k, v in fields.items() if v is not None and not isinstance(v, NotGiven)}


def idempotency(given: str | None) -> str:
    """The caller's key, else a fresh one: the client's automatic retries of this one call reuse
    it, so a retried create or top-up cannot happen twice (as Stripe's SDKs do)."""
    return given if given is not None else f"ringside-python-{uuid.uuid4()}"


def _options(call_params: Params | None, idempotency_key: str | None) -> Any:
    options: dict[str, Any] = {}
    if call_params:
        options["params"] = call_params
    if idempotency_key is not None:
        options["headers"] = {"Idempotency-Key": idempotency_key}
    return options


def _page_of(answer: object, call: ListCall[ItemT]) -> tuple[list[ItemT], bool]:
    envelope = answer if isinstance(answer, dict) else {}
    if call.envelope is not None:
        envelope = envelope.get(call.envelope) or {}
    return [call.item.model_validate(row) for row in envelope.get("data", [])], bool(envelope.get("has_more"))


class SyncRequester:
    """Sends requests through a sync OpenAI client."""

    def __init__(self, client: openai.OpenAI) -> None:
        self._client = client

    def _send(self, method: Method, where: str, body: dict[str, Any] | None, options: Any) -> object:
        if method == "get":
            return self._client.get(where, cast_to=object, options=options)
        if method == "delete":
            return self._client.delete(where, cast_to=object, body=body, options=options)
        if method == "patch":
            return self._client.patch(where, cast_to=object, body=body or {}, options=options)
        if method == "put":
            return self._client.put(where, cast_to=object, body=body or {}, options=options)
        return self._client.post(where, cast_to=object, body=body or {}, options=options)

    def run(self, call: Call[ModelT]) -> ModelT:
        answer = self._send(call.method, call.path, call.body, _options(call.params, call.idempotency_key))
        return call.model.model_validate(answer)

    def list(self, call: ListCall[ItemT]) -> Page[ItemT]:
        def fetch(page_params: Params) -> Page[ItemT]:
            data, has_more = _page_of(self._send("get", call.path, None, _options(page_params, None)), call)
            return Page(data, has_more, page_params, fetch)

        return fetch(call.params)


class AsyncRequester:
    """Sends requests through an async OpenAI client."""

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self._client = client

    async def _send(self, method: Method, where: str, body: dict[str, Any] | None, options: Any) -> object:
        if method == "get":
            return await self._client.get(where, cast_to=object, options=options)
        if method == "delete":
            return await self._client.delete(where, cast_to=object, body=body, options=options)
        if method == "patch":
            return await self._client.patch(where, cast_to=object, body=body or {}, options=options)
        if method == "put":
            return await self._client.put(where, cast_to=object, body=body or {}, options=options)
        return await self._client.post(where, cast_to=object, body=body or {}, options=options)

    async def run(self, call: Call[ModelT]) -> ModelT:
        answer = await self._send(call.method, call.path, call.body, _options(call.params, call.idempotency_key))
        return call.model.model_validate(answer)

    async def list(self, call: ListCall[ItemT]) -> AsyncPage[ItemT]:
        async def fetch(page_params: Params) -> AsyncPage[ItemT]:
            data, has_more = _page_of(await self._send("get", call.path, None, _options(page_params, None)), call)
            return AsyncPage(data, has_more, page_params, fetch)

        return await fetch(call.params)
