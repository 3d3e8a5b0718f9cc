"""Client Tokens: mint (a secret key on the account's server), revoke a customer's, verify for the
core's own routes, and Ringside's signing keys (made at first start, rotated by the operator)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from core.domain import client_tokens as rules
from core.domain.entities import ClientTokensRevoked, SigningKeyRetirement
from core.services.core import Core, Principal, require_scope
from core.services.customers import get as get_customer
from ringside_server import client_token
from ringside_server.client_token import Claims, SigningKey
from ringside_server.errors import RingsideError
from ringside_server.ids import new_id, new_sortable_id


@dataclass(frozen=True, slots=True)
class Minted:
    token: str
    claims: Claims


def signing_key(core: Core) -> SigningKey:
    live = [k for k in core.state.signing_keys.values() if k.retired_at is None]
    if not live:
        raise RingsideError("service_unavailable", "Ringside has no client-token signing key yet; retry.")
    return max(live, key=lambda k: (k.created, k.kid))


async def ensure_signing_key(core: Core) -> SigningKey:
    """The first start makes a key; later starts keep theirs."""
    if any(k.retired_at is None for k in core.state.signing_keys.values()):
        return signing_key(core)
    return await rotate(core, Principal(admin=True))


async def rotate(core: Core, principal: Principal) -> SigningKey:
    """A new key signs from now on; the old ones still verify until their tokens have expired."""
    if not principal.admin:
        raise RingsideError("insufficient_scope", "Signing keys are rotated with the operator's admin key.")
    now = core.now()
    key = client_token.generate(new_sortable_id("kid"), now)
    retired = [dataclasses.replace(k, retired_at=now) for k in core.state.signing_keys.values() if k.retired_at is None]

    def swap() -> None:
        for old in retired:
            core.state.signing_keys[old.kid] = old
        core.state.signing_keys[key.kid] = key
        for kid in [k.kid for k in core.state.signing_keys.values() if _expired(k, now)]:
            del core.state.signing_keys[kid]

    await core.writer.write_then_apply([key, *(SigningKeyRetirement(k.kid, now) for k in retired)], swap)
    return key


def _expired(key: SigningKey, now: int) -> bool:
    return key.retired_at is not None and key.retired_at + rules.KEY_GRACE_S <= now


def public_keys(core: Core) -> list[SigningKey]:
    """What an edge needs to verify tokens: every key that may still have live tokens, without its secret."""
    now = core.now()
    return [dataclasses.replace(k, private_pem="") for k in core.state.signing_keys.values() if not _expired(k, now)]


async def mint(
    core: Core, principal: Principal, customer_ref: str, ttl_s: int, origin: str, ip: str, endpoints: list[str]
) -> Minted:
    require_scope(principal, "api:write")  # a secret key, on the account's server; never a token
    customer = get_customer(core, principal, customer_ref)
    allowed = rules.parse_endpoints(endpoints)
    now_ms = int(core.clock() * 1000)
    now = now_ms // 1000
    claims = Claims(
        jti=new_id("ct"),
        account_id=customer.account_id,
        livemode=customer.livemode,
        customer_id=customer.id,
        external_id=customer.external_id or "",
        origin=rules.check_origin(origin),
        ip=rules.check_ip(ip),
        endpoints=tuple(str(e) for e in allowed),
        issued_at=now,
        expires_at=now + rules.check_ttl(ttl_s),
        issued_at_ms=now_ms,
        models=_minting_key_models(core, principal),
        key_id=principal.key_id,
    )
    return Minted(client_token.sign(claims, signing_key(core)), claims)


async def revoke_all(core: Core, principal: Principal, customer_ref: str) -> int:
    """Every token of the customer issued before now stops working (at once for the core's own
    routes; within the lease window, 1 s, for model calls). Returns the cut-off, unix milliseconds."""
    require_scope(principal, "api:write")
    customer = get_customer(core, principal, customer_ref)
    before = int(core.clock() * 1000)

    def cut_off() -> None:
        customer.tokens_revoked_before_ms = max(customer.tokens_revoked_before_ms, before)

    await core.writer.write_then_apply([ClientTokensRevoked(customer.id, before)], cut_off)
    return before


def principal_of(core: Core, token: str) -> Principal:
    """Who a Client Token is for the core's own routes: its customer, read-only."""
    claims, _ = rules.verified(core.state, token, core.clock())
    return Principal(
        account_id=claims.account_id,
        livemode=claims.livemode,
        scopes=frozenset({"api:read"}),
        key_id=claims.jti,
        customer_id=claims.customer_id,
        minting_key_id=claims.key_id,
    )


def _minting_key_models(core: Core, principal: Principal) -> tuple[str, ...] | None:
    """The allowed_models of the key minting a token: the token may call no more than that key."""
    key = core.state.keys_by_id.get(principal.key_id)
    return key.allowed_models if key is not None else None
