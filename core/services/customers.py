"""Customers: create (idempotent on external_id, race-free) and get, with the spend counters."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from core.domain.entities import Customer, CustomerUpdate
from core.domain.events import customer_event
from core.domain.periods import period_bounds
from core.services.core import Core, Principal, require_customer, require_scope
from core.services.pages import page
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

MAX_EXTERNAL_ID = 255
MAX_NAME = 256
MAX_EMAIL = 320
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500
MAX_BUDGET_NANO = 10**18  # 1e9 USD
MAX_RATE = 10**9
MAX_LOW_THRESHOLD_NANO = 10**15  # 1e6 USD, the bound of one wallet operation


@dataclass(slots=True)
class CustomerInput:
    external_id: str | None = None
    name: str = ""
    email: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    budget_nano: int | None = None
    budget_explicit: bool = False
    rate_limit_rpm: int | None = None
    rate_limit_tpm: int | None = None
    blocked: bool = False
    billing_anchor_day: int = 1
    wallet_enabled: bool = False
    tier: str = ""
    wallet_low_threshold_nano: int = 0
    stripe_customer_id: str = ""
    allowed_models: tuple[str, ...] | None = None
    allowed_models_explicit: bool = False  # unset: the tier's list applies


def _invalid(message: str, param: str) -> RingsideError:
    return RingsideError("invalid_request", message, param)


def validate(data: CustomerInput) -> None:
    """The bounds of API.md "Bodies"."""
    if data.external_id is not None and not 1 <= len(data.external_id) <= MAX_EXTERNAL_ID:
        raise _invalid(f"external_id must be 1..{MAX_EXTERNAL_ID} characters.", "external_id")
    if len(data.name) > MAX_NAME:
        raise _invalid(f"name must be at most {MAX_NAME} characters.", "name")
    if len(data.email) > MAX_EMAIL:
        raise _invalid(f"email must be at most {MAX_EMAIL} characters.", "email")
    if len(data.stripe_customer_id) > MAX_EXTERNAL_ID or not data.stripe_customer_id.isprintable():
        raise _invalid(
            f"stripe_customer_id must be at most {MAX_EXTERNAL_ID} printable characters.", "stripe_customer_id"
        )
    if len(data.metadata) > MAX_METADATA_KEYS:
        raise _invalid(f"metadata may have at most {MAX_METADATA_KEYS} keys.", "metadata")
    for key, value in data.metadata.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_METADATA_KEY:
            raise _invalid(f"metadata keys must be 1..{MAX_METADATA_KEY} characters.", "metadata")
        if not isinstance(value, str | int | float | bool) or len(str(value)) > MAX_METADATA_VALUE:
            raise _invalid(
                f"metadata['{key}'] must be a string, number or boolean of at most {MAX_METADATA_VALUE} characters.",
                "metadata",
            )
    if data.budget_nano is not None and not 0 <= data.budget_nano <= MAX_BUDGET_NANO:
        raise _invalid("budget_usd must be between 0 and 1e9.", "budget_usd")
    for name in ("rate_limit_rpm", "rate_limit_tpm"):
        value = getattr(data, name)
        if value is not None and not 0 <= value <= MAX_RATE:
            raise _invalid(f"{name} must be between 0 and 1e9.", name)
    if not 1 <= data.billing_anchor_day <= 28:
        raise _invalid("billing_anchor_day must be between 1 and 28.", "billing_anchor_day")
    if not 0 <= data.wallet_low_threshold_nano <= MAX_LOW_THRESHOLD_NANO:
        raise _invalid("wallet.low_threshold_usd must be between 0 and 1000000.", "wallet")


async def create(core: Core, principal: Principal, data: CustomerInput) -> tuple[Customer, bool]:
    """→ (customer, created). An existing external_id returns that customer unchanged."""
    require_scope(principal, "api:write")
    validate(data)
    key = (principal.account_id, principal.livemode, data.external_id or "")
    if data.external_id is not None:
        existing = core.state.find_customer(principal.account_id, principal.livemode, "ext:" + data.external_id)
        if existing is not None:
            return existing, False
        in_flight = core.pending_creates.get(key)
        if in_flight is not None:
            return await asyncio.shield(in_flight), False
    now = core.now()
    customer = Customer(
        id=new_sortable_id("cus"),
        account_id=principal.account_id,
        livemode=principal.livemode,
        external_id=data.external_id,
        name=data.name,
        email=data.email,
        metadata=data.metadata,
        budget_nano=data.budget_nano,
        budget_explicit=data.budget_explicit,
        rate_limit_rpm=data.rate_limit_rpm,
        rate_limit_tpm=data.rate_limit_tpm,
        blocked=data.blocked,
        billing_anchor_day=data.billing_anchor_day,
        wallet_enabled=data.wallet_enabled,
        wallet_low_threshold_nano=data.wallet_low_threshold_nano,
        wallet_low_fired=data.wallet_low_threshold_nano > 0,  # an empty wallet is below it: armed by a top-up
        created=now,
        stripe_customer_id=data.stripe_customer_id,
        tier_id=_tier_id(core, principal, data.tier),
        allowed_models=data.allowed_models,
        allowed_models_explicit=data.allowed_models_explicit,
        period_start=period_bounds(now, data.billing_anchor_day)[0],
    )
    future: asyncio.Future[Customer] | None = None
    if data.external_id is not None:
        future = asyncio.get_running_loop().create_future()
        core.pending_creates[key] = future

    def add() -> None:
        core.pending_creates.pop(key, None)
        core.state.add_customer(customer)
        if future is not None:
            future.set_result(customer)

    def unclaim(error: BaseException) -> None:
        core.pending_creates.pop(key, None)
        if future is not None:
            future.set_exception(error)
            future.exception()  # mark retrieved: the waiters (if any) re-raise it

    records = [customer, *customer_event(core.state, customer, "customer.created", now)]
    await core.writer.write_then_apply(records, add, unclaim)
    return customer, True


def get(core: Core, principal: Principal, ref: str) -> Customer:
    require_scope(principal, "api:read", customer_bound=True)
    customer = core.state.find_customer(principal.account_id, principal.livemode, ref)
    if customer is None:
        raise RingsideError("customer_not_found", f"No such customer: '{ref}'.", "id")
    require_customer(principal, customer.id, ref)
    customer.roll_period(period_bounds(core.now(), customer.billing_anchor_day)[0])
    return customer


UNSETTABLE = ("budget_usd", "rate_limit_rpm", "rate_limit_tpm", "tier_id", "allowed_models")


def _tier_id(core: Core, principal: Principal, ref: str) -> str:
    """A tier reference (id or name) of this tenant → its id; "" stays "" (no tier)."""
    if not ref:
        return ""
    tier = core.state.find_tier(principal.account_id, principal.livemode, ref[:200])
    if tier is None:
        raise RingsideError("invalid_request", f"No such tier: '{ref[:200]}'.", "tier_id")
    return tier.id


@dataclass(slots=True)
class CustomerChanges:
    """A PATCH: only the fields that are not None change."""

    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    metadata: dict[str, Any] | None = None
    budget: tuple[int | None] | None = None  # (value,) with None = explicit "no cap"
    rate_limit_rpm: tuple[int | None] | None = None
    rate_limit_tpm: tuple[int | None] | None = None
    blocked: bool | None = None
    billing_anchor_day: int | None = None
    wallet_enabled: bool | None = None
    tier: str | None = None  # "" = no tier
    wallet_low_threshold_nano: int | None = None
    stripe_customer_id: str | None = None
    unset: list[str] = field(default_factory=list)
    allowed_models: tuple[tuple[str, ...] | None] | None = None  # (list,) or (None,) = every model


def _merged_metadata(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Stripe's rule: keys merge; a key set to null or "" is removed."""
    merged = dict(current)
    for key, value in changes.items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def not_being_erased(customer: Customer) -> None:
    if customer.erasure:
        raise RingsideError(
            "invalid_request", f"Customer {customer.id} is being erased: it can no longer be changed.", "id"
        )


