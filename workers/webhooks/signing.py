"""The two signature schemes of API.md "Webhooks", computed per attempt (`t` = now).

`X-FC-Signature: t=<unix>,v1=<hex HMAC-SHA256(the whole secret string, "<t>.<body>")>` with exactly
one `v1` (the newest secret: seed 000's receiver takes everything after the first `v1=`), and the
Standard Webhooks headers whose `webhook-signature` lists `v1,<base64>` for every live secret, keyed
with the base64-decoded part after `whsec_`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def fc_signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(secrets: list[str], event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header of one attempt; `secrets` newest first (at least one)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "Ringside-Webhooks/1",
        "X-FC-Signature": fc_signature(secrets[0], timestamp, body),
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(standard_signature(s, event_id, timestamp, body) for s in secrets),
    }
