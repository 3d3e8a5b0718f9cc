"""proto ↔ domain."""

from __future__ import annotations

import orjson

from core.domain.entities import Account, ApiKey, Customer
from core.domain.limits import effective
from core.domain.periods import period_bounds
from core.domain.state import State
from ringside.core.v1 import accounts_pb2, common_pb2, customers_pb2, keys_pb2
from ringside_server import allowed_models


def model_list_to(entries: tuple[str, ...] | None) -> common_pb2.ModelList | None:
    """An allowed_models list on the wire: absent for null (every model)."""
    return None if entries is None else common_pb2.ModelList(entries=entries)


def model_list_from(message: common_pb2.ModelList, param: str = "allowed_models") -> tuple[str, ...] | None:
    """A list from the wire, validated (bounds, entry forms); an empty list is an empty list."""
    return allowed_models.validate(list(message.entries[: allowed_models.MAX_ENTRIES + 1]), param)


def account_to(account: Account, prepaid_balance_nano: int = 0) -> accounts_pb2.Account:
    return accounts_pb2.Account(
        id=account.id,
        name=account.name,
        created=account.created,
        prepaid_balance_enabled=account.prepaid_balance_enabled,
        prepaid_balance_nano_usd=prepaid_balance_nano,
    )


def key_to(key: ApiKey, secret: str = "") -> keys_pb2.ApiKey:
    return keys_pb2.ApiKey(
        id=key.id,
        account_id=key.account_id,
        livemode=key.livemode,
        name=key.name,
        scopes=sorted(key.scopes),
        redacted=key.redacted,
        created=key.created,
        secret=secret,
        allowed_models=model_list_to(key.allowed_models),
    )


def customer_to(state: State, customer: Customer) -> customers_pb2.Customer:
    _, period_end = period_bounds(customer.period_start, customer.billing_anchor_day)
    message = customers_pb2.Customer(
        id=customer.id,
        livemode=customer.livemode,
        external_id=customer.external_id or "",
        name=customer.name,
        email=customer.email,
        metadata_json=orjson.dumps(customer.metadata).decode(),
        blocked=customer.blocked,
        tier_id=customer.tier_id,
        billing_anchor_day=customer.billing_anchor_day,
        stripe_customer_id=customer.stripe_customer_id,
        spend_nano_usd_mtd=customer.spent_nano,
        request_count_mtd=customer.request_count,
        budget_status="exceeded" if customer.budget_exceeded else "ok",
        period_start=customer.period_start,
        period_end=period_end,
        created=customer.created,
        held_nano_usd=customer.held_nano,
        erasure_status=customer.erasure,
        wallet=customers_pb2.Wallet(
            enabled=customer.wallet_enabled,
            balance_nano_usd=customer.wallet_balance_nano,
            low_threshold_nano_usd=customer.wallet_low_threshold_nano,
        ),
    )
    limits = effective(state, customer)
    if limits.budget_nano is not None:
        message.budget_nano_usd = limits.budget_nano
    if limits.rate_limit_rpm is not None:
        message.rate_limit_rpm = limits.rate_limit_rpm
    if limits.rate_limit_tpm is not None:
        message.rate_limit_tpm = limits.rate_limit_tpm
    if limits.allowed_models is not None:
        message.allowed_models.CopyFrom(common_pb2.ModelList(entries=limits.allowed_models))
    message.limits_source.update(limits.sources)
    return message
