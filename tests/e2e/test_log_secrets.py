"""No secret or personal data in any log line (issue 15, item 2; API.md "Logs"): a PostgreSQL stack
logging at DEBUG is put through the worst cases — failing keys, forged tokens, secrets in bodies
that fail, malformed HTTP, bodies past their bound, webhook and Stripe secrets set and rotated —
then every line of every role's log is searched for the keys, secrets and the test's PII."""

from __future__ import annotations

import pathlib
import re
import secrets
import socket
from collections.abc import Iterator

import pytest

from tests.harness import ADMIN_KEY, FakeUpstream, Stack

SECRET_SHAPES = re.compile(
    r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{6,}"  # API keys, Stripe keys
    r"|\bwhsec_[A-Za-z0-9+/=]{6,}"  # webhook signing secrets
    r"|\beyJ[\w-]+\.[\w-]+\."  # JWTs (Client Tokens)
)


@pytest.fixture(scope="module")
def loud(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Stack]:
    path: pathlib.Path = tmp_path_factory.mktemp("stack-logs")
    running = Stack("postgres", path, upstream, extra_env={"RINGSIDE_LOG_LEVEL": "DEBUG"}).start()
    yield running
    running.destroy()


def send_raw(stack: Stack, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", stack.http_port), timeout=10) as connection:
        connection.sendall(data)
        connection.recv(65536)


def test_no_log_line_holds_a_key_a_secret_or_the_customer_s_data(loud: Stack) -> None:
    key = loud.live_key
    marker = secrets.token_hex(6)
    pii = {"email": f"jane.{marker}@example.com", "name": f"Jane Secretname {marker}", "external_id": f"ext-{marker}"}
    stripe_key = "rk_live_" + secrets.token_hex(12)
    forged = "sk_live_" + secrets.token_hex(20)

    customer = loud.call("POST", "/v1/customers", key, pii).json()
    webhook = loud.call("POST", "/v1/webhooks", key, {"url": "https://example.com/hook", "events": ["*"]})
    whsec = webhook.json().get("secret") or ""
    rotated = loud.call("POST", f"/v1/webhooks/{webhook.json().get('id')}/rotate_secret", key, {})
    whsec_rotated = rotated.json().get("secret") or ""
    loud.call("PUT", "/v1/billing/stripe", key, {"secret_key": stripe_key, "meter_event_name": "tokens"})
    # failures carrying the secrets and the PII
    loud.call("GET", "/v1/customers", forged)
    loud.call("POST", "/v1/customers", forged, pii)
    loud.call("POST", "/v1/customers", key, pii | {"name": pii["name"] + "\u0000"})
    loud.call("POST", "/v1/customers", key, pii)  # the external id again: a conflict
    loud.call("GET", f"/v1/customers/ext:{pii['external_id']}%00", key)
    loud.call("POST", "/v1/customers", key, {"name": pii["name"], "metadata": {"k": "v" * 600, "email": pii["email"]}})
    loud.call("POST", "/v1/chat/completions", forged, {"model": "fc:openai/gpt-4o-mini", "messages": []})
    loud.call("POST", "/v1/chat/completions", key, {"model": "x", "user": pii["email"], "messages": []})
    loud.call("GET", "/v1/customers", headers={"Authorization": "Client eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."})
    loud.call("POST", f"/v1/customers/{customer['id']}/wallet/topup", key, {"amount_usd": "1e999999999"})
    loud.call("POST", "/v1/accounts", ADMIN_KEY + "x", {"name": pii["name"]})
    send_raw(loud, f"GET /v1/customers HTTP/1.1\r\nAuthorization: Bearer {key}\x01\r\n\r\n".encode())
    send_raw(loud, f"GET /v1/{forged} HTTP/1.1\r\nHost: \xff{pii['email']}\r\n\r\n".encode("latin-1"))

    logs = "\n".join(path.read_text(errors="replace") for path in loud.data_dir.glob("*.log"))
    assert logs.strip(), "the stack logged nothing at DEBUG: the search below would prove nothing"
    needles = [key, loud.test_key, forged, stripe_key, ADMIN_KEY, loud.internal_token, *pii.values()]
    needles += [secret for secret in (whsec, whsec_rotated) if secret]
    found = [needle[:12] for needle in needles if needle in logs]
    assert found == [], f"in the logs: {found}"
    assert SECRET_SHAPES.findall(logs) == []
