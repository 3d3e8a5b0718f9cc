"""`client.webhooks` (API.md "Webhooks"): endpoints (CRUD, rotate_secret), their delivery attempts,
redelivery, and `verify` (the same function as `ringside.webhooks.verify`)."""

from __future__ import annotations

from typing import Any

from openai import NOT_GIVEN, NotGiven

from ringside import webhooks as signatures
from ringside._requests import AsyncRequester, Call, ListCall, SyncRequester, body_of, idempotency, params_of, path
from ringside.pagination import AsyncPage, Page
from ringside.types import Deleted, WebhookDelivery, WebhookEndpoint, WebhookRedelivery

__all__ = ["AsyncWebhooks", "Webhooks"]


def _create(url: str, events: list[str], description: str | NotGiven, key: str | None) -> Call[WebhookEndpoint]:
    body = body_of({"url": url, "events": events, "description": description})
    return Call(WebhookEndpoint, "post", "webhooks", body=body, idempotency_key=idempotency(key))


def _retrieve(endpoint: str) -> Call[WebhookEndpoint]:
    return Call(WebhookEndpoint, "get", path("webhooks", endpoint))


def _update(endpoint: str, fields: dict[str, Any]) -> Call[WebhookEndpoint]:
    return Call(WebhookEndpoint, "patch", path("webhooks", endpoint), body=body_of(fields))


def _delete(endpoint: str) -> Call[Deleted]:
    return Call(Deleted, "delete", path("webhooks", endpoint))


def _list(limit: int | None, starting_after: str | None) -> ListCall[WebhookEndpoint]:
    return ListCall(WebhookEndpoint, "webhooks", params_of({"limit": limit, "starting_after": starting_after}))


def _rotate(endpoint: str, overlap_seconds: int | NotGiven) -> Call[WebhookEndpoint]:
    body = body_of({"overlap_seconds": overlap_seconds})
    return Call(WebhookEndpoint, "post", path("webhooks", endpoint, "rotate_secret"), body=body)


def _deliveries(endpoint: str, limit: int | None, starting_after: str | None) -> ListCall[WebhookDelivery]:
    params = params_of({"limit": limit, "starting_after": starting_after})
    return ListCall(WebhookDelivery, path("webhooks", endpoint, "deliveries"), params)


def _redeliver(endpoint: str, delivery: str) -> Call[WebhookRedelivery]:
    return Call(WebhookRedelivery, "post", path("webhooks", endpoint, "deliveries", delivery, "redeliver"))


class Webhooks:
    """Webhook endpoints (scope `api:webhooks`)."""

    verify = staticmethod(signatures.verify)

    def __init__(self, requester: SyncRequester) -> None:
        self._requester = requester

    def create(
        self,
        *,
        url: str,
        events: list[str],
        description: str | NotGiven = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Register an endpoint; its `secret` is shown here once."""
        return self._requester.run(_create(url, events, description, idempotency_key))

    def retrieve(self, endpoint: str) -> WebhookEndpoint:
        return self._requester.run(_retrieve(endpoint))

    def update(self, endpoint: str, **fields: Any) -> WebhookEndpoint:
        """Change `url`, `events`, `description` or `status` (enabled|disabled)."""
        return self._requester.run(_update(endpoint, fields))

    def delete(self, endpoint: str) -> Deleted:
        return self._requester.run(_delete(endpoint))

    def list(self, *, limit: int | None = None, starting_after: str | None = None) -> Page[WebhookEndpoint]:
        return self._requester.list(_list(limit, starting_after))

    def rotate_secret(self, endpoint: str, *, overlap_seconds: int | NotGiven = NOT_GIVEN) -> WebhookEndpoint:
        """A new secret (shown once); the old one keeps signing `webhook-signature` for the overlap."""
        return self._requester.run(_rotate(endpoint, overlap_seconds))

    def deliveries(
        self, endpoint: str, *, limit: int | None = None, starting_after: str | None = None
    ) -> Page[WebhookDelivery]:
        """Every delivery attempt, newest first."""
        return self._requester.list(_deliveries(endpoint, limit, starting_after))

    def redeliver(self, endpoint: str, delivery: str) -> WebhookRedelivery:
        """Queue that attempt's event again (same event id); the answer names the queued delivery."""
        return self._requester.run(_redeliver(endpoint, delivery))


class AsyncWebhooks:
    """The async twin of `Webhooks`."""

    verify = staticmethod(signatures.verify)

    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def create(
        self,
        *,
        url: str,
        events: list[str],
        description: str | NotGiven = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        return await self._requester.run(_create(url, events, description, idempotency_key))

    async def retrieve(self, endpoint: str) -> WebhookEndpoint:
        return await self._requester.run(_retrieve(endpoint))

    async def update(self, endpoint: str, **fields: Any) -> WebhookEndpoint:
        return await self._requester.run(_update(endpoint, fields))

    async def delete(self, endpoint: str) -> Deleted:
        return await self._requester.run(_delete(endpoint))

    async def list(self, *, limit: int | None = None, starting_after: str | None = None) -> AsyncPage[WebhookEndpoint]:
        return await self._requester.list(_list(limit, starting_after))

    async def rotate_secret(self, endpoint: str, *, overlap_seconds: int | NotGiven = NOT_GIVEN) -> WebhookEndpoint:
        return await self._requester.run(_rotate(endpoint, overlap_seconds))

    async def deliveries(
        self, endpoint: str, *, limit: int | None = None, starting_after: str | None = None
    ) -> AsyncPage[WebhookDelivery]:
        return await self._requester.list(_deliveries(endpoint, limit, starting_after))

    async def redeliver(self, endpoint: str, delivery: str) -> WebhookRedelivery:
        return await self._requester.run(_redeliver(endpoint, delivery))
