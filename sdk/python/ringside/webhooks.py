"""Verify a Ringside webhook delivery (API.md "Webhooks" → Signatures) without a client or a key.

    from ringside import webhooks
    webhooks.verify(request.body, request.headers, secret)   # True, or raises

Ringside signs every attempt twice: `X-FC-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`
(keyed with the whole `whsec_…` string, signed with the newest secret) and the Standard Webhooks
headers (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> …`, keyed with the
base64-decoded part after `whsec_`, one signature per live secret). Given the request's headers,
`verify` accepts when either scheme verifies, so a receiver still holding the old secret keeps
accepting during a rotation's overlap. Every failure raises `SignatureVerificationError`; it never
returns False, so a forgotten `if` cannot accept a forgery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from typing import Literal

from ringside.errors import SignatureVerificationError

__all__ = ["DEFAULT_TOLERANCE_S", "SignatureVerificationError", "verify"]

DEFAULT_TOLERANCE_S = 300  # the replay window, both ways (seed 000's receiver uses 300 s)
FC_HEADER = "x-fc-signature"
MAX_HEADER_LENGTH = 8192  # a bound on what is parsed: a real header is well under 1 KiB


def verify(
    payload: bytes | str,
    signature: str | Mapping[str, str],
    secret: str | Sequence[str],
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> Literal[True]:
    """Check that `payload` (the raw request body, exactly as received) was signed by Ringside.

    `signature` is the `X-FC-Signature` value, or the request's headers (any mapping; names are
    matched case-insensitively). `secret` is the endpoint's `whsec_…` secret, or several (old and
    new around a rotation). `now` (unix seconds) is for tests. Returns True; raises
    `SignatureVerificationError` on a missing, malformed, tampered, stale or foreign signature.
    """
    body = payload.encode() if isinstance(payload, str) else bytes(payload)
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or not all(isinstance(s, str) and s for s in secrets):
        raise SignatureVerificationError("no webhook secret given")
    moment = time.time() if now is None else now
    if isinstance(signature, str):
        _verify_fc(signature, body, secrets, moment, tolerance_s)
        return True
    headers = {name.lower(): value for name, value in signature.items()}
    failures = []
    if FC_HEADER in headers:
        try:
            _verify_fc(headers[FC_HEADER], body, secrets, moment, tolerance_s)
            return True
        except SignatureVerificationError as failure:
            failures.append(f"X-FC-Signature: {failure}")
    if "webhook-signature" in headers:
        try:
            _verify_standard(headers, body, secrets, moment, tolerance_s)
            return True
        except SignatureVerificationError as failure:
            failures.append(f"webhook-signature: {failure}")
    if not failures:
        raise SignatureVerificationError("no X-FC-Signature or webhook-signature header")
    raise SignatureVerificationError("; ".join(failures))


def _timestamp(text: str, moment: float, tolerance_s: float) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise SignatureVerificationError("the timestamp is not unix seconds")
    stamp = int(text)
    if abs(moment - stamp) > tolerance_s:
        raise SignatureVerificationError(f"the timestamp is outside the {tolerance_s:g} s tolerance (a replay?)")
    return stamp


def _verify_fc(header: str, body: bytes, secrets: list[str], moment: float, tolerance_s: float) -> None:
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureVerificationError("the header is too long")
    parts = [part.strip().partition("=") for part in header.split(",")]
    stamps = [value for key, _, value in parts if key == "t"]
    given = [value for key, _, value in parts if key == "v1"]
    if len(stamps) != 1 or not given:
        raise SignatureVerificationError("expected t=<unix>,v1=<hex>")
    stamp = _timestamp(stamps[0], moment, tolerance_s)
    signed = f"{stamp}.".encode() + body
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        # every comparison runs, whatever matched before: constant time per candidate
        if any(hmac.compare_digest(expected.encode(), value.encode()) for value in given):
            return
    raise SignatureVerificationError("no v1 signature matches the payload and secret")


def _standard_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureVerificationError("the secret is not whsec_ + base64") from None


def _verify_standard(
    headers: Mapping[str, str], body: bytes, secrets: list[str], moment: float, tolerance_s: float
) -> None:
    message_id = headers.get("webhook-id", "")
    listed = headers.get("webhook-signature", "")
    if not message_id or len(listed) > MAX_HEADER_LENGTH or len(message_id) > 256:
        raise SignatureVerificationError("webhook-id is missing or a header is too long")
    stamp = _timestamp(headers.get("webhook-timestamp", ""), moment, tolerance_s)
    given = [value for version, _, value in (entry.partition(",") for entry in listed.split()) if version == "v1"]
    signed = f"{message_id}.{stamp}.".encode() + body
    for secret in secrets:
        digest = hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()
        expected = base64.b64encode(digest)
        if any(hmac.compare_digest(expected, value.encode()) for value in given):
            return
    raise SignatureVerificationError("no v1 signature matches the payload and secret")
