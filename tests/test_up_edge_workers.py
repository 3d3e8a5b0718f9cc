"""`ringside up` with RINGSIDE_EDGE_WORKERS=2 (issue 24): two edge processes on one port. Calls land on
both, each process bills what it served and the sum is exact, /metrics adds both up whichever one
answers, and one killed is restarted while the other serves, its lease journal reported."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.client import HTTPException
from pathlib import Path

import pytest

from ringside_cli.listening import listens
from tests.e2e.test_concurrency import _cost_nano as cost_nano
from tests.e2e.test_metrics import scrape, value
from tests.harness import FakeUpstream, Response, http, wait_until
from tests.test_cli_up import Up, _alive, _descendants, credentials
from tests.test_up_killed import query

EDGES = 2
CALLS = 40
THREADS = 8
HOLD_TTL_S = 5
MODEL = "fc:openai/gpt-4o-mini"
ROUTE = "/v1/chat/completions"


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Up]:
    work = tmp_path_factory.mktemp("edge-workers")
    env = {
        "RINGSIDE_EDGE_WORKERS": str(EDGES),
        "RINGSIDE_HOLD_TTL_S": str(HOLD_TTL_S),
        "OPENAI_BASE_URL": upstream.base_url,
        "OPENAI_API_KEY": upstream.api_key,
    }
    running = Up.start(work / "data", work / "up.log", extra_env=env)
    try:
        running.wait_healthy()  # once the first edge serves; the banner once every edge listens
        wait_until(lambda: "Ringside is up" in running.log_path.read_text(), 60, "every edge process to listen")
        yield running
    finally:
        running.kill()


def edge_pids(up: Up) -> list[int]:
    """The live edge processes under this `ringside up`."""
    found = []
    for pid in _descendants(up.process.pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command[-2:] == [b"edge", b""] and _alive(pid):
            found.append(pid)
    return found


def call(up: Up, key: str, customer: str, content: str = "hello from one of two edges") -> Response:
    body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": content}]}
    return http("POST", up.base_url + ROUTE, key, body, headers={"FC-Customer": customer}, timeout_s=20)


def new_customer(up: Up, key: str) -> str:
    created = http("POST", f"{up.base_url}/v1/customers", key, {"external_id": f"ew_{time.monotonic_ns()}"})
    assert created.status == 201, created.body
    return str(created.json()["id"])


def served_by_each(up: Up) -> list[int]:
    """Answered chat calls in each edge process's log (`logs/edge-1.log`, …: one request line each)."""
    logs = [up.data_dir / "logs" / f"edge-{index}.log" for index in range(1, EDGES + 1)]
    return [path.read_text(errors="replace").count(f"POST {ROUTE} 200") for path in logs]


def billed(up: Up, customer: str) -> dict[str, int]:
    rows = query(up.data_dir, "", "SELECT request_id, posted_nano FROM usage_records WHERE customer_id = ?", customer)
    return {str(row[0]): int(row[1]) for row in rows}  # type: ignore[call-overload]


def test_both_edge_processes_serve_and_the_money_is_exact(up: Up) -> None:
    status = http("GET", f"{up.base_url}/healthz").json()
    assert status["roles"] == {"core": "ready", "edge": "ready", "worker": "ready", "rag": "ready"}
    assert len(edge_pids(up)) == EDGES
    key = credentials(up.data_dir)["api_key"]
    customer = new_customer(up, key)
    before = sum(served_by_each(up))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:  # a new connection per call: spread by the kernel
        answers = list(pool.map(lambda _: call(up, key, customer), range(CALLS)))

    assert [answer.status for answer in answers] == [200] * CALLS

    def logged() -> list[int] | None:
        counts = served_by_each(up)
        return counts if sum(counts) == before + CALLS else None

    counts = wait_until(logged, 10, "every call's request line")
    assert all(count > 0 for count in counts), counts  # both processes served
    costs = {answer.headers["x-request-id"]: cost_nano(answer.json()["usage"]) for answer in answers}

    def all_billed() -> dict[str, int] | None:
        posted = billed(up, customer)
        return posted if len(posted) >= CALLS else None

    posted = wait_until(all_billed, 20, "every call billed")
    assert posted == costs  # each call once, at its cost, whichever process served it
    view = http("GET", f"{up.base_url}/v1/customers/{customer}", key).json()
    assert Decimal(str(view["spend_usd_mtd"])).scaleb(9) == sum(costs.values())
    assert view["request_count_mtd"] == CALLS
    for _ in range(4):  # each scrape a new connection, to either process: the same sums
        metrics = scrape(up.base_url)
        answered = value(metrics, "ringside_http_requests_total", route=ROUTE, method="POST", status="200", code="")
        assert answered == sum(counts)


