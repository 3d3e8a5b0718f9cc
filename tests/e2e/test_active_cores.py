"""Two ACTIVE cores on one PostgreSQL database (RINGSIDE_CORE_SHARE=fair, issue 25): each owns
its share of the partitions and loads only their accounts; two edges route every call to its
account's owner (a "not owner" answer names it). Accounts on both cores are served through both
edges, each customer's budget cap holds exactly (0 overspend); SIGKILL one core mid-load: the
survivor takes its partitions over (its open holds and leases as they are), every completed call
is billed once and the ledger audit is clean. The takeover time is printed, never asserted. And
core-b started and stopped cleanly over and over beside core-a while every account calls: no call
refused, each billed once. (The calls that list across accounts: test_active_cores_fanout.py; the
rate-limit windows a partition takes along: test_active_cores_windows.py.)"""

from __future__ import annotations

import datetime
import pathlib
import re
import signal
import subprocess
import sys
import time
from typing import Any

import grpc
import pytest

from ringside.core.v1 import files_pb2, files_pb2_grpc
from tests.e2e.active_cores import LEASE_TTL_S, start_core_b
from tests.e2e.active_cores_load import CAP_CALLS, Load, kill_core_b_mid_load, load_accounts
from tests.harness import Stack, free_port, port_open, start_process, stop_process, wait_until
from tests.harness import http as http_call

pytestmark = pytest.mark.postgres


def test_two_active_cores_serve_their_accounts_and_the_survivor_takes_over(
    two_cores: tuple[Stack, int],
) -> None:
    stack, port_b = two_cores
    accounts = load_accounts(stack)
    core_b = start_core_b(stack, port_b, stack.data_dir / "core-b.log")
    try:
        _the_rag_sweep_check_is_answered_by_both(stack, port_b)
        load = Load(stack, accounts, [stack.base_url, stack.start_edge()])
        load.start()
        try:
            killed_at = kill_core_b_mid_load(stack, core_b, load, len(accounts))
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
    accounts = load_accounts(stack)
    core_b = start_core_b(stack, port_b, stack.data_dir / f"core-b-{'leases' if leases else 'per-call'}.log")
    edges = [_edge_without_leases(stack, leases), _edge_without_leases(stack, leases)]
    try:
        load = Load(stack, accounts, [url for url, _ in edges])
        load.start()
        try:
            killed_at = kill_core_b_mid_load(stack, core_b, load, len(accounts))
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
    accounts = load_accounts(stack)  # core-a alone holds every partition here
    log_b = stack.data_dir / "core-b-frozen.log"
    core_b = start_core_b(stack, port_b, log_b)
    frozen = False
    try:
        # a cap several times larger: core-b's customers still calling well after the freeze
        load = Load(stack, accounts, [stack.base_url, stack.start_edge()], cap_calls=CAP_CALLS * 8)
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


HAND_BACKS = 3


def test_calls_through_the_edges_are_all_answered_across_repeated_hand_backs(two_cores: tuple[Stack, int]) -> None:
    """core-b started and stopped cleanly HAND_BACKS times beside core-a, while every account's
    customer calls through two edges without pause: each start is a hand-back of core-b's half by
    core-a, each clean stop a takeover of it by core-a. No call is refused — no 503 from a giver
    naming itself, a taker still loading or a core stopping — and each is billed once."""
    stack, port_b = two_cores
    accounts = load_accounts(stack)  # core-a alone holds every partition here
    load = Load(stack, accounts, [stack.base_url, stack.start_edge()], cap_calls=100_000)
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
