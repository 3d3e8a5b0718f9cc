"""`client.billing.stripe` (API.md "Stripe"): the account's Stripe settings and its sync runs."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from openai import NOT_GIVEN, NotGiven

from ringside._requests import AsyncRequester, Call, ListCall, SyncRequester, body_of, params_of
from ringside.pagination import AsyncPage, Page
from ringside.types import StripeSettings, StripeSync

__all__ = ["AsyncBilling", "AsyncStripe", "Billing", "Stripe"]

Value = Literal["billable_cents", "cost_cents", "tokens"]


def _update(secret_key: str, meter_event_name: str, value: Value | NotGiven) -> Call[StripeSettings]:
    body = body_of({"secret_key": secret_key, "meter_event_name": meter_event_name, "value": value})
    return Call(StripeSettings, "put", "billing/stripe", body=body)


def _syncs(limit: int | None, starting_after: str | None) -> ListCall[StripeSync]:
    return ListCall(StripeSync, "billing/stripe/syncs", params_of({"limit": limit, "starting_after": starting_after}))


class Stripe:
    def __init__(self, requester: SyncRequester) -> None:
        self._requester = requester

    def retrieve(self) -> StripeSettings:
        return self._requester.run(Call(StripeSettings, "get", "billing/stripe"))

    def update(self, *, secret_key: str, meter_event_name: str, value: Value | NotGiven = NOT_GIVEN) -> StripeSettings:
        """Set the Stripe key and meter (`value` default `billable_cents`)."""
        return self._requester.run(_update(secret_key, meter_event_name, value))

    def syncs(self, *, limit: int | None = None, starting_after: str | None = None) -> Page[StripeSync]:
        return self._requester.list(_syncs(limit, starting_after))


class AsyncStripe:
    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def retrieve(self) -> StripeSettings:
        return await self._requester.run(Call(StripeSettings, "get", "billing/stripe"))

    async def update(
        self, *, secret_key: str, meter_event_name: str, value: Value | NotGiven = NOT_GIVEN
    ) -> StripeSettings:
        return await self._requester.run(_update(secret_key, meter_event_name, value))

    async def syncs(self, *, limit: int | None = None, starting_after: str | None = None) -> AsyncPage[StripeSync]:
        return await self._requester.list(_syncs(limit, starting_after))


class Billing:
    def __init__(self, requester: SyncRequester) -> None:
        self._requester = requester

    @cached_property
    def stripe(self) -> Stripe:
        return Stripe(self._requester)


class AsyncBilling:
    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    @cached_property
    def stripe(self) -> AsyncStripe:
        return AsyncStripe(self._requester)
