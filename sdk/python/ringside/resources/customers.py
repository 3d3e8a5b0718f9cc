"""`client.customers` (API.md "Customers"): create, retrieve by `cus_…` or `ext:<external_id>`,
update, delete, erase, list; and `client.customers.wallet`."""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import Any

from openai import NOT_GIVEN, NotGiven

from ringside._requests import AsyncRequester, Call, ListCall, SyncRequester, body_of, idempotency, params_of, path
from ringside.pagination import AsyncPage, Page
from ringside.resources.wallets import AsyncWallets, Wallets
from ringside.types import Customer, Deleted

__all__ = ["AsyncCustomers", "Customers"]

Usd = Decimal | int | float | str


def _create(fields: dict[str, Any], idempotency_key: str | None) -> Call[Customer]:
    return Call(Customer, "post", "customers", body=body_of(fields), idempotency_key=idempotency(idempotency_key))


def _retrieve(customer: str) -> Call[Customer]:
    return Call(Customer, "get", path("customers", customer))


def _update(customer: str, fields: dict[str, Any]) -> Call[Customer]:
    return Call(Customer, "patch", path("customers", customer), body=body_of(fields))


def _delete(customer: str, force: bool) -> Call[Deleted]:
    return Call(Deleted, "delete", path("customers", customer), params={"force": "true"} if force else None)


def _erase(customer: str, force: bool) -> Call[Customer]:
    return Call(Customer, "post", path("customers", customer, "erase"), body={"force": force})


def _list(
    limit: int | None, starting_after: str | None, ending_before: str | None, filters: dict[str, Any]
) -> ListCall[Customer]:
    cursor = {"limit": limit, "starting_after": starting_after, "ending_before": ending_before}
    return ListCall(Customer, "customers", params_of(cursor | filters))


class Customers:
    """Sync customers; `wallet` holds the prepaid-wallet operations."""

    def __init__(self, requester: SyncRequester) -> None:
        self._requester = requester

    @cached_property
    def wallet(self) -> Wallets:
        return Wallets(self._requester)

    def create(
        self,
        *,
        external_id: str | NotGiven = NOT_GIVEN,
        name: str | NotGiven = NOT_GIVEN,
        email: str | NotGiven = NOT_GIVEN,
        metadata: dict[str, Any] | NotGiven = NOT_GIVEN,
        budget_usd: Usd | NotGiven | None = NOT_GIVEN,
        tier_id: str | NotGiven = NOT_GIVEN,
        wallet: dict[str, Any] | NotGiven = NOT_GIVEN,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Customer:
        """Create a customer, or return the existing one with this `external_id` unchanged.

        `budget_usd=None` means no cap, `0` nothing allowed; left out, it inherits from the tier.
        Other documented fields (`rate_limit_rpm`, `allowed_models`, `billing_anchor_day`, …) go in
        `fields`.
        """
        given: dict[str, Any] = {"external_id": external_id, "name": name, "email": email, "metadata": metadata}
        given |= {"budget_usd": budget_usd, "tier_id": tier_id, "wallet": wallet, **fields}
        return self._requester.run(_create(given, idempotency_key))

    def retrieve(self, customer: str) -> Customer:
        """By `cus_…` id or `ext:<external_id>`; a deleted customer raises `NotFoundError`."""
        return self._requester.run(_retrieve(customer))

    def update(self, customer: str, *, unset: list[str] | NotGiven = NOT_GIVEN, **fields: Any) -> Customer:
        """Change fields (`budget_usd=None` removes the cap); `unset=["budget_usd"]` inherits again."""
        return self._requester.run(_update(customer, {**fields, "unset": unset}))

    def delete(self, customer: str, *, force: bool = False) -> Deleted:
        """Delete; `force=True` zeroes a non-zero wallet first (else `ConflictError`)."""
        return self._requester.run(_delete(customer, force))

    def erase(self, customer: str, *, force: bool = False) -> Customer:
        """Right to be forgotten (scope `api:admin`): irreversible, completed asynchronously."""
        return self._requester.run(_erase(customer, force))

    def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
        external_id: str | None = None,
        query: str | None = None,
    ) -> Page[Customer]:
        """Newest first; iterating the page walks every customer."""
        filters = {"external_id": external_id, "query": query}
        return self._requester.list(_list(limit, starting_after, ending_before, filters))


class AsyncCustomers:
    """Async customers; `wallet` holds the prepaid-wallet operations."""

    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    @cached_property
    def wallet(self) -> AsyncWallets:
        return AsyncWallets(self._requester)

    async def create(
        self,
        *,
        external_id: str | NotGiven = NOT_GIVEN,
        name: str | NotGiven = NOT_GIVEN,
        email: str | NotGiven = NOT_GIVEN,
        metadata: dict[str, Any] | NotGiven = NOT_GIVEN,
        budget_usd: Usd | NotGiven | None = NOT_GIVEN,
        tier_id: str | NotGiven = NOT_GIVEN,
        wallet: dict[str, Any] | NotGiven = NOT_GIVEN,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Customer:
        """See `Customers.create`."""
        given: dict[str, Any] = {"external_id": external_id, "name": name, "email": email, "metadata": metadata}
        given |= {"budget_usd": budget_usd, "tier_id": tier_id, "wallet": wallet, **fields}
        return await self._requester.run(_create(given, idempotency_key))

    async def retrieve(self, customer: str) -> Customer:
        return await self._requester.run(_retrieve(customer))

    async def update(self, customer: str, *, unset: list[str] | NotGiven = NOT_GIVEN, **fields: Any) -> Customer:
        return await self._requester.run(_update(customer, {**fields, "unset": unset}))

    async def delete(self, customer: str, *, force: bool = False) -> Deleted:
        return await self._requester.run(_delete(customer, force))

    async def erase(self, customer: str, *, force: bool = False) -> Customer:
        return await self._requester.run(_erase(customer, force))

    async def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
        external_id: str | None = None,
        query: str | None = None,
    ) -> AsyncPage[Customer]:
        filters = {"external_id": external_id, "query": query}
        return await self._requester.list(_list(limit, starting_after, ending_before, filters))
