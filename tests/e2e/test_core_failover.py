"""Two cores on one PostgreSQL database and two edges that know both (issue 25, DECISIONS.md 25):
the first core holds every partition; the second waits as a standby, its gRPC port closed, while the
first's lease rows are live. SIGKILL the first mid-load: its liveness lock goes with its session, the
standby takes its partitions at once, loads the state (the dead core's open holds and leases as they
are), opens its port, and the edges' channels — a list of both addresses — reach it; calls succeed
again until a customer's budget cap refuses them; every completed call is billed once, the cap is
never passed, the ledger audit is clean. Then a core paused (SIGSTOP) past its lease loses its
partitions to another standby at their lapse and, resumed, stops. The takeover time is printed (a
measurement, never asserted: bench/takeover.py measures it at scale)."""

from __future__ import annotations

import http.client
import pathlib
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from ringside_server.admission import estimate_nano, estimate_rates
from ringside_server.metering.settlement import price_of
from ringside_server.money_proto import price_from
from ringside_server.openai.estimate import input_tokens_bound
from ringside_server.openai.price_classes import chat_classes
from ringside_server.providers.catalog.load import load_catalog
from tests.e2e.test_concurrency import _cost_nano as cost_nano
from tests.harness import FakeUpstream, Stack, free_port, start_process, stop_process, wait_until
from tests.harness import http as http_call

MODEL = "fc:openai/gpt-4o-mini"
LEASE_TTL_S = 2
LOAD_THREADS = 4
# The customer's budget in calls' estimates: past the 40 the test waits for, well short of minutes.
CAP_CALLS = 80
pytestmark = pytest.mark.postgres


@dataclass
class Cores:
    """The stack's core (`core-a`) and the standbys started beside it, each on a port the edge's
    channel already lists."""

    stack: Stack
    ports: dict[str, int]
    standbys: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def log(self, name: str) -> pathlib.Path:
        return self.stack.data_dir / f"{name}.log"

    def start_standby(self, name: str) -> subprocess.Popen[bytes]:
        env = {
            **self.stack.env,
            "RINGSIDE_GRPC_PORT": str(self.ports[name]),
            "RINGSIDE_CORE_ID": name,
            "RINGSIDE_LOG_LEVEL": "INFO",
        }
        log = self.log(name)
        process = start_process([sys.executable, "-m", "ringside_cli", "core"], env, log)
        self.standbys[name] = process
        wait_until(lambda: "waits for 256 partitions" in log.read_text(errors="replace"), 60, f"{name} to wait")
        return process

    def process_of(self, name: str) -> subprocess.Popen[bytes]:
        process = self.stack.core if name == "core-a" else self.standbys[name]
        assert process is not None
        return process

    def audit_through(self, name: str) -> None:
        self.stack.grpc_port = self.ports[name]  # the audit asks the core that owns the ledger now
        audit = self.stack.audit()
        assert audit.ok, audit


@pytest.fixture(scope="module")
def cores(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Cores]:
    stack = Stack("postgres", tmp_path_factory.mktemp("failover") / "data", upstream)
    ports = {"core-a": stack.grpc_port, "core-b": free_port(), "core-c": free_port()}
    stack.extra_env.update(
        {
            "RINGSIDE_CORE_LEASE_TTL_S": str(LEASE_TTL_S),
            # the edge's channel: every core, the first reachable one serving (only an owner listens)
            "RINGSIDE_CORE_ADDRESS": "ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports.values()),
            "RINGSIDE_CORE_ID": "core-a",
            "RINGSIDE_CORE_SHARE": "all",  # one active core and its standbys (`fair` is the default)
        }
    )
    running = Cores(stack.start(), ports)
    try:
        yield running
    finally:
        for process in running.standbys.values():
            stop_process(process)
        stack.destroy()


def _owners(stack: Stack) -> list[tuple[str]]:
    return [(str(row[0]),) for row in stack.query("SELECT DISTINCT owner FROM partition_leases")]


