"""Customers: create (idempotent on external_id, race-free) and get, with the spend counters."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from core.domain.entities import Customer
from core.domain.periods import period_bounds
from core.services.core import Core, Principal
from ringside.errors import RingsideError
from ringside.ids import new_id

MAX_EXTERNAL_ID = 255
MAX_NAME = 256
MAX_EMAIL = 320
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500
MAX_BUDGET_NANO = 10**18  # 1e9 USD
MAX_RATE = 10**9


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


def require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes and not (scope == "api:read" and "api:write" in principal.scopes):
        raise RingsideError("insufficient_scope", f"This key lacks the {scope} scope.")


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
        id=new_id("cus"),
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
        wallet_low_threshold_nano=0,
        created=now,
        period_start=period_bounds(now, data.billing_anchor_day)[0],
    )
    future: asyncio.Future[Customer] | None = None
    if data.external_id is not None:
        future = asyncio.get_running_loop().create_future()
        core.pending_creates[key] = future
    try:
        await core.writer.write([customer])
    except BaseException as error:
        if future is not None:
            future.set_exception(error)
            future.exception()  # mark retrieved: the waiters (if any) re-raise it
        raise
    finally:
        core.pending_creates.pop(key, None)
    core.state.add_customer(customer)
    if future is not None:
        future.set_result(customer)
    return customer, True


def get(core: Core, principal: Principal, ref: str) -> Customer:
    require_scope(principal, "api:read")
    customer = core.state.find_customer(principal.account_id, principal.livemode, ref)
    if customer is None:
        raise RingsideError("customer_not_found", f"No such customer: '{ref}'.", "id")
    customer.roll_period(period_bounds(core.now(), customer.billing_anchor_day)[0])
    return customer
