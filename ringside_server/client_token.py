"""Signing and verifying Client Tokens (JWT, EdDSA over Ed25519) with PyJWT; the rules they carry
are in core/domain/client_tokens.py. Shared by the core (mints, and verifies for its own routes) and
the edge (verifies every browser call without a round trip)."""

from __future__ import annotations

import base64
from collections import OrderedDict
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ringside_server.errors import RingsideError

ALGORITHM = "EdDSA"  # pinned: a token naming any other algorithm (`none` included) is refused
ISSUER = "ringside"
AUDIENCE = "ringside-client"
LEEWAY_S = 5
MAX_TOKEN_LENGTH = 7500  # 20 endpoints of 200 characters fit; aiohttp refuses headers past 8 KiB


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_pem: str  # empty on the edge: it only verifies
    public_raw_b64: str
    created: int
    retired_at: int | None = None

    def public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_raw_b64))

    def jwk(self) -> dict[str, str]:
        raw = base64.urlsafe_b64encode(base64.b64decode(self.public_raw_b64)).rstrip(b"=").decode()
        return {"kty": "OKP", "crv": "Ed25519", "x": raw, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}


def generate(kid: str, now: int) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SigningKey(kid, pem, base64.b64encode(raw).decode(), now)


@dataclass(frozen=True, slots=True)
class Claims:
    jti: str
    account_id: str
    livemode: bool
    customer_id: str
    external_id: str
    origin: str
    ip: str
    endpoints: tuple[str, ...]
    issued_at: int
    expires_at: int
    issued_at_ms: int  # revocations cut at the millisecond: a token minted right after one lives
    models: tuple[str, ...] | None = None  # the minting key's allowed_models (None: every model)
    # The minting key's id: work a token starts that runs later (an Assistants run) is done as that
    # key. Empty in tokens minted before it was carried: they verify, but start no such work.
    key_id: str = ""


def sign(claims: Claims, key: SigningKey) -> str:
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": claims.customer_id,
        "jti": claims.jti,
        "iat": claims.issued_at,
        "nbf": claims.issued_at,
        "exp": claims.expires_at,
        "acct": claims.account_id,
        "live": claims.livemode,
        "ext": claims.external_id,
        "origin": claims.origin,
        "ip": claims.ip,
        "endpoints": list(claims.endpoints),
        "iat_ms": claims.issued_at_ms,
    }
    if claims.models is not None:
        payload["models"] = list(claims.models)
    if claims.key_id:
        payload["key"] = claims.key_id
    return jwt.encode(payload, key.private_pem, algorithm=ALGORITHM, headers={"kid": key.kid})


class VerifiedCache:
    """Tokens whose signature and claims were verified, by their exact bytes (a browser sends the
    same token every few seconds): only the clock is checked again. Bounded, oldest first out."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._claims: OrderedDict[str, Claims] = OrderedDict()
        self._capacity = capacity

    def seen(self, token: str, now: float) -> Claims | None:
        """A token verified before (401 once it has expired), or None."""
        claims = self._claims.get(token)
        if claims is not None and claims.expires_at + LEEWAY_S < now:
            del self._claims[token]
            raise invalid("This client token has expired; mint a new one.")
        return claims

    def verify(self, token: str, keys: dict[str, SigningKey], now: float) -> Claims:
        claims = self.seen(token, now)
        if claims is None:
            claims = verify(token, keys, now)
            self._claims[token] = claims
            if len(self._claims) > self._capacity:
                self._claims.popitem(last=False)
        return claims


def invalid(message: str) -> RingsideError:
    return RingsideError("invalid_client_token", message)


def verify(token: str, keys: dict[str, SigningKey], now: float) -> Claims:
    """The token's claims, or 401 invalid_client_token (forged, expired, unknown kid, other alg…)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise invalid("Malformed client token.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise invalid("Malformed client token.") from None
    key = keys.get(str(header.get("kid", "")))
    if key is None:
        raise invalid("This client token was signed with an unknown key.")
    if header.get("alg") != ALGORITHM:
        raise invalid(f"Client tokens are signed with {ALGORITHM} only.")
    try:
        payload = jwt.decode(
            token,
            key.public_key(),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_S,
            options={"require": ["exp", "iat", "nbf", "jti", "sub", "aud", "iss"], "verify_iat": False},
        )
    except jwt.ExpiredSignatureError:
        raise invalid("This client token has expired; mint a new one.") from None
    except jwt.PyJWTError:
        raise invalid("Invalid client token.") from None
    if payload["exp"] + LEEWAY_S < now:  # PyJWT checks against its own clock; ours is the one that counts
        raise invalid("This client token has expired; mint a new one.")
    try:
        return Claims(
            jti=str(payload["jti"]),
            account_id=str(payload["acct"]),
            livemode=bool(payload["live"]),
            customer_id=str(payload["sub"]),
            external_id=str(payload.get("ext") or ""),
            origin=str(payload["origin"]),
            ip=str(payload.get("ip") or ""),
            endpoints=tuple(str(e) for e in payload["endpoints"]),
            issued_at=int(payload["iat"]),
            expires_at=int(payload["exp"]),
            issued_at_ms=int(payload.get("iat_ms") or int(payload["iat"]) * 1000),
            models=None if payload.get("models") is None else tuple(str(m) for m in payload["models"]),
            key_id=str(payload.get("key") or "")[:64],
        )
    except (KeyError, TypeError, ValueError):
        raise invalid("Invalid client token.") from None