def test_the_standby_takes_over_a_killed_core_and_every_call_is_billed_once(cores: Cores) -> None:
    """Two edges, a customer with a budget cap: calls before the kill, through the takeover (the
    dead core's open holds and leases adopted as they are) and after it until the cap refuses them.
    Every completed call is billed once and the cap is never passed."""
    stack = cores.stack
    cores.start_standby("core-b")
    edges = [stack.base_url, stack.start_edge()]
    standby_log = cores.log("core-b")
    cap_nano = CAP_CALLS * _estimate_nano()
    fields = {"external_id": "fo_" + secrets.token_hex(4), "budget_usd": str(Decimal(cap_nano).scaleb(-9))}
    customer = stack.call("POST", "/v1/customers", stack.live_key, fields)
    customer_id = customer.json()["id"]
    completed: list[tuple[str, float, int]] = []  # (request id, when it completed, its cost)
    refused: list[float] = []  # when a call was refused (503) or cut off: the takeover window
    capped: list[int] = []  # workers the budget refused (402): they stop
    stop = threading.Event()

    def load(worker: int) -> None:
        for index in range(100_000):  # bounded; the cap or the test stops it much sooner
            if stop.is_set():
                return
            body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": f"w{worker} c{index}"}]}
            try:
                response = http_call(
                    "POST",
                    edges[(worker + index) % len(edges)] + "/v1/chat/completions",
                    stack.live_key,
                    body,
                    headers={"FC-Customer": customer_id},
                    timeout_s=15,
                )
            except (OSError, http.client.HTTPException):
                refused.append(time.monotonic())
                continue
            if response.status == 200:
                completed.append(
                    (response.headers["x-request-id"], time.monotonic(), cost_nano(response.json()["usage"]))
                )
            elif response.status == 402:
                assert response.json()["error"]["code"] == "customer_budget_exceeded", response.body
                capped.append(worker)
                return
            else:
                assert response.status == 503, response.body  # the takeover window: retry, never a 5xx of ours
                refused.append(time.monotonic())
                time.sleep(0.05)

    threads = [threading.Thread(target=load, args=(w,), daemon=True) for w in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(completed) >= 20, 60, "20 calls through the first core")
        assert stack.core is not None
        stack.core.kill()  # SIGKILL: no drain, its lease rows stay until they lapse
        killed_at = time.monotonic()
        stack.core.wait()
        # The edge admits on its leases for up to a lease window without the core; then calls are
        # refused until the standby serves. Recovered: the first call answered after the last refusal.
        wait_until(lambda: "core serving gRPC" in standby_log.read_text(errors="replace"), 60, "the standby to serve")
        served = len(completed)
        wait_until(lambda: len(completed) >= served + 20, 60, "20 more calls through the standby")
        wait_until(lambda: len(capped) == LOAD_THREADS, 120, "the budget cap to refuse every worker")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
    if refused:
        recovered = min((at for _, at, _ in completed if at > max(refused)), default=float("nan"))
        print(f"takeover: {len(refused)} calls refused; answered again {recovered - killed_at:.2f} s after the SIGKILL")
    else:
        print("takeover: no call refused (the edge's leases covered the whole takeover)")

    ids = [request_id for request_id, _, _ in completed]

    def billed() -> bool:  # the live edge's lease reports reach the new owner
        placeholders = ",".join("?" for _ in ids)
        return len(
            stack.query(f"SELECT request_id FROM usage_records WHERE request_id IN ({placeholders})", *ids)
        ) == len(ids)

    wait_until(billed, 30, "every completed call's usage record")
    assert not stack.query("SELECT request_id FROM usage_records GROUP BY request_id HAVING COUNT(*) > 1")
    (posted_nano,) = stack.query(
        "SELECT COALESCE(SUM(posted_nano), 0) FROM usage_records WHERE customer_id = ?", customer_id
    )[0]
    assert int(posted_nano) == sum(cost for _, _, cost in completed)  # each answered call at its cost, nothing else
    assert int(posted_nano) <= cap_nano  # 0 overspend across the takeover
    print(f"cap: {len(completed)} calls answered, {int(posted_nano) * 100 // cap_nano}% of the cap posted")
    assert _owners(stack) == [("core-b",)]
    cores.audit_through("core-b")


def _estimate_nano() -> int:
    """What admission holds for one of the load's calls (the longest body it sends)."""
    body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "w9 c99999"}]}
    model = load_catalog()[MODEL]
    price = estimate_rates(price_from(price_of(model)), chat_classes(body))
    return estimate_nano(input_tokens_bound(body, model.max_image_tokens), 8, 1, price, 0)


def test_a_paused_core_that_lost_its_partitions_stops_and_calls_go_on(cores: Cores) -> None:
    """SIGSTOP the active core past its lease: a standby takes its partitions over and the edge —
    whose keepalive pings the frozen core no longer answers, its TCP connection still open — moves
    to it while the paused core is still frozen. Resumed, the paused core finds its partitions taken
    at its next renewal and stops (status 3) — its writes were refused meanwhile by the fence
    (tests/core/store/test_partition_leases.py shows a fenced write leaves no row, an account-less
    one included) — and the ledger audit is clean."""
    stack = cores.stack
    (owner,) = _owners(stack)[0]
    paused = cores.process_of(owner)
    cores.start_standby("core-c")
    body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "after the pause"}]}
    longest_s = 0.0

    def answered() -> bool:
        nonlocal longest_s
        started = time.monotonic()
        try:
            url = stack.base_url + "/v1/chat/completions"
            return http_call("POST", url, stack.live_key, body, timeout_s=15).status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            longest_s = max(longest_s, time.monotonic() - started)

    paused.send_signal(signal.SIGSTOP)
    paused_at = time.monotonic()
    try:
        wait_until(lambda: "core serving gRPC" in cores.log("core-c").read_text(errors="replace"), 60, "core-c")
        # Still frozen. Without the channel's 2 s ping timeout (gRPC's default is 60 s) the edge stayed on it.
        wait_until(answered, 30, "a call through core-c while the paused core is frozen")
        again_s = time.monotonic() - paused_at
        print(f"pause: answered again {again_s:.2f} s after SIGSTOP; the longest call took {longest_s:.2f} s")
    finally:
        paused.send_signal(signal.SIGCONT)
    assert paused.wait(timeout=60) == 3
    assert "lost partitions to another core" in cores.log("core" if owner == "core-a" else owner).read_text()
    assert _owners(stack) == [("core-c",)]
    wait_until(answered, 60, "a call through core-c")
    assert not stack.query("SELECT request_id FROM usage_records GROUP BY request_id HAVING COUNT(*) > 1")
    cores.audit_through("core-c")
