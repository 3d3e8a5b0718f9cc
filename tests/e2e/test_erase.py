"""POST /v1/customers/:id/erase (API.md "Customers"; issue 27, item 2): blocked at once, erased once
its holds resolve; afterwards its name, email, external id and metadata are nowhere — not in the
database's bytes (SQLite, after a WAL checkpoint, with secure_delete on), not in a dump of
PostgreSQL, not in the logs — while the ledger and usage stay under the bare id."""

from __future__ import annotations

import contextlib
import pathlib
import secrets
import sqlite3
import subprocess
import threading
from typing import Any

import pytest

from tests.harness import Stack, wait_until

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends

CHAT = {"model": "fc:openai/gpt-4o-mini", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


def _person() -> dict[str, Any]:
    tag = secrets.token_hex(6)
    return {
        "external_id": f"forget_me_{tag}",
        "name": f"Erin Erasable {tag}",
        "email": f"erin.{tag}@example.invalid",
        "metadata": {"note": f"private phrase {tag}"},
    }


def _traces(person: dict[str, Any]) -> list[bytes]:
    return [
        person["external_id"].encode(),
        person["name"].encode(),
        person["email"].encode(),
        person["metadata"]["note"].encode(),
    ]


def _database_bytes(stack: Stack) -> bytes:
    if stack.backend == "sqlite":
        with contextlib.closing(sqlite3.connect(stack.data_dir / "ringside.db", timeout=30)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        files = [stack.data_dir / name for name in ("ringside.db", "ringside.db-wal")]
        return b"".join(path.read_bytes() for path in files if path.exists())
    dump = subprocess.run(["pg_dump", "--no-owner", stack.database_url], capture_output=True, timeout=120)
    assert dump.returncode == 0, dump.stderr
    return dump.stdout


def _logs(stack: Stack) -> bytes:
    return b"".join(path.read_bytes() for path in pathlib.Path(stack.data_dir).glob("*.log"))


def test_an_erased_customer_leaves_no_personal_data_and_its_ledger_stays(stack: Stack) -> None:
    key = stack.live_key
    person = _person()
    created = stack.call("POST", "/v1/customers", key, person, headers={"Idempotency-Key": secrets.token_hex(8)})
    assert created.status == 201, created.body
    customer_id = created.json()["id"]
    assert stack.call("PATCH", f"/v1/customers/{customer_id}", key, {"name": person["name"] + " Jr"}).status == 200
    for _ in range(2):
        answer = stack.call("POST", "/v1/chat/completions", key, CHAT, headers={"FC-Customer": customer_id})
        assert answer.status == 200, answer.body
    # a stored response holds the customer's prompt: it goes with the customer
    prompt = {"model": CHAT["model"], "input": f"my secret is {person['metadata']['note']}", "max_output_tokens": 16}
    stored = stack.call("POST", "/v1/responses", key, prompt, headers={"FC-Customer": customer_id})
    assert stored.status == 200, stored.body
    # so do its Assistants threads and their messages
    said = {"messages": [{"role": "user", "content": f"remember {person['metadata']['note']}"}]}
    thread = stack.call("POST", "/v1/threads", key, said, headers={"FC-Customer": customer_id})
    assert thread.status == 200, thread.body
    spent = wait_until(
        lambda: (c := stack.call("GET", f"/v1/customers/{customer_id}", key).json())["request_count_mtd"] == 3 and c,
        10,
        "the calls to be recorded",
    )["spend_usd_mtd"]

    erase = stack.call("POST", f"/v1/customers/ext:{person['external_id']}/erase", key)
    assert erase.status in (200, 202), erase.body
    if erase.status == 202:
        assert erase.json()["erasure"] == {"status": "pending"} and erase.json()["blocked"] is True
    wait_until(lambda: stack.call("GET", f"/v1/customers/{customer_id}", key).status == 404, 20, "the erasure")
    again = stack.call("POST", f"/v1/customers/{customer_id}/erase", key)
    assert again.status == 200 and again.json() == {
        "id": customer_id,
        "object": "customer",
        "deleted": True,
        "erasure": {"status": "completed"},
    }
    usage = stack.call("GET", "/v1/usage?group_by=customer&order_by=request_count", key).json()
    rows = {row["customer_id"]: row for row in usage["data"]}
    assert rows[customer_id]["request_count"] == 3 and rows[customer_id]["total_billable_usd"] == spent
    erased = stack.call("GET", "/v1/events?type=customer.erased", key).json()["data"]
    assert [e["data"] for e in erased if e["data"]["customer"]["id"] == customer_id] == [
        {"customer": {"id": customer_id}}
    ]
    kept = stack.call("GET", "/v1/events?type=customer.created&limit=100", key).json()["data"]
    mine = [e for e in kept if e["data"]["customer"]["id"] == customer_id]
    assert mine and all(e["data"]["customer"] == {"id": customer_id} for e in mine)
    assert stack.audit().ok

    found = _database_bytes(stack) + _logs(stack)
    assert [trace for trace in _traces(person) if trace in found] == []
    assert stack.call("GET", f"/v1/responses/{stored.json()['id']}", key).status == 404
    assert stack.call("GET", f"/v1/threads/{thread.json()['id']}", key).status == 404
    reused = stack.call("POST", "/v1/customers", key, {"external_id": person["external_id"]})
    assert reused.status == 201 and reused.json()["id"] != customer_id  # the external id is free again


def test_an_erasure_waits_for_a_streaming_call_and_refuses_new_ones(stack: Stack) -> None:
    key = stack.live_key
    person = _person()
    customer_id = stack.call("POST", "/v1/customers", key, person).json()["id"]
    slow = {
        **CHAT,
        "stream": True,
        "max_tokens": 12,
        "messages": [{"role": "user", "content": "[[fake:slow=250]] slow"}],
    }
    statuses: list[int] = []
    streaming = threading.Thread(
        target=lambda: statuses.append(
            stack.call("POST", "/v1/chat/completions", key, slow, headers={"FC-Customer": customer_id}).status
        )
    )
    streaming.start()
    wait_until(lambda: stack.query("SELECT count(*) FROM holds WHERE state = 'open'")[0][0] > 0, 10, "the call's hold")
    pending = stack.call("POST", f"/v1/customers/{customer_id}/erase", key)
    assert pending.status == 202 and pending.json()["erasure"] == {"status": "pending"}, pending.body
    shown = stack.call("GET", f"/v1/customers/{customer_id}", key).json()
    assert shown["blocked"] is True and shown["erasure"] == {"status": "pending"}
    # refused at once by the core; an edge's lease admits for at most its window (1 s), as for any block
    refused = wait_until(
        lambda: (
            (r := stack.call("POST", "/v1/chat/completions", key, CHAT, headers={"FC-Customer": customer_id})).status
            == 403
            and r
        ),
        5,
        "new calls to be refused",
    )
    assert refused.json()["error"]["code"] == "customer_blocked"
    assert stack.call("PATCH", f"/v1/customers/{customer_id}", key, {"name": "x"}).status == 400
    streaming.join(timeout=60)
    assert statuses == [200]
    wait_until(lambda: stack.call("GET", f"/v1/customers/{customer_id}", key).status == 404, 20, "the erasure")
    assert stack.call("POST", f"/v1/customers/{customer_id}/erase", key).json()["erasure"] == {"status": "completed"}


@pytest.mark.parametrize("scope", ["api:write", "api:read"])
def test_erase_needs_the_admin_scope(stack: Stack, scope: str) -> None:
    account = stack.new_account()
    customer_id = stack.call("POST", "/v1/customers", account["live"], {"external_id": "kept"}).json()["id"]
    limited = stack.call("POST", "/v1/api_keys", account["live"], {"mode": "live", "scopes": [scope]}).json()["secret"]
    refused = stack.call("POST", f"/v1/customers/{customer_id}/erase", limited)
    assert refused.status == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    stack.call("POST", f"/v1/customers/{customer_id}/wallet/topup", account["live"], {"amount_usd": 1})
    with_money = stack.call("POST", f"/v1/customers/{customer_id}/erase", account["live"])
    assert with_money.status == 409 and with_money.json()["error"]["code"] == "customer_has_balance"
    forced = stack.call("POST", f"/v1/customers/{customer_id}/erase", account["live"], {"force": True})
    assert forced.status in (200, 202), forced.body
    assert stack.call("POST", "/v1/customers/cus_nope/erase", account["live"]).status == 404
