"""`client.account` (settings of the calling key's account, per mode) and `client.api_keys`
(scope `api:admin`)."""

from __future__ import annotations

from typing import Any, Literal

from openai import NOT_GIVEN, NotGiven

from ringside._requests import AsyncRequester, Call, ListCall, SyncRequester, body_of, idempotency, params_of, path
from ringside.pagination import AsyncPage, Page
from ringside.types import AccountSettings, APIKey, Deleted

__all__ = ["APIKeys", "AccountResource", "AsyncAPIKeys", "AsyncAccountResource"]

Mode = Literal["live", "test"]


def _create_key(fields: dict[str, Any], key: str | None) -> Call[APIKey]:
    return Call(APIKey, "post", "api_keys", body=body_of(fields), idempotency_key=idempotency(key))


def _list_keys(limit: int | None, starting_after: str | None) -> ListCall[APIKey]:
    return ListCall(APIKey, "api_keys", params_of({"limit": limit, "starting_after": starting_after}))


class AccountResource:
    def __init__(self, requester: SyncRequester) -> None:
        self._requester = requester

    def retrieve(self) -> AccountSettings:
        return self._requester.run(Call(AccountSettings, "get", "account"))

    def update(self, **settings: Any) -> AccountSettings:
        """E.g. `auto_create_customers=True`, `default_tier_id=…`, `markup_pct=…`, `require_customer=…`."""
        return self._requester.run(Call(AccountSettings, "patch", "account", body=body_of(settings)))


class AsyncAccountResource:
    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def retrieve(self) -> AccountSettings:
        return await self._requester.run(Call(AccountSettings, "get", "account"))

    async def update(self, **settings: Any) -> AccountSettings:
        return await self._requester.run(Call(AccountSettings, "patch", "account", body=body_of(settings)))


class APIKeys:
    def __init__(self, requester: SyncRequester) -> None:
        self._requester = requester

    def create(
        self,
        *,
        scopes: list[str],
        name: str | NotGiven = NOT_GIVEN,
        mode: Mode | NotGiven = NOT_GIVEN,
        allowed_models: list[str] | NotGiven | None = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> APIKey:
        """A new key; its `secret` is shown here once."""
        fields = {"scopes": scopes, "name": name, "mode": mode, "allowed_models": allowed_models}
        return self._requester.run(_create_key(fields, idempotency_key))

    def list(self, *, limit: int | None = None, starting_after: str | None = None) -> Page[APIKey]:
        return self._requester.list(_list_keys(limit, starting_after))

    def delete(self, api_key: str) -> Deleted:
        """Revoke (effective on every edge within 1 s)."""
        return self._requester.run(Call(Deleted, "delete", path("api_keys", api_key)))


class AsyncAPIKeys:
    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def create(
        self,
        *,
        scopes: list[str],
        name: str | NotGiven = NOT_GIVEN,
        mode: Mode | NotGiven = NOT_GIVEN,
        allowed_models: list[str] | NotGiven | None = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> APIKey:
        fields = {"scopes": scopes, "name": name, "mode": mode, "allowed_models": allowed_models}
        return await self._requester.run(_create_key(fields, idempotency_key))

    async def list(self, *, limit: int | None = None, starting_after: str | None = None) -> AsyncPage[APIKey]:
        return await self._requester.list(_list_keys(limit, starting_after))

    async def delete(self, api_key: str) -> Deleted:
        return await self._requester.run(Call(Deleted, "delete", path("api_keys", api_key)))
