"""Effective limits (API.md "Effective limits"): for budget, rpm, tpm, allowed_models and markup,
the customer's explicit value (a number, or null = none) > its tier > the account's default tier > none (for
markup: the account's own markup_pct)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.domain.calls import CallRequest
from core.domain.entities import ApiKey, Customer, Tier
from core.domain.ratelimit import Layer, RateDefaults
from core.domain.state import State


@dataclass(frozen=True, slots=True)
class Limits:
    budget_nano: int | None
    rate_limit_rpm: int | None
    rate_limit_tpm: int | None
    markup_bp: int
    allowed_models: tuple[str, ...] | None = None  # None: every model
    # field → "customer" | "tier" | "default_tier" | "none" (markup: "account" instead of "none")
    sources: dict[str, str] = field(default_factory=dict)


def tier_of(state: State, customer: Customer) -> tuple[Tier | None, str]:
    if customer.tier_id:
        tier = state.tiers.get(customer.tier_id)
        if tier is not None and tier.deleted_at is None:
            return tier, "tier"
    default = state.accounts[customer.account_id].default_tier(customer.livemode)
    tier = state.tiers.get(default) if default else None
    if tier is not None and tier.deleted_at is None:
        return tier, "default_tier"
    return None, "none"


def effective_budget(state: State, customer: Customer) -> int | None:
    """`effective(...).budget_nano` alone: every posting checks its thresholds against it, and the
    whole of `effective` (its sources, a closure) was a tenth of a settle's event-loop CPU."""
    if customer.budget_explicit:
        return customer.budget_nano
    tier, _ = tier_of(state, customer)
    return tier.budget_nano if tier is not None else None


def effective(state: State, customer: Customer) -> Limits:
    tier, tier_source = tier_of(state, customer)
    sources: dict[str, str] = {}

    def pick(name: str, own: int | None, explicit: bool) -> int | None:
        if explicit:
            sources[name] = "customer"
            return own
        inherited = getattr(tier, name if name != "budget_usd" else "budget_nano") if tier else None
        sources[name] = tier_source if tier is not None else "none"
        return inherited

    budget = pick("budget_usd", customer.budget_nano, customer.budget_explicit)
    rpm = pick("rate_limit_rpm", customer.rate_limit_rpm, customer.rate_limit_rpm is not None)
    tpm = pick("rate_limit_tpm", customer.rate_limit_tpm, customer.rate_limit_tpm is not None)
    if customer.allowed_models_explicit:
        allowed_models, sources["allowed_models"] = customer.allowed_models, "customer"
    else:
        allowed_models = tier.allowed_models if tier is not None else None
        sources["allowed_models"] = tier_source if tier is not None else "none"
    account_markup = state.accounts[customer.account_id].markup_bp
    if tier is not None and tier.markup_bp is not None:
        markup, sources["markup_pct"] = tier.markup_bp, tier_source
    else:
        markup, sources["markup_pct"] = account_markup, "account"
    return Limits(budget, rpm, tpm, markup, allowed_models, sources)


def rate_layers(
    defaults: RateDefaults,
    request: CallRequest,
    key: ApiKey,
    customer: Customer | None,
    limits: Limits | None,
) -> list[Layer]:
    """The four layers of API.md "Rate limits", in the order they answer."""
    token_id = key.id if request.client_token else request.client_token_id  # a verified token: its jti
    layers = request_layers(
        defaults, request.client_ip, (key.account_id, key.livemode), token_id, request.client_token_rpm
    )
    rpm, tpm = (limits.rate_limit_rpm, limits.rate_limit_tpm) if limits is not None else (None, None)
    if customer is not None and (rpm is not None or tpm is not None):  # its effective limits
        layers.append(Layer("customer_rate_limit_exceeded", ("customer", customer.id), rpm, tpm))
    return layers


def request_layers(
    defaults: RateDefaults,
    client_ip: str,
    account: tuple[str, bool] | None,
    token_id: str = "",
    token_rpm: int = 0,
) -> list[Layer]:
    """The layers every request counts against (API.md "Rate limits"): its IP's, and when it is
    authenticated its Client Token's and its account's (`account`: id and mode; None: anonymous)."""
    layers: list[Layer] = []
    if client_ip and defaults.ip_per_min:
        layers.append(Layer("ip_rate_limit_exceeded", ("ip", client_ip), defaults.ip_per_min))
    if account is None:
        return layers
    token_rpm = token_rpm or defaults.client_token_per_min
    if token_id and token_rpm:
        layers.append(Layer("client_token_rate_limit_exceeded", ("token", token_id), token_rpm))
    if defaults.account_per_min:
        account_key = ("account", account[0], str(account[1]))
        layers.append(Layer("account_rate_limit_exceeded", account_key, defaults.account_per_min))
    return layers
