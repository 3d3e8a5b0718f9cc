"""The `ringside` CLI end to end against a live stack: it acts as the saved key of `--mode` (test
by default) or the key it is given, prints tables or `--json`, and exits non-zero with the error's
code and a fix."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.harness import Stack


def ringside(stack: Stack, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ringside_cli", *args],
        env={**stack.env, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def as_json(stack: Stack, *args: str) -> Any:
    done = ringside(stack, *args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_customers_and_wallet_through_the_cli(stack: Stack) -> None:
    created = as_json(stack, "customers", "create", "--external-id", "cli_42", "--name", "Ada [b]", "--budget-usd", "7")
    assert created["livemode"] is False and created["budget_usd"] == 7  # the saved test key by default
    assert as_json(stack, "customers", "get", "ext:cli_42")["id"] == created["id"]
    table = ringside(stack, "customers", "list", "--query", "cli_42")
    assert table.returncode == 0 and created["id"] in table.stdout and "Ada [b]" in table.stdout
    assert created["id"] not in ringside(stack, "customers", "list", "--mode", "live").stdout  # another mode

    updated = as_json(stack, "customers", "update", "ext:cli_42", "--budget-usd", "none", "--blocked")
    assert updated["budget_usd"] is None and updated["blocked"] is True
    topped = as_json(stack, "wallet", "topup", "ext:cli_42", "2.50", "--description", "welcome")
    assert topped["amount_usd"] == 2.5
    shown = ringside(stack, "wallet", "show", "ext:cli_42")
    assert shown.returncode == 0 and "$2.5" in shown.stdout

    refused = ringside(stack, "customers", "delete", "ext:cli_42")  # a wallet with money in it
    assert refused.returncode == 1 and "customer_has_balance" in refused.stderr and "--force" in refused.stderr
    deleted = ringside(stack, "customers", "delete", "ext:cli_42", "--force")
    assert deleted.returncode == 0 and created["id"] in deleted.stdout
    missing = ringside(stack, "customers", "get", "ext:cli_42")
    assert missing.returncode == 1 and "customer_not_found" in missing.stderr


def test_keys_usage_webhooks_and_status(stack: Stack) -> None:
    account = stack.new_account()
    key = account["live"]
    made = as_json(stack, "keys", "create", "--scopes", "api:read", "--name", "ci", "--api-key", key, "--mode", "live")
    assert made["secret"].startswith("sk_live_") and made["scopes"] == ["api:read"]
    listed = as_json(stack, "keys", "list", "--api-key", key)
    assert made["id"] in [k["id"] for k in listed] and all("secret" not in k for k in listed)
    read_only = ringside(stack, "customers", "create", "--external-id", "nope", "--api-key", made["secret"])
    assert read_only.returncode == 1 and "insufficient_scope" in read_only.stderr
    assert ringside(stack, "keys", "revoke", made["id"], "--api-key", key).returncode == 0
    revoked = ringside(stack, "customers", "list", "--api-key", made["secret"])
    assert revoked.returncode == 1 and "invalid_api_key" in revoked.stderr

    report = as_json(stack, "usage", "--by", "customer", "--api-key", key)
    assert report["object"] == "usage" and report["request_count"] == 0
    assert "usage by day" in ringside(stack, "usage", "--api-key", key).stdout
    bad = ringside(stack, "usage", "--by", "week", "--api-key", key)
    assert bad.returncode == 2 and "--by" in bad.stderr
    assert as_json(stack, "webhooks", "list", "--api-key", key) == []

    healthy = as_json_status = ringside(stack, "status", "--json")
    assert healthy.returncode == 0 and json.loads(as_json_status.stdout)["status"] == "ok"
    down = ringside(stack, "status", "--base-url", "http://127.0.0.1:9")
    assert down.returncode == 1 and "unreachable" in down.stdout


def test_no_key_anywhere_says_how_to_get_one(stack: Stack, tmp_path: Any) -> None:
    done = ringside(stack, "customers", "list", env={"RINGSIDE_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2 and "ringside up" in done.stderr and "--api-key" in done.stderr
    assert ringside(stack, "--version").stdout.startswith("ringside ")
