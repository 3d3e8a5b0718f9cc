"""Two ACTIVE cores on one PostgreSQL database (RINGSIDE_CORE_SHARE=fair, issue 25), accounts in
both halves: the calls that list across accounts — the Stripe sync's plan and commit, the period
close, the workers' pending lists, the operator's account list, the rag sweep's check and the indexed
stores — asked of either core cover both cores' accounts, each item once (core/rpc/fanout.py)."""

from __future__ import annotations

import secrets
import sys
import time
from typing import Any

import grpc
import pytest

from ringside.core.v1 import (
    batches_pb2,
    batches_pb2_grpc,
    billing_pb2,
    billing_pb2_grpc,
    files_pb2,
    files_pb2_grpc,
    vector_stores_pb2,
    vector_stores_pb2_grpc,
)
from tests.e2e.active_cores import core_env, serving_its_half
from tests.e2e.active_cores_load import load_accounts
from tests.e2e.test_core_failover import MODEL
from tests.harness import ADMIN_KEY, Stack, start_process, stop_process, wait_until

pytestmark = pytest.mark.postgres


def _internal(stack: Stack, port: int, stub_type: Any, method: str, request: Any) -> Any:
    """One internal call to the core listening on `port` (as a worker or the rag role makes it)."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        return getattr(stub_type(channel), method)(
            request, metadata=(("x-ringside-internal", stack.internal_token),), timeout=30
        )


def test_the_calls_that_list_across_accounts_see_both_cores_accounts(two_cores: tuple[Stack, int]) -> None:
    """Two fair cores, accounts in both halves: asked of either core, the Stripe sync's plan and
    commit, the period close, the operator's account list (paged both ways), the rag sweep's check
    and the indexed stores cover both cores' accounts, each item once (core/rpc/fanout.py)."""
    stack, port_b = two_cores
    accounts = load_accounts(stack)  # made while core-a holds every partition
    customers: dict[str, str] = {}  # customer id → account id
    stores: dict[str, str] = {}  # vector store id → account id
    for account in accounts:
        put = stack.call(
            "PUT",
            "/v1/billing/stripe",
            account["live"],
            {"secret_key": "sk_live_" + secrets.token_hex(12), "meter_event_name": "ai_tokens", "value": "tokens"},
        )
        assert put.status == 200, put.body
        fields = {"external_id": f"fo_{secrets.token_hex(4)}", "stripe_customer_id": f"cus_{secrets.token_hex(6)}"}
        created = stack.call("POST", "/v1/customers", account["live"], fields)
        assert created.status == 201, created.body
        customers[created.json()["id"]] = account["id"]
        body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "fan out"}]}
        answered = stack.call(
            "POST", "/v1/chat/completions", account["live"], body, headers={"FC-Customer": created.json()["id"]}
        )
        assert answered.status == 200, answered.body
        store = stack.call("POST", "/v1/vector_stores", account["live"], {"name": "fanout"})
        assert store.status == 200, store.body
        stores[store.json()["id"]] = account["id"]
    log_b = stack.data_dir / "core-b-lists.log"
    core_b = start_process([sys.executable, "-m", "ringside_cli", "core"], core_env(stack, "core-b", port_b), log_b)
    try:
        # core-b's half: claimed at its start when core-a handed it back first, else handed to it after
        wait_until(lambda: "core serving gRPC" in log_b.read_text(errors="replace"), 60, "core-b serving")
        wait_until(
            lambda: (
                dict(stack.query("SELECT owner, COUNT(*) FROM partition_leases GROUP BY owner"))
                == {"core-a": 128, "core-b": 128}
            ),
            60,
            "each core's half",
        )

        wait_until(lambda: serving_its_half(log_b), 60, "core-b to serve its half")
        ports = {"core-a": stack.grpc_port, "core-b": port_b}

        # The Stripe sync, planned one customer at a time through core-b: every customer once.
        planned: list[billing_pb2.StripePush] = []
        after = ""
        for _ in range(100):
            plan = _internal(
                stack,
                port_b,
                billing_pb2_grpc.BillingServiceStub,
                "PlanStripeSync",
                billing_pb2.PlanStripeSyncRequest(run_id="fanout-run", after_customer_id=after, limit=1),
            )
            assert len(plan.pushes) <= 1
            planned += [p for p in plan.pushes if p.customer_id in customers]
            after = plan.last_customer_id
            if not plan.has_more:
                break
        assert sorted(p.customer_id for p in planned) == sorted(customers)
        assert {p.account_id for p in planned} == {a["id"] for a in accounts}
        outcomes = [
            billing_pb2.StripeOutcome(customer_id=p.customer_id, identifier=p.identifier, outcome="pushed")
            for p in planned
        ]
        committed = _internal(  # through core-a: each core commits its own customers' pushes
            stack,
            stack.grpc_port,
            billing_pb2_grpc.BillingServiceStub,
            "CommitStripeSync",
            billing_pb2.CommitStripeSyncRequest(run_id="fanout-run", outcomes=outcomes, finish=True),
        )
        assert committed.committed == len(customers)
        again = _internal(
            stack,
            port_b,
            billing_pb2_grpc.BillingServiceStub,
            "PlanStripeSync",
            billing_pb2.PlanStripeSyncRequest(run_id="fanout-run-2", limit=500),
        )
        assert not [p for p in again.pushes if p.customer_id in customers]  # pushed once, not again
        for account in accounts:  # each tenant's run finished by the core serving it
            answer = stack.call("GET", "/v1/billing/stripe/syncs", account["live"])
            assert answer.status == 200, answer.body  # no 503 right after core-a's hand-back
            syncs = answer.json()["data"]
            assert [s["status"] for s in syncs if s["run_id"] == "fanout-run"] == ["succeeded"], syncs

        # The workers' pending lists asked of either core: answered (both cores' parts merged). The
        # time is printed, never asserted: a fanned-out call against the same call answered from
        # that core's memory alone (x-ringside-local), 50 of each on one channel.
        for port in ports.values():
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = batches_pb2_grpc.BatchesServiceStub(channel)
                internal = ("x-ringside-internal", stack.internal_token)
                local = ("x-ringside-local", "1")
                empty = batches_pb2.PendingBatchesRequest()
                for label, metadata in (("fanned out", (internal,)), ("local only", (internal, local))):
                    stub.PendingBatches(empty, metadata=metadata, timeout=30)
                    started = time.perf_counter()
                    for _ in range(50):
                        pending = stub.PendingBatches(empty, metadata=metadata, timeout=30)
                        assert list(pending.batches) == []
                    took = (time.perf_counter() - started) / 50 * 1000
                    print(f"PendingBatches on port {port}, {label}: {took:.2f} ms a call (wall, client side)")
            for method, request in (
                ("PendingIngests", vector_stores_pb2.PendingIngestsRequest(limit=10)),
                ("PendingMigrations", vector_stores_pb2.PendingMigrationsRequest(limit=10)),
            ):
                stub_type = vector_stores_pb2_grpc.VectorStoresServiceStub
                assert not list(getattr(_internal(stack, port, stub_type, method, request), method[7:].lower()))

        # The period close asked of either core answers for both (no period has ended yet).
        for port in ports.values():
            closed = _internal(
                stack,
                port,
                billing_pb2_grpc.BillingServiceStub,
                "ClosePeriods",
                billing_pb2.ClosePeriodsRequest(limit=10),
            )
            assert closed.closed == 0 and not closed.has_more

        # The operator's account list through the edge, paged by 3 both ways: every account once.
        every = [str(row[0]) for row in stack.query("SELECT id FROM accounts ORDER BY id DESC")]
        listed: list[str] = []
        cursor = ""
        for _ in range(100):
            query = "/v1/accounts?limit=3" + (f"&starting_after={cursor}" if cursor else "")
            page = stack.call("GET", query, ADMIN_KEY)
            assert page.status == 200, page.body
            listed += [a["id"] for a in page.json()["data"]]
            if not page.json()["has_more"]:
                break
            cursor = listed[-1]
        assert listed == every
        before = stack.call("GET", f"/v1/accounts?limit=3&ending_before={every[-1]}", ADMIN_KEY).json()
        assert [a["id"] for a in before["data"]] == every[-4:-1] and before["has_more"] == (len(every) > 4)

        # The rag sweep's check: asked of either core, a store is live if its core says so.
        for port in ports.values():
            live = _internal(
                stack,
                port,
                files_pb2_grpc.FilesServiceStub,
                "LiveRagObjects",
                files_pb2.LiveRagObjectsRequest(store_ids=[*stores, "vs_gone"]),
            )
            assert sorted(live.store_ids) == sorted(stores)
            indexed: list[str] = []
            after = ""
            for _ in range(100):
                page = _internal(
                    stack,
                    port,
                    vector_stores_pb2_grpc.VectorStoresServiceStub,
                    "IndexedStores",
                    vector_stores_pb2.IndexedStoresRequest(after=after, limit=1),
                )
                indexed += [s.store.id for s in page.stores]
                if not page.has_more:
                    break
                after = page.stores[-1].store.id
            assert sorted(set(indexed) & set(stores)) == sorted(stores) and len(indexed) == len(set(indexed))
        # Deleting a store (a record naming only its id, fenced on its account's partition) on
        # either core, then the sweep's check no longer finds it live.
        for store_id, account_id in stores.items():
            key = next(a["live"] for a in accounts if a["id"] == account_id)
            deleted = stack.call("DELETE", f"/v1/vector_stores/{store_id}", key)
            assert deleted.status == 200, deleted.body
        for port in ports.values():
            request = files_pb2.LiveRagObjectsRequest(store_ids=list(stores))
            live = _internal(stack, port, files_pb2_grpc.FilesServiceStub, "LiveRagObjects", request)
            assert list(live.store_ids) == []
    finally:
        stop_process(core_b)  # a clean stop: core-a takes its partitions back
    wait_until(
        lambda: [row[0] for row in stack.query("SELECT DISTINCT owner FROM partition_leases")] == ["core-a"],
        60,
        "core-a to hold every partition again",
    )
    assert stack.audit().ok
