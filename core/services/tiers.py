"""Tiers (`/v1/tiers`): named limits many customers share; the account may name a default tier."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from core.domain.entities import Tier, TierUpdate
from core.services.core import Core, Principal, require_scope
from core.services.customers import MAX_BUDGET_NANO, MAX_RATE
from core.services.pages import page
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

MAX_NAME = 100
MAX_MARKUP_BP = 100_000


@dataclass(slots=True)
class TierFields:
    """Fields of a create or a PATCH; for a PATCH only those in `present` change."""

    name: str | None = None
    budget_nano: int | None = None
    rate_limit_rpm: int | None = None
    rate_limit_tpm: int | None = None
    markup_bp: int | None = None
    allowed_models: tuple[str, ...] | None = None  # None: every model
    present: frozenset[str] = frozenset()


def _validate(tier: Tier) -> None:
    if not 1 <= len(tier.name) <= MAX_NAME:
        raise RingsideError("invalid_request", f"name must be 1..{MAX_NAME} characters.", "name")
    if tier.name.startswith("tier_"):
        raise RingsideError("invalid_request", "A tier's name may not start with 'tier_' (ids do).", "name")
    if tier.budget_nano is not None and not 0 <= tier.budget_nano <= MAX_BUDGET_NANO:
        raise RingsideError("invalid_request", "budget_usd must be between 0 and 1e9 or null.", "budget_usd")
    for name in ("rate_limit_rpm", "rate_limit_tpm"):
        value = getattr(tier, name)
        if value is not None and not 0 <= value <= MAX_RATE:
            raise RingsideError("invalid_request", f"{name} must be between 0 and 1e9 or null.", name)
    if tier.markup_bp is not None and not 0 <= tier.markup_bp <= MAX_MARKUP_BP:
        raise RingsideError("invalid_request", "markup_pct must be between 0 and 1000 or null.", "markup_pct")


def find(core: Core, principal: Principal, ref: str) -> Tier:
    tier = core.state.find_tier(principal.account_id, principal.livemode, ref)
    if tier is None:
        raise RingsideError("not_found", f"No such tier: '{ref[:200]}'.", "tier_id")
    return tier


def _name_free(core: Core, principal: Principal, name: str, tier_id: str = "") -> None:
    holder = core.state.tiers_by_name.get((principal.account_id, principal.livemode, name))
    if holder is not None and holder != tier_id:
        raise RingsideError("invalid_request", f"A tier named '{name}' exists already.", "name")


async def create(core: Core, principal: Principal, fields: TierFields) -> Tier:
    require_scope(principal, "api:write")
    tier = Tier(
        id=new_sortable_id("tier"),
        account_id=principal.account_id,
        livemode=principal.livemode,
        name=fields.name or "",
        budget_nano=fields.budget_nano,
        rate_limit_rpm=fields.rate_limit_rpm,
        rate_limit_tpm=fields.rate_limit_tpm,
        markup_bp=fields.markup_bp,
        created=core.now(),
        allowed_models=fields.allowed_models,
    )
    _validate(tier)
    _name_free(core, principal, tier.name)
    core.state.add_tier(tier)  # claims the name before the write: a concurrent create gets a 400

    def unclaim(_: BaseException) -> None:
        core.state.tiers.pop(tier.id, None)
        core.state.tiers_by_name.pop((tier.account_id, tier.livemode, tier.name), None)

    await core.writer.write_then_apply([tier], lambda: None, unclaim)
    return tier


async def update(core: Core, principal: Principal, ref: str, fields: TierFields) -> Tier:
    require_scope(principal, "api:write")
    tier = find(core, principal, ref)
    after = dataclasses.replace(tier)
    for name in fields.present:
        setattr(after, name, getattr(fields, name))
    _validate(after)
    _name_free(core, principal, after.name, tier.id)

    def change() -> None:
        core.state.tiers_by_name.pop((tier.account_id, tier.livemode, tier.name), None)
        for name in ("name", "budget_nano", "rate_limit_rpm", "rate_limit_tpm", "markup_bp", "allowed_models"):
            setattr(tier, name, getattr(after, name))
        core.state.add_tier(tier)

    await core.writer.write_then_apply([TierUpdate(after)], change)
    return tier


def get(core: Core, principal: Principal, ref: str) -> Tier:
    require_scope(principal, "api:read")
    return find(core, principal, ref)


def list_tiers(
    core: Core, principal: Principal, limit: int, starting_after: str, ending_before: str
) -> tuple[list[Tier], bool]:
    require_scope(principal, "api:read")
    mine = sorted(
        (
            t
            for t in core.state.tiers.values()
            if t.account_id == principal.account_id and t.livemode == principal.livemode and t.deleted_at is None
        ),
        key=lambda t: t.id,
        reverse=True,
    )
    return page(mine, lambda t: t.id, limit, starting_after, ending_before)


async def delete(core: Core, principal: Principal, ref: str) -> Tier:
    """Refused while a customer or the account's default names the tier (409)."""
    require_scope(principal, "api:write")
    tier = find(core, principal, ref)
    account = core.state.accounts[principal.account_id]
    if account.default_tier(principal.livemode) == tier.id:
        raise RingsideError("customer_has_balance", "This tier is the account's default tier; change that first.")
    if any(c.tier_id == tier.id for c in core.state.customers.values()):
        raise RingsideError("customer_has_balance", "Customers are on this tier; move them first.")
    after = dataclasses.replace(tier, deleted_at=core.now())

    def forget() -> None:
        tier.deleted_at = after.deleted_at
        core.state.tiers_by_name.pop((tier.account_id, tier.livemode, tier.name), None)

    await core.writer.write_then_apply([TierUpdate(after)], forget)
    return tier