def test_a_killed_edge_process_is_restarted_and_its_journal_reported(up: Up) -> None:
    key = credentials(up.data_dir)["api_key"]
    customer = new_customer(up, key)
    pids = edge_pids(up)
    victim = pids[0]
    completed: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def load(worker: int) -> None:
        for index in range(10_000):  # bounded; `stop` ends it much sooner
            if stop.is_set():
                return
            try:
                answer = call(up, key, customer, f"[[fake:slow=10]]w{worker} {index}")
            except (OSError, HTTPException):
                continue  # a call in flight on the killed process
            if answer.status == 200:
                with lock:
                    completed[answer.headers["x-request-id"]] = cost_nano(answer.json()["usage"])

    threads = [threading.Thread(target=load, args=(worker,), daemon=True) for worker in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(completed) >= 10, 30, "calls to complete")
        os.kill(victim, signal.SIGKILL)
        # Gone means reaped (its /proc entry removed), not a zombie leader: a killed process's other
        # threads may still hold its listening socket after its main thread shows "Z", and a
        # connection the kernel hands that socket meanwhile is reset when it closes.
        wait_until(lambda: not Path(f"/proc/{victim}").exists(), 10, "the killed edge to be reaped")
        served_meanwhile = [call(up, key, customer).status for _ in range(10)]
        assert served_meanwhile == [200] * 10  # the other process kept serving
        restarted = wait_until(
            lambda: [pid for pid in edge_pids(up) if pid not in pids and listens(pid, up.http_port)],
            60,
            "the supervisor to restart the killed edge",
        )
        assert len(restarted) == 1
        assert re.search(r"ringside up: edge-\d exited with code -9; restarting", up.log_path.read_text())
        journal = up.data_dir / "lease-journal"
        wait_until(lambda: not list(journal.glob(f"{victim}-*.journal")), 30, "the killed edge's journal reported")
        edge_logs = list((up.data_dir / "logs").glob("edge-*.log"))
        assert any(f"reported {victim}-" in path.read_text(errors="replace") for path in edge_logs)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    # Every call a client saw complete is billed at its cost, through whichever process reported it
    # (the killed one's last calls from its journal). Calls cut by the kill, at most one a thread,
    # are posted when their lease ends, each at most its estimate (tests/test_up_killed.py).
    wait_until(
        lambda: query(up.data_dir, "", "SELECT COUNT(*) FROM holds WHERE state = 'open'")[0][0] == 0,
        HOLD_TTL_S * 6,
        "the killed edge's leases to end",
    )
    posted = billed(up, customer)
    assert {request_id: posted.get(request_id) for request_id in completed} == completed
    assert len(posted) <= len(completed) + 10 + len(threads)  # and the 10 served meanwhile, and the cut ones


def test_sigterm_drains_and_stops_every_edge_process(up: Up) -> None:
    pids = edge_pids(up)
    before = len(up.log_path.read_text())

    assert up.stop() == 0, up.log_tail()

    said = up.log_path.read_text()[before:]
    for index in range(1, EDGES + 1):
        assert re.search(rf"ringside up: edge-{index} stopped in ", said), said
    assert not [pid for pid in pids if _alive(pid)]