async def update(core: Core, principal: Principal, ref: str, changes: CustomerChanges) -> Customer:
    require_scope(principal, "api:write")
    customer = get(core, principal, ref)
    not_being_erased(customer)
    unknown = sorted(set(changes.unset) - set(UNSETTABLE))
    if unknown:
        raise RingsideError("invalid_request", f"unset accepts {', '.join(UNSETTABLE)}.", "unset")
    if changes.billing_anchor_day is not None and changes.billing_anchor_day != customer.billing_anchor_day:
        # Moving the anchor mid-period would start a fresh period (and a fresh budget) at once.
        raise RingsideError(
            "invalid_request", "billing_anchor_day is set when the customer is created.", "billing_anchor_day"
        )
    after = dataclasses.replace(customer)
    for name in ("external_id", "name", "email", "blocked", "wallet_enabled", "stripe_customer_id"):
        value = getattr(changes, name)
        if value is not None:
            setattr(after, name, value)
    if changes.metadata is not None:
        after.metadata = _merged_metadata(customer.metadata, changes.metadata)
    if changes.budget is not None:
        after.budget_nano, after.budget_explicit = changes.budget[0], True
    if changes.rate_limit_rpm is not None:
        after.rate_limit_rpm = changes.rate_limit_rpm[0]
    if changes.rate_limit_tpm is not None:
        after.rate_limit_tpm = changes.rate_limit_tpm[0]
    if "budget_usd" in changes.unset:
        after.budget_nano, after.budget_explicit = None, False
    if "rate_limit_rpm" in changes.unset:
        after.rate_limit_rpm = None
    if "rate_limit_tpm" in changes.unset:
        after.rate_limit_tpm = None
    if changes.wallet_low_threshold_nano is not None:
        after.wallet_low_threshold_nano = changes.wallet_low_threshold_nano
    if changes.tier is not None:
        after.tier_id = _tier_id(core, principal, changes.tier)
    if "tier_id" in changes.unset:
        after.tier_id = ""
    if changes.allowed_models is not None:
        after.allowed_models, after.allowed_models_explicit = changes.allowed_models[0], True
    if "allowed_models" in changes.unset:
        after.allowed_models, after.allowed_models_explicit = None, False
    validate(
        CustomerInput(
            external_id=after.external_id,
            name=after.name,
            email=after.email,
            metadata=after.metadata,
            budget_nano=after.budget_nano,
            rate_limit_rpm=after.rate_limit_rpm,
            rate_limit_tpm=after.rate_limit_tpm,
            billing_anchor_day=after.billing_anchor_day,
            wallet_low_threshold_nano=after.wallet_low_threshold_nano,
            stripe_customer_id=after.stripe_customer_id,
        )
    )
    renamed = after.external_id != customer.external_id
    cap_changed = changes.budget is not None or "budget_usd" in changes.unset or after.tier_id != customer.tier_id
    if renamed and after.external_id is not None:
        taken = core.state.find_customer(principal.account_id, principal.livemode, "ext:" + after.external_id)
        if taken is not None or (principal.account_id, principal.livemode, after.external_id) in core.pending_creates:
            raise RingsideError("invalid_request", f"external_id '{after.external_id}' is already used.", "external_id")

    def change() -> None:
        if renamed and customer.external_id is not None:
            core.state.customers_by_external.pop((customer.account_id, customer.livemode, customer.external_id), None)
        for name in _UPDATABLE:
            setattr(customer, name, getattr(after, name))
        # a new threshold is armed unless the balance is already below it (it fires on a crossing)
        customer.wallet_low_fired = customer.wallet_balance_nano < customer.wallet_low_threshold_nano
        if cap_changed:
            customer.budget_exceeded_period = -1  # a changed cap re-arms budget_status (API.md)
        core.state.add_customer(customer)
        customer.roll_period(period_bounds(core.now(), customer.billing_anchor_day)[0])

    records = [CustomerUpdate(after), *customer_event(core.state, after, "customer.updated", core.now())]
    try:
        await core.writer.write_then_apply(records, change)
    except IntegrityError:
        raise RingsideError("invalid_request", "external_id is already used.", "external_id") from None
    return customer


