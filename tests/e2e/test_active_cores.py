"""Two ACTIVE cores on one PostgreSQL database (RINGSIDE_CORE_SHARE=fair, issue 25): each owns
its share of the partitions and loads only their accounts; two edges route every call to its
account's owner (a "not owner" answer names it). Accounts on both cores are served through both
edges, each customer's budget cap holds exactly (0 overspend); SIGKILL one core mid-load: the
survivor takes its partitions over (its open holds and leases as they are), every completed call
is billed once and the ledger audit is clean. The takeover time is printed, never asserted."""

from __future__ import annotations

import datetime
import http.client
import json
import pathlib
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
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
from tests.e2e.active_cores import (
    CORE_NAMES,
    LEASE_TTL_S,
    accounts_on_both,
    core_env,
    fair_env,
    half,
    serving_its_half,
    start_core_b,
)
from tests.e2e.test_concurrency import _cost_nano as cost_nano
from tests.e2e.test_core_failover import MODEL, _estimate_nano
from tests.harness import (
    ADMIN_KEY,
    FakeUpstream,
    Stack,
    free_port,
    port_open,
    start_process,
    stop_process,
    wait_until,
)
from tests.harness import http as http_call

CAP_CALLS = 25
ACCOUNTS_PER_CORE = 2
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def two_cores(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[tuple[Stack, int]]:
    stack = Stack("postgres", tmp_path_factory.mktemp("active") / "data", upstream)
    port_b = free_port()
    stack.extra_env.update(fair_env(stack, port_b))
    stack.start()
    try:
        yield stack, port_b
    finally:
        stack.destroy()


def _accounts_on_both(stack: Stack) -> list[dict[str, str]]:
    return accounts_on_both(stack, ACCOUNTS_PER_CORE)


class _Load:
    """Calls for every account's budget-capped customer, spread over the edges, one thread per
    account, each until its cap refuses it (or `stop`); what was answered and what refused, when."""

    def __init__(
        self, stack: Stack, accounts: list[dict[str, str]], edges: list[str], cap_calls: int = CAP_CALLS
    ) -> None:
        self.accounts = accounts
        self.edges = edges
        self.cap_nano = cap_calls * _estimate_nano()
        self.customers: list[str] = []
        for index, account in enumerate(accounts):
            fields = {
                "external_id": f"ac_{secrets.token_hex(4)}",
                "budget_usd": str(Decimal(self.cap_nano).scaleb(-9)),
            }
            # through either edge: the first call for core-b's accounts is answered "not owner" by core-a
            created = stack.call("POST", "/v1/customers", account["live"], fields) if index % 2 else None
            if created is None:
                created = http_call("POST", edges[1] + "/v1/customers", account["live"], fields)
            assert created.status in (200, 201), created.body
            self.customers.append(created.json()["id"])
        self.completed: list[tuple[int, str, float, int]] = []  # (account index, request id, when, cost)
        self.refused: list[tuple[int, float]] = []  # (account index, when): the takeover window
        self.refusals: list[str] = []  # what each refused call was answered (status and body, or the error)
        self.capped: set[int] = set()
        self.unexpected: list[str] = []  # any other answer: its thread stops, the test fails at join()
        self.spans: list[tuple[int, float, float]] = []  # (account index, sent, answered or failed)
        self.stop = threading.Event()
        self.served_by = {i: CORE_NAMES[half(a["id"])] for i, a in enumerate(accounts)}
        assert sorted(self.served_by.values()) == ["core-a"] * ACCOUNTS_PER_CORE + ["core-b"] * ACCOUNTS_PER_CORE
        self.threads = [
            threading.Thread(target=self._calls_recorded, args=(i,), daemon=True) for i in range(len(accounts))
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        """Stops the calls; fails when any was answered other than 200, 402 at the cap or 503."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=20)
        assert self.unexpected == []

    def _calls_recorded(self, index: int) -> None:
        try:
            self._calls(index)
        except Exception as error:  # a thread's exception would only warn: join() fails on it
            self.unexpected.append(repr(error))

    def _calls(self, index: int) -> None:
        key, customer_id = self.accounts[index]["live"], self.customers[index]
        for call in range(10_000):
            if self.stop.is_set():
                return
            body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": f"a{index} c{call}"}]}
            sent = time.monotonic()
            try:
                response = http_call(
                    "POST",
                    self.edges[call % 2] + "/v1/chat/completions",
                    key,
                    body,
                    headers={"FC-Customer": customer_id},
                    timeout_s=15,
                )
            except (OSError, http.client.HTTPException) as error:
                self.refused.append((index, time.monotonic()))
                self.refusals.append(repr(error))
                continue
            finally:
                self.spans.append((index, sent, time.monotonic()))
            if response.status == 200:
                usage = response.json()["usage"]
                self.completed.append((index, response.headers["x-request-id"], time.monotonic(), cost_nano(usage)))
            elif response.status == 402 and response.json()["error"]["code"] == "customer_budget_exceeded":
                self.capped.add(index)
                return
            elif response.status != 503:  # a 503 in the takeover window only; anything else is a fault
                self.unexpected.append(f"{self.edges[call % 2]} {response.status} {response.body[:300]!r}")
                return
            else:
                self.refused.append((index, time.monotonic()))
                self.refusals.append(f"{self.edges[call % 2]} {response.status} {response.body[:300]!r}")
                time.sleep(0.05)

    def report(self, event: str, since: float) -> None:
        """Prints when core-b's accounts were answered again after `event` (never asserted)."""
        moved = [at for i, at in self.refused if self.served_by[i] == "core-b" and at > since]
        if moved:  # the first call for core-b's accounts answered after the last one refused
            again = min(at for i, _, at, _ in self.completed if self.served_by[i] == "core-b" and at > max(moved))
            print(f"{event}: {len(moved)} calls refused; answered again {again - since:.2f} s after it")
        else:
            print(f"{event}: no call refused (the edges' leases covered it)")
        untouched = [at for i, at in self.refused if self.served_by[i] == "core-a" and at > since]
        print(f"core-a's own accounts: {len(untouched)} calls refused meanwhile")
        for owner in ("core-a", "core-b"):
            spans = [end - sent for i, sent, end in self.spans if self.served_by[i] == owner and end > since]
            longest = max(spans, default=0.0)
            print(f"{owner}'s accounts: the longest call after it took {longest:.2f} s")

    def check_billing(self, stack: Stack) -> list[str]:
        """Every completed call billed once at its cost, 0 overspend on every cap; → the request ids."""
        ids = [request_id for _, request_id, _, _ in self.completed]

        def billed() -> bool:
            marks = ",".join("?" for _ in ids)
            rows = stack.query(f"SELECT request_id FROM usage_records WHERE request_id IN ({marks})", *ids)
            return len(rows) == len(ids)

        wait_until(billed, 30, "every completed call's usage record")
        assert not stack.query("SELECT request_id FROM usage_records GROUP BY request_id HAVING COUNT(*) > 1")
        for index, customer_id in enumerate(self.customers):
            (posted,) = stack.query(
                "SELECT COALESCE(SUM(posted_nano), 0) FROM usage_records WHERE customer_id = ?", customer_id
            )[0]
            assert int(posted) == sum(cost for i, _, _, cost in self.completed if i == index)
            assert int(posted) <= self.cap_nano  # 0 overspend, across the takeover too
        return ids


def _kill_core_b_mid_load(stack: Stack, core_b: subprocess.Popen[bytes], load: _Load, accounts: int) -> float:
    """Once every account was answered and 12 calls completed, SIGKILLs core-b; waits for core-a's
    takeover and for every customer's cap to refuse; → when it was killed (time.monotonic)."""
    wait_until(lambda: {i for i, *_ in load.completed} == set(range(accounts)), 60, "calls on both cores")
    wait_until(lambda: len(load.completed) >= 12, 60, "12 calls")
    core_a_log = stack.data_dir / "core.log"
    taken_before = core_a_log.read_text(errors="replace").count("serving 128 more partitions")
    core_b.kill()  # SIGKILL mid-load
    killed_at = time.monotonic()
    core_b.wait()
    wait_until(
        lambda: core_a_log.read_text(errors="replace").count("serving 128 more partitions") > taken_before,
        60,
        "takeover",
    )
    wait_until(lambda: len(load.capped) == accounts, 180, "every customer's cap")
    return killed_at


def test_two_active_cores_serve_their_accounts_and_the_survivor_takes_over(
    two_cores: tuple[Stack, int],
) -> None:
    stack, port_b = two_cores
    accounts = _accounts_on_both(stack)
    core_b = start_core_b(stack, port_b, stack.data_dir / "core-b.log")
    try:
        _the_rag_sweep_check_is_answered_by_both(stack, port_b)
        load = _Load(stack, accounts, [stack.base_url, stack.start_edge()])
        load.start()
        try:
            killed_at = _kill_core_b_mid_load(stack, core_b, load, len(accounts))
        finally:
            load.join()
        load.report("SIGKILL", killed_at)
        ids = load.check_billing(stack)
        assert [row[0] for row in stack.query("SELECT DISTINCT owner FROM partition_leases")] == ["core-a"]

        # The edges' request log reaches each account's core (entries sent during the takeover may
        # be dropped: the log is never money, docs/scaling.md), each call once.
        def logged_accounts() -> set[str]:
            marks = ",".join("?" for _ in ids)
            rows = stack.query(f"SELECT DISTINCT account_id FROM request_log WHERE request_id IN ({marks})", *ids)
            return {str(row[0]) for row in rows}

        wait_until(lambda: logged_accounts() == {a["id"] for a in accounts}, 30, "request log rows on both cores")
        assert not stack.query("SELECT request_id FROM request_log GROUP BY request_id HAVING COUNT(*) > 1")
        audit = stack.audit()
        assert audit.ok, audit
    finally:
        stop_process(core_b)


def _edge_without_leases(stack: Stack, leases: bool = False) -> tuple[str, subprocess.Popen[bytes]]:
    """An edge of `stack` on the per-call path (`RINGSIDE_LEASES=false`): every call a durable
    Authorize and a Settle through the routing, the calls a core's death can cut off in flight.
    With `leases`, on the fast path instead: AcquireLease, lease reports and their closes."""
    port = free_port()
    env = {**stack.env, "RINGSIDE_HTTP_PORT": str(port), "RINGSIDE_LEASES": "true" if leases else "false"}
    process = start_process([sys.executable, "-m", "ringside_cli", "edge"], env, stack.data_dir / f"edge-{port}.log")
    base_url = f"http://127.0.0.1:{port}"
    wait_until(lambda: port_open(port) and http_call("GET", base_url + "/healthz").status == 200, 60, "an edge")
    return base_url, process


@pytest.mark.parametrize("leases", [False, True], ids=["per-call", "leases"])
def test_a_cores_death_under_per_call_authorizes_leaves_no_hold_of_a_refused_call(
    two_cores: tuple[Stack, int], leases: bool
) -> None:
    """Two edges without leases, SIGKILL core-b mid-load: an Authorize or a Settle cut off in flight
    is sent again (under the edge's own request id: the taker answers with the hold core-b made, or
    replays its settle) for as long as the takeover takes. The 503s are printed (never asserted: a
    call is only cut off when it is in flight at the kill); every completed call is billed once, no
    hold of these accounts is left open or expired at its reserve (a hold whose Authorize answer was
    cut off and not resent would be), and the ledger audit is clean. With leases the same holds for
    an AcquireLease cut off in flight (resent under the edge's lease id: the taker answers with the
    lease core-b granted, which the edge then reports and closes) and for its CountRequests."""
    stack, port_b = two_cores
    accounts = _accounts_on_both(stack)
    core_b = start_core_b(stack, port_b, stack.data_dir / f"core-b-{'leases' if leases else 'per-call'}.log")
    edges = [_edge_without_leases(stack, leases), _edge_without_leases(stack, leases)]
    try:
        load = _Load(stack, accounts, [url for url, _ in edges])
        load.start()
        try:
            killed_at = _kill_core_b_mid_load(stack, core_b, load, len(accounts))
        finally:
            load.join()
        load.report(f"SIGKILL ({'leases' if leases else 'per-call path'})", killed_at)
        print(f"503s and errors after the SIGKILL: {len(load.refused)}: {load.refusals[:3]}")
        load.check_billing(stack)
        marks = ",".join("?" for _ in accounts)
        ids = [a["id"] for a in accounts]

        def open_holds() -> list[Any]:
            return stack.query(f"SELECT id FROM holds WHERE state = 'open' AND account_id IN ({marks})", *ids)

        wait_until(lambda: not open_holds(), 30, "every hold of these accounts settled")
        assert not stack.query(f"SELECT id FROM holds WHERE state = 'expired' AND account_id IN ({marks})", *ids)
        audit = stack.audit()
        assert audit.ok, audit
    finally:
        for _, process in edges:
            stop_process(process)
        stop_process(core_b)


def test_a_frozen_cores_accounts_are_served_while_it_is_frozen_and_it_cannot_write_after(
    two_cores: tuple[Stack, int],
) -> None:
    """SIGSTOP core-b mid-load: its process, its sessions and its liveness lock stay (maybe a
    commit's transaction too, its rows locked FOR SHARE). core-a claims its partitions at their
    lapse and serves them while core-b is still frozen; resumed, core-b finds them taken and stops
    with status 3, its writes never landing. Every completed call billed once, 0 overspend, the
    audit clean; the time until core-b's accounts are answered again is printed, not asserted."""
    stack, port_b = two_cores
    accounts = _accounts_on_both(stack)  # core-a alone holds every partition here
    log_b = stack.data_dir / "core-b-frozen.log"
    core_b = start_core_b(stack, port_b, log_b)
    frozen = False
    try:
        # a cap several times larger: core-b's customers still calling well after the freeze
        load = _Load(stack, accounts, [stack.base_url, stack.start_edge()], cap_calls=CAP_CALLS * 8)
        load.start()
        try:
            wait_until(lambda: {i for i, *_ in load.completed} == set(range(len(accounts))), 60, "calls on both cores")
            wait_until(lambda: len(load.completed) >= 12, 60, "12 calls")
            core_a_log = stack.data_dir / "core.log"
            taken_before = core_a_log.read_text(errors="replace").count("serving 128 more partitions")
            core_b.send_signal(signal.SIGSTOP)
            frozen, frozen_at, frozen_wall = True, time.monotonic(), time.time()
            # Past core-b's lapse (the TTL) and the edges' leases (1 s), a call needs a core to admit it.
            needs_a_core = frozen_at + LEASE_TTL_S + 1

            def answered_meanwhile() -> float:
                return min(
                    (at for i, _, at, _ in load.completed if load.served_by[i] == "core-b" and at > needs_a_core),
                    default=0.0,
                )

            answered_at = wait_until(answered_meanwhile, 60, "core-b's accounts answered while it is frozen")
            assert core_b.poll() is None  # still frozen: core-a answered them
            owners = {str(row[0]) for row in stack.query("SELECT DISTINCT owner FROM partition_leases")}
            assert owners == {"core-a"}, owners
            served = _logged_after(core_a_log, "serving 128 more partitions", taken_before)
            print(
                f"frozen: core-a served core-b's partitions {served - frozen_wall:.2f} s after SIGSTOP; "
                f"a call for core-b's accounts answered {answered_at - frozen_at:.2f} s after it"
                f" (the first past the lapse and the lease window, {needs_a_core - frozen_at:.0f} s)"
            )
            core_b.send_signal(signal.SIGCONT)
            frozen = False
            assert core_b.wait(timeout=60) == 3  # resumed, it found its partitions taken: fenced, it stops
            assert "are another core's now" in log_b.read_text(errors="replace")
            wait_until(lambda: len(load.capped) == len(accounts), 180, "every customer's cap")
        finally:
            load.join()
        load.report("SIGSTOP", frozen_at)
        load.check_billing(stack)
        assert [row[0] for row in stack.query("SELECT DISTINCT owner FROM partition_leases")] == ["core-a"]
        audit = stack.audit()
        assert audit.ok, audit
    finally:
        if frozen:
            core_b.send_signal(signal.SIGCONT)
        stop_process(core_b)


def _logged_after(log: pathlib.Path, text: str, skip: int) -> float:
    """When (epoch seconds) `log` said `text` the (skip + 1)-th time (its timestamp, to the ms)."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if text in line]
    stamp = lines[skip][:23]
    return datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def _the_rag_sweep_check_is_answered_by_both(stack: Stack, port_b: int) -> None:
    """Each core's memory holds its own accounts' objects only; the rag sweep's check asked of
    either core is answered for every partition (core/rpc/fanout.py), never from a part of them."""
    for port in (stack.grpc_port, port_b):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = files_pb2_grpc.FilesServiceStub(channel)
            answer = stub.LiveRagObjects(
                files_pb2.LiveRagObjectsRequest(file_ids=["file_x"]),
                metadata=(("x-ringside-internal", stack.internal_token),),
                timeout=10,
            )
            assert list(answer.file_ids) == [] and list(answer.served_partitions) == []


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
    accounts = _accounts_on_both(stack)  # made while core-a holds every partition
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


RPM = 5


def test_a_customers_rpm_window_moves_with_its_partition_when_it_is_handed_back(two_cores: tuple[Stack, int]) -> None:
    """core-a alone admits a customer's RPM limit in full; core-b starts and core-a hands it the
    customer's partition: the window goes along (in the release's transaction), so core-b refuses
    the next call with 429 until the first calls leave their minute — an empty window there would
    admit RPM more."""
    stack, port_b = two_cores
    account = next(a for a in (stack.new_account() for _ in range(60)) if half(a["id"]) == 1)  # core-b's half
    created = stack.call("POST", "/v1/customers", account["live"], {"external_id": "rpm", "rate_limit_rpm": RPM})
    assert created.status in (200, 201), created.body
    customer_id = created.json()["id"]
    call = _caller(stack, account["live"], customer_id)

    assert [call() for _ in range(RPM)] == [(200, "")] * RPM  # core-a admits them
    assert call() == (429, "customer_rate_limit_exceeded")
    log_b = stack.data_dir / "core-b-rpm.log"
    core_b = start_core_b(stack, port_b, log_b)
    try:
        handed = stack.data_dir / "core.log"
        wait_until(lambda: "rate-limit windows with them" in handed.read_text(errors="replace"), 30, "the hand-back")
        handed_over = re.findall(r"(\d+) rate-limit windows handed over", log_b.read_text(errors="replace"))
        assert handed_over and int(handed_over[0]) >= 1, handed_over  # the customer's at least
        _refused_by_the_new_owner(stack, call, customer_id)  # core-b counts core-a's calls
    finally:
        stop_process(core_b)


def test_a_dead_cores_rpm_windows_are_taken_over_from_its_last_checkpoint(two_cores: tuple[Stack, int]) -> None:
    """core-b admits a customer's RPM limit in full and checkpoints the window (every
    RINGSIDE_CORE_WINDOW_CHECKPOINT_S, 1 s); SIGKILL core-b: core-a takes its partitions over with
    the checkpoint and refuses the next calls with 429 — with empty windows it would admit RPM more
    (the loss a takeover had before checkpoints). The bound: only what core-b admitted after its last
    checkpoint could be admitted again; here nothing, the checkpoint holding every call."""
    stack, port_b = two_cores
    account = next(a for a in (stack.new_account() for _ in range(60)) if half(a["id"]) == 1)  # core-b's half
    log_b = stack.data_dir / "core-b-checkpoint.log"
    core_b = start_core_b(stack, port_b, log_b)
    try:
        created = stack.call("POST", "/v1/customers", account["live"], {"external_id": "ck", "rate_limit_rpm": RPM})
        assert created.status in (200, 201), created.body
        customer_id = created.json()["id"]
        call = _caller(stack, account["live"], customer_id)

        assert [call() for _ in range(RPM)] == [(200, "")] * RPM  # core-b admits them
        assert call() == (429, "customer_rate_limit_exceeded")

        def checkpointed() -> int:
            rows = stack.query(
                "SELECT entries_json FROM partition_windows WHERE window_key = ?", f'["customer","{customer_id}"]'
            )
            return sum(requests for row in rows for _, requests, _ in json.loads(row[0]))

        wait_until(lambda: checkpointed() == RPM, 30, "core-b's checkpoint of the customer's window")
        core_a_log = stack.data_dir / "core.log"
        taken_before = core_a_log.read_text(errors="replace").count("serving 128 more partitions")
        core_b.kill()  # SIGKILL: no release, no hand-back of its windows
        core_b.wait()
        wait_until(
            lambda: core_a_log.read_text(errors="replace").count("serving 128 more partitions") > taken_before,
            60,
            "core-a's takeover",
        )
        _refused_by_the_new_owner(stack, call, customer_id)  # core-a counts core-b's calls
    finally:
        stop_process(core_b)


def _caller(stack: Stack, key: str, customer_id: str) -> Callable[[], tuple[int, str]]:
    """One chat call for the customer through the edge → (status, error code or "")."""
    body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "within the minute"}]}

    def call() -> tuple[int, str]:
        answer = stack.call("POST", "/v1/chat/completions", key, body, headers={"FC-Customer": customer_id})
        return answer.status, answer.json().get("error", {}).get("code", "") if answer.status != 200 else ""

    return call


def _refused_by_the_new_owner(stack: Stack, call: Callable[[], tuple[int, str]], customer_id: str) -> None:
    """Past the edge's lease window (whatever it admits now, the partition's new owner decided):
    the customer, at its RPM on the old owner, is refused 429, and only the first RPM calls billed."""
    time.sleep(1.5)
    for _ in range(3):
        assert call() == (429, "customer_rate_limit_exceeded")
    (posted,) = stack.query("SELECT COUNT(*) FROM usage_records WHERE customer_id = ?", customer_id)[0]
    assert int(posted) == RPM


HAND_BACKS = 3


def test_calls_through_the_edges_are_all_answered_across_repeated_hand_backs(two_cores: tuple[Stack, int]) -> None:
    """core-b started and stopped cleanly HAND_BACKS times beside core-a, while every account's
    customer calls through two edges without pause: each start is a hand-back of core-b's half by
    core-a, each clean stop a takeover of it by core-a. No call is refused — no 503 from a giver
    naming itself, a taker still loading or a core stopping — and each is billed once."""
    stack, port_b = two_cores
    accounts = _accounts_on_both(stack)  # core-a alone holds every partition here
    load = _Load(stack, accounts, [stack.base_url, stack.start_edge()], cap_calls=100_000)
    events: list[tuple[float, str]] = []
    load.start()
    try:
        wait_until(lambda: {i for i, *_ in load.completed} == set(range(len(accounts))), 60, "calls on both cores")
        for cycle in range(HAND_BACKS):
            log_b = stack.data_dir / f"core-b-hand-back-{cycle}.log"
            events.append((time.monotonic(), f"core-b {cycle} starts"))
            core_b = start_core_b(stack, port_b, log_b)
            events.append((time.monotonic(), f"core-b {cycle} serves its half"))
            calls = len(load.completed)
            wait_until(lambda calls=calls: len(load.completed) >= calls + 8, 60, "calls with core-b serving")
            events.append((time.monotonic(), f"core-b {cycle} stops"))
            stop_process(core_b)  # a clean stop: core-a takes core-b's half back
            events.append((time.monotonic(), f"core-b {cycle} stopped"))
            wait_until(
                lambda: [row[0] for row in stack.query("SELECT DISTINCT owner FROM partition_leases")] == ["core-a"],
                60,
                "core-a to hold every partition again",
            )
            calls = len(load.completed)
            wait_until(lambda calls=calls: len(load.completed) >= calls + 8, 60, "calls with core-a alone")
    finally:
        load.join()
    took = sorted(end - sent for _, sent, end in load.spans)
    print(
        f"{HAND_BACKS} hand-backs and takeovers: {len(load.completed)} calls answered, {len(load.refused)} refused; "
        f"calls took {took[len(took) // 2]:.3f} s median, {took[len(took) * 99 // 100]:.3f} s p99, "
        f"{took[-1]:.3f} s longest"
    )
    for _, sent, end in sorted(load.spans, key=lambda span: span[1] - span[2])[:5]:  # the longest calls, when
        at, event = max((e for e in events if e[0] <= sent), default=(sent, "the start"))
        wall = datetime.datetime.fromtimestamp(sent + time.time() - time.monotonic()).strftime("%H:%M:%S.%f")[:-3]
        print(f"a call of {end - sent:.2f} s sent at {wall}, {sent - at:.2f} s after {event}")
    for message in sorted({re.sub(r"req_\w+|127\.0\.0\.1:\d+", "…", r) for r in load.refusals}):
        print("refused:", message)
    assert load.refusals == []
    load.check_billing(stack)
    assert stack.audit().ok
