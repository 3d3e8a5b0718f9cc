"""`client.customers.wallet` (API.md "Prepaid wallet"): retrieve, top up, adjust, refund, and the
transactions, newest first. Every money-moving call carries an `Idempotency-Key`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from openai import NOT_GIVEN, NotGiven

from ringside._requests import AsyncRequester, Call, ListCall, SyncRequester, body_of, idempotency, params_of, path
from ringside.pagination import AsyncPage, Page
from ringside.types import Wallet, WalletTransaction

__all__ = ["AsyncWallets", "Wallets"]

Usd = Decimal | int | float | str


def _retrieve(customer: str) -> Call[Wallet]:
    return Call(Wallet, "get", path("customers", customer, "wallet"))


def _move(
    customer: str, operation: str, fields: Mapping[str, object], idempotency_key: str | None
) -> Call[WalletTransaction]:
    where = path("customers", customer, "wallet", operation)
    return Call(WalletTransaction, "post", where, body=body_of(fields), idempotency_key=idempotency(idempotency_key))


def _transactions(customer: str, limit: int | None, starting_after: str | None) -> ListCall[WalletTransaction]:
    params = params_of({"limit": limit, "starting_after": starting_after})
    return ListCall(WalletTransaction, path("customers", customer, "wallet"), params, envelope="transactions")


class Wallets:
    """A customer's prepaid wallet; `customer` is a `cus_…` id or `ext:<external_id>`."""

    def __init__(self, requester: SyncRequester) -> None:
        self._requester = requester

    def retrieve(self, customer: str) -> Wallet:
        return self._requester.run(_retrieve(customer))

    def topup(
        self,
        customer: str,
        *,
        amount_usd: Usd,
        description: str | NotGiven = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> WalletTransaction:
        """Add credit (and enable the wallet); returns the transaction with `balance_after_usd`."""
        fields = {"amount_usd": amount_usd, "description": description}
        return self._requester.run(_move(customer, "topup", fields, idempotency_key))

    def adjust(
        self, customer: str, *, amount_usd: Usd, reason: str, idempotency_key: str | None = None
    ) -> WalletTransaction:
        """A signed correction (positive credits, negative debits), with the reason recorded."""
        fields = {"amount_usd": amount_usd, "reason": reason}
        return self._requester.run(_move(customer, "adjust", fields, idempotency_key))

    def refund(
        self,
        customer: str,
        *,
        transaction_id: str,
        amount_usd: Usd | NotGiven = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> WalletTransaction:
        """Return credit for (part of) a debit; refunds of one debit never exceed it."""
        fields = {"transaction_id": transaction_id, "amount_usd": amount_usd}
        return self._requester.run(_move(customer, "refund", fields, idempotency_key))

    def transactions(
        self, customer: str, *, limit: int | None = None, starting_after: str | None = None
    ) -> Page[WalletTransaction]:
        """Newest first; iterating walks every transaction."""
        return self._requester.list(_transactions(customer, limit, starting_after))


class AsyncWallets:
    """The async twin of `Wallets`."""

    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def retrieve(self, customer: str) -> Wallet:
        return await self._requester.run(_retrieve(customer))

    async def topup(
        self,
        customer: str,
        *,
        amount_usd: Usd,
        description: str | NotGiven = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> WalletTransaction:
        fields = {"amount_usd": amount_usd, "description": description}
        return await self._requester.run(_move(customer, "topup", fields, idempotency_key))

    async def adjust(
        self, customer: str, *, amount_usd: Usd, reason: str, idempotency_key: str | None = None
    ) -> WalletTransaction:
        fields = {"amount_usd": amount_usd, "reason": reason}
        return await self._requester.run(_move(customer, "adjust", fields, idempotency_key))

    async def refund(
        self,
        customer: str,
        *,
        transaction_id: str,
        amount_usd: Usd | NotGiven = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> WalletTransaction:
        fields = {"transaction_id": transaction_id, "amount_usd": amount_usd}
        return await self._requester.run(_move(customer, "refund", fields, idempotency_key))

    async def transactions(
        self, customer: str, *, limit: int | None = None, starting_after: str | None = None
    ) -> AsyncPage[WalletTransaction]:
        return await self._requester.list(_transactions(customer, limit, starting_after))
