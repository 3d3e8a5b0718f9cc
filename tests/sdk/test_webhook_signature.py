"""`webhooks.verify` against signatures made by the server's own signing code
(workers/webhooks/signing.py, what the worker sends on every delivery attempt)."""

from __future__ import annotations

import json
import time

import pytest

from core.domain.webhooks import new_secret
from ringside import Ringside, SignatureVerificationError, webhooks
from workers.webhooks.signing import fc_signature, headers

BODY = json.dumps({"id": "evt_1", "object": "event", "type": "customer.created", "data": {}}).encode()
EVENT_ID = "evt_1"


def _signed(secrets: list[str], at: int | None = None, body: bytes = BODY) -> dict[str, str]:
    return headers(secrets, EVENT_ID, int(time.time()) if at is None else at, body)


def test_a_valid_delivery_verifies_by_its_headers_or_its_fc_signature_alone() -> None:
    secret = new_secret()
    sent = _signed([secret])
    assert webhooks.verify(BODY, sent, secret) is True
    assert webhooks.verify(BODY.decode(), {k.upper(): v for k, v in sent.items()}, secret) is True
    assert webhooks.verify(BODY, sent["X-FC-Signature"], secret) is True
    only_standard = {k: v for k, v in sent.items() if k != "X-FC-Signature"}
    assert webhooks.verify(BODY, only_standard, secret) is True
    # the client's resource is the same function
    assert Ringside(api_key="sk_test_unused").webhooks.verify(BODY, sent, secret) is True


def test_a_tampered_body_or_a_wrong_secret_raises() -> None:
    secret = new_secret()
    sent = _signed([secret])
    tampered = BODY.replace(b"customer.created", b"customer.deleted")
    for attempt in (
        lambda: webhooks.verify(tampered, sent, secret),
        lambda: webhooks.verify(tampered, sent["X-FC-Signature"], secret),
        lambda: webhooks.verify(BODY, sent, new_secret()),
        lambda: webhooks.verify(BODY, {**sent, "X-FC-Signature": sent["X-FC-Signature"][:-2] + "00"}, new_secret()),
    ):
        with pytest.raises(SignatureVerificationError):
            attempt()


def test_a_stale_or_future_signature_raises_outside_the_tolerance() -> None:
    secret = new_secret()
    at = int(time.time())
    sent = _signed([secret], at=at)
    assert webhooks.verify(BODY, sent, secret, now=at + 299) is True
    with pytest.raises(SignatureVerificationError, match="tolerance"):
        webhooks.verify(BODY, sent, secret, now=at + 301)
    with pytest.raises(SignatureVerificationError, match="tolerance"):
        webhooks.verify(BODY, sent["X-FC-Signature"], secret, now=at - 301)
    assert webhooks.verify(BODY, sent, secret, tolerance_s=600, now=at + 301) is True
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(BODY, fc_signature(secret, at - 1000, BODY), secret, now=at)


def test_a_receiver_on_the_old_secret_survives_a_rotation_through_the_standard_headers() -> None:
    old, new = new_secret(), new_secret()
    sent = _signed([new, old])  # during the overlap: X-FC-Signature by the new, webhook-signature by both
    assert webhooks.verify(BODY, sent, old) is True
    assert webhooks.verify(BODY, sent, new) is True
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(BODY, sent["X-FC-Signature"], old)  # X-FC-Signature carries only the newest
    assert webhooks.verify(BODY, sent["X-FC-Signature"], [old, new]) is True
    after_overlap = _signed([new])
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(BODY, after_overlap, old)


@pytest.mark.parametrize(
    "signature",
    [
        {},
        {"content-type": "application/json"},
        "",
        "v1=abc",
        "t=notanumber,v1=abc",
        "t=1,t=2,v1=abc",
        {"webhook-signature": "v1,abc"},
        {"webhook-id": "evt_1", "webhook-timestamp": "1", "webhook-signature": "v1,abc"},
        "t=1,v1=" + "é" * 64,
        "t=1,v1=" + "a" * 9000,
    ],
)
def test_missing_or_malformed_signatures_raise(signature: str | dict[str, str]) -> None:
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(BODY, signature, new_secret(), now=1)


def test_a_missing_or_malformed_secret_raises() -> None:
    sent = _signed([new_secret()])
    for secret in ("", [], "whsec_not base64!"):
        with pytest.raises(SignatureVerificationError):
            webhooks.verify(BODY, {k: v for k, v in sent.items() if k != "X-FC-Signature"}, secret)
