"""Secrets at rest (issue 15, item 5): what the API shows once is never in the database as text;
the data dir is 0700 and its key files and SQLite files 0600."""

from __future__ import annotations

import secrets
import stat

import pytest

from tests.harness import Stack


@pytest.mark.both_backends
def test_webhook_secrets_stripe_keys_and_signing_keys_are_sealed_in_the_database(stack: Stack) -> None:
    key = stack.live_key
    endpoint = stack.call("POST", "/v1/webhooks", key, {"url": "https://example.com/at-rest", "events": ["*"]})
    assert endpoint.status == 201, endpoint.body
    rotated = stack.call("POST", f"/v1/webhooks/{endpoint.json()['id']}/rotate_secret", key, {}).json()
    stripe_key = "rk_live_" + secrets.token_hex(16)
    assert (
        stack.call("PUT", "/v1/billing/stripe", key, {"secret_key": stripe_key, "meter_event_name": "t"}).status == 200
    )
    customer = stack.call("POST", "/v1/customers", key, {"name": "rest"}).json()
    token = stack.call(
        "POST",
        f"/v1/customers/{customer['id']}/client_tokens",
        key,
        {"origin": "https://a.example", "allowed_endpoints": ["GET /v1/customers/:id"]},
    )
    assert token.status == 201, token.body

    stored = stack.query("SELECT secret, previous_secret FROM webhook_endpoints WHERE id = ?", endpoint.json()["id"])
    stored += stack.query("SELECT secret_key, '' FROM stripe_settings")
    stored += stack.query("SELECT private_pem, '' FROM signing_keys")
    values = [value for row in stored for value in row if value]
    assert len(values) >= 4
    assert all(value.startswith("sealed:v1:") for value in values), [value[:20] for value in values]
    for secret in (endpoint.json()["secret"], rotated["secret"], stripe_key):
        assert all(secret not in value for value in values)
    assert "PRIVATE KEY" not in "".join(values)
    # what is sealed still works: the Stripe key reads back (redacted), the token verifies
    assert stack.call("GET", "/v1/billing/stripe", key).json()["secret_key"].endswith(stripe_key[-4:])
    headers = {"Authorization": f"Client {token.json()['token']}", "Origin": "https://a.example"}
    assert stack.call("GET", f"/v1/customers/{customer['id']}", headers=headers).status == 200


def test_the_data_dir_is_private_and_its_files_are_owner_only(stack: Stack) -> None:
    assert stat.S_IMODE(stack.data_dir.stat().st_mode) == 0o700
    files = ["secret_key", "credentials.json"] + (["ringside.db"] if stack.backend == "sqlite" else [])
    for name in files:
        assert stat.S_IMODE((stack.data_dir / name).stat().st_mode) == 0o600, name
