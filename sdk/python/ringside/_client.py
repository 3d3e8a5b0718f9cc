"""`Ringside` and `AsyncRingside`: the official OpenAI clients, pointed at Ringside.

They subclass `openai.OpenAI` / `openai.AsyncOpenAI`, so every OpenAI method, `with_raw_response`,
streaming, `max_retries` and `timeout` behave exactly as in the OpenAI SDK. What they add: the base
URL and key from `RINGSIDE_BASE_URL` / `RINGSIDE_API_KEY`, `with_customer()` (the `FC-Customer`
header), Ringside's error classes, and Ringside's own resources (`customers`, `usage`, …).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self

import openai
from typing_extensions import override

from ringside._requests import AsyncRequester, SyncRequester
from ringside.errors import APIStatusError, status_error
from ringside.resources.account import AccountResource, APIKeys, AsyncAccountResource, AsyncAPIKeys
from ringside.resources.billing import AsyncBilling, Billing
from ringside.resources.client_tokens import AsyncClientTokens, ClientTokens
from ringside.resources.customers import AsyncCustomers, Customers
from ringside.resources.events import AsyncEvents, Events
from ringside.resources.slots import AsyncSlots, Slots
from ringside.resources.tiers import AsyncTiers, Tiers
from ringside.resources.usage import AsyncUsageResource, UsageResource
from ringside.resources.webhooks import AsyncWebhooks, Webhooks

if TYPE_CHECKING:
    import httpx2

__all__ = ["DEFAULT_BASE_URL", "AsyncRingside", "Ringside"]

DEFAULT_BASE_URL = "http://127.0.0.1:8080/v1"  # what `ringside up` serves (DECISIONS.md "22")
CUSTOMER_HEADER = "FC-Customer"

ApiKey = str | Callable[[], str] | None
AsyncApiKey = str | Callable[[], Awaitable[str]] | None


def _api_key(given: Any) -> Any:
    # Never fall back to OPENAI_API_KEY: that would send an OpenAI secret to a Ringside server.
    key = given if given is not None else os.environ.get("RINGSIDE_API_KEY")
    if not key:
        raise openai.OpenAIError(
            "The api_key client option must be set, or the RINGSIDE_API_KEY environment variable "
            "(a Ringside key: sk_live_… or sk_test_…)."
        )
    return key


def _base_url(given: object) -> Any:
    if given is not None and not isinstance(given, openai.NotGiven):
        return given
    return os.environ.get("RINGSIDE_BASE_URL") or DEFAULT_BASE_URL


class Ringside(openai.OpenAI):
    """The OpenAI client for Ringside. `Ringside()` reads `RINGSIDE_API_KEY` and `RINGSIDE_BASE_URL`
    (which includes `/v1`, like OpenAI's; default `http://127.0.0.1:8080/v1`)."""

    def __init__(self, *, api_key: ApiKey = None, base_url: Any = None, **options: Any) -> None:
        # `copy()` / `with_options()` build the copy through this constructor with every option.
        super().__init__(api_key=_api_key(api_key), base_url=_base_url(base_url), **options)

    def with_customer(self, customer: str) -> Self:
        """A client whose every call is attributed to `customer` (`cus_…` or `ext:<external_id>`),
        sent as the `FC-Customer` header. For one call only, pass
        `extra_headers={"FC-Customer": …}` instead."""
        return self.with_options(default_headers={CUSTOMER_HEADER: customer})

    @cached_property
    def _ringside(self) -> SyncRequester:
        return SyncRequester(self)

    @cached_property
    def customers(self) -> Customers:
        """Customers (`/v1/customers`) and their wallets (`client.customers.wallet`)."""
        return Customers(self._ringside)

    @cached_property
    def usage(self) -> UsageResource:
        return UsageResource(self._ringside)

    @cached_property
    def tiers(self) -> Tiers:
        return Tiers(self._ringside)

    @cached_property
    def slots(self) -> Slots:
        return Slots(self._ringside)

    @cached_property
    def webhooks(self) -> Webhooks:  # type: ignore[override]  # Ringside's endpoints replace OpenAI's webhooks
        """Webhook endpoints, deliveries, and `verify` (Ringside's signatures, not OpenAI's)."""
        return Webhooks(self._ringside)

    @cached_property
    def events(self) -> Events:
        return Events(self._ringside)

    @cached_property
    def client_tokens(self) -> ClientTokens:
        return ClientTokens(self._ringside)

    @cached_property
    def api_keys(self) -> APIKeys:
        return APIKeys(self._ringside)

    @cached_property
    def account(self) -> AccountResource:
        return AccountResource(self._ringside)

    @cached_property
    def billing(self) -> Billing:
        return Billing(self._ringside)

    @override
    def _make_status_error(self, err_msg: str, *, body: object, response: httpx2.Response) -> APIStatusError:
        return status_error(err_msg, body=body, response=response)


class AsyncRingside(openai.AsyncOpenAI):
    """The async OpenAI client for Ringside; same options, environment and resources as `Ringside`."""

    def __init__(self, *, api_key: AsyncApiKey = None, base_url: Any = None, **options: Any) -> None:
        super().__init__(api_key=_api_key(api_key), base_url=_base_url(base_url), **options)

    def with_customer(self, customer: str) -> Self:
        """See `Ringside.with_customer`."""
        return self.with_options(default_headers={CUSTOMER_HEADER: customer})

    @cached_property
    def _ringside(self) -> AsyncRequester:
        return AsyncRequester(self)

    @cached_property
    def customers(self) -> AsyncCustomers:
        return AsyncCustomers(self._ringside)

    @cached_property
    def usage(self) -> AsyncUsageResource:
        return AsyncUsageResource(self._ringside)

    @cached_property
    def tiers(self) -> AsyncTiers:
        return AsyncTiers(self._ringside)

    @cached_property
    def slots(self) -> AsyncSlots:
        return AsyncSlots(self._ringside)

    @cached_property
    def webhooks(self) -> AsyncWebhooks:  # type: ignore[override]  # Ringside's endpoints replace OpenAI's webhooks
        return AsyncWebhooks(self._ringside)

    @cached_property
    def events(self) -> AsyncEvents:
        return AsyncEvents(self._ringside)

    @cached_property
    def client_tokens(self) -> AsyncClientTokens:
        return AsyncClientTokens(self._ringside)

    @cached_property
    def api_keys(self) -> AsyncAPIKeys:
        return AsyncAPIKeys(self._ringside)

    @cached_property
    def account(self) -> AsyncAccountResource:
        return AsyncAccountResource(self._ringside)

    @cached_property
    def billing(self) -> AsyncBilling:
        return AsyncBilling(self._ringside)

    @override
    def _make_status_error(self, err_msg: str, *, body: object, response: httpx2.Response) -> APIStatusError:
        return status_error(err_msg, body=body, response=response)