# What an update copies from the validated copy onto the customer in memory, once durable.
_UPDATABLE = (
    "external_id",
    "name",
    "email",
    "metadata",
    "budget_nano",
    "budget_explicit",
    "rate_limit_rpm",
    "rate_limit_tpm",
    "blocked",
    "billing_anchor_day",
    "wallet_enabled",
    "tier_id",
    "wallet_low_threshold_nano",
    "stripe_customer_id",
    "allowed_models",
    "allowed_models_explicit",
)


def list_customers(
    core: Core,
    principal: Principal,
    limit: int,
    starting_after: str,
    ending_before: str,
    external_id: str | None,
    query: str = "",
) -> tuple[list[Customer], bool]:
    """A tenant's customers, newest first; one by external id; or those matching `query` (a
    case-insensitive substring of external id, name or email), from the in-memory state."""
    require_scope(principal, "api:read")
    if external_id is not None:
        found = core.state.find_customer(principal.account_id, principal.livemode, "ext:" + external_id[:300])
        return ([found] if found else []), False
    needle = query.casefold()
    mine = sorted(
        (
            c
            for c in core.state.customers.values()
            if c.account_id == principal.account_id
            and c.livemode == principal.livemode
            and (not needle or _matches(c, needle))
        ),
        key=lambda c: c.id,
        reverse=True,
    )
    return page(mine, lambda c: c.id, limit, starting_after, ending_before)


def _matches(customer: Customer, needle: str) -> bool:
    return any(needle in (text or "").casefold() for text in (customer.external_id, customer.name, customer.email))
