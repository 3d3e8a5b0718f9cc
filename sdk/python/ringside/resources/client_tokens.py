"""`client.client_tokens` (API.md "Client Token"): short-lived browser tokens bound to one customer,
one Origin (optionally one IP) and a whitelist of `"METHOD /path"` entries."""

from __future__ import annotations

from collections.abc import Mapping

from openai import NOT_GIVEN, NotGiven

from ringside._requests import AsyncRequester, Call, SyncRequester, body_of, idempotency, path
from ringside.types import ClientToken, ClientTokenRevocation

__all__ = ["AsyncClientTokens", "ClientTokens"]


def _create(customer: str, fields: Mapping[str, object], key: str | None) -> Call[ClientToken]:
    where = path("customers", customer, "client_tokens")
    return Call(ClientToken, "post", where, body=body_of(fields), idempotency_key=idempotency(key))


def _revoke_all(customer: str) -> Call[ClientTokenRevocation]:
    return Call(ClientTokenRevocation, "post", path("customers", customer, "client_tokens", "revoke_all"))


class ClientTokens:
    def __init__(self, requester: SyncRequester) -> None:
        self._requester = requester

    def create(
        self,
        customer: str,
        *,
        origin: str,
        allowed_endpoints: list[str],
        ttl_seconds: int | NotGiven = NOT_GIVEN,
        ip: str | NotGiven = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> ClientToken:
        """Mint a token (`ttl_seconds` 60..3600, default 900) for `Authorization: Client <token>`."""
        fields = {"origin": origin, "allowed_endpoints": allowed_endpoints, "ttl_seconds": ttl_seconds, "ip": ip}
        return self._requester.run(_create(customer, fields, idempotency_key))

    def revoke_all(self, customer: str) -> ClientTokenRevocation:
        """Invalidate every token of this customer issued before now."""
        return self._requester.run(_revoke_all(customer))


class AsyncClientTokens:
    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def create(
        self,
        customer: str,
        *,
        origin: str,
        allowed_endpoints: list[str],
        ttl_seconds: int | NotGiven = NOT_GIVEN,
        ip: str | NotGiven = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> ClientToken:
        fields = {"origin": origin, "allowed_endpoints": allowed_endpoints, "ttl_seconds": ttl_seconds, "ip": ip}
        return await self._requester.run(_create(customer, fields, idempotency_key))

    async def revoke_all(self, customer: str) -> ClientTokenRevocation:
        return await self._requester.run(_revoke_all(customer))
