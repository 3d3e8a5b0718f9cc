"""An IP's rate-limit window with two ACTIVE cores (issue 25, API.md "Rate limits": exact across
any number of edges, never more than the limit admitted). One IP (the test's, 127.0.0.1) calls an
account on core-a and one on core-b, each through the edge: each core admits the calls naming its
own accounts, but the IP's window is the owner's of the partition of "ip:127.0.0.1" and the other
core draws from blocks it borrows (docs/scaling.md "An IP's window across active cores"), so the IP
is admitted at most its limit in all (per-core windows admitted up to twice it)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from core.domain.ip_blocks import LAPSE_S, ip_partition_key
from ringside.core.v1 import metering_pb2, metering_pb2_grpc
from ringside_server.partitions import DEFAULT_PARTITIONS, partition_of
from tests.e2e.active_cores import fair_env, half, start_core_b
from tests.e2e.test_core_failover import MODEL
from tests.harness import FakeUpstream, Stack, free_port, stop_process, wait_until

IP_PER_MIN = 6
ADMIN_IPS = (
    "192.0.2.1",
    "192.0.2.2",
    "192.0.2.3",
)  # where the later tests make their accounts from (admin requests count)
BODY = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "one ip"}]}


def core_b_ip(nth: int) -> str:
    """The `nth` client IP whose window core-b owns (its partition in core-b's half)."""
    return sorted(_core_b_ips(), key=lambda ip: int(ip.rsplit(".", 1)[1]))[nth]


def one_in_each_half(stack: Stack, test: int) -> list[dict[str, Any]]:
    """`accounts_on_both(stack, 1)`, each account made from an IP of its own (an admin request
    counts against its IP's limit too): core-a's, then core-b's."""
    halves: dict[int, dict[str, Any]] = {}
    for n in range(1, 60):
        account = stack.new_account(f"10.{test}.0.{n}")
        halves.setdefault(half(account["id"]), account)
        if len(halves) == 2:
            return [halves[0], halves[1]]
    raise AssertionError("60 accounts never filled both halves")


def call_as(stack: Stack, account: dict[str, Any], ip: str) -> int:
    """A model call from client `ip` (the edge trusts the test's X-Forwarded-For)."""
    return stack.call("POST", "/v1/chat/completions", account["live"], BODY, headers={"X-Forwarded-For": ip}).status


def core_a_took_over(stack: Stack) -> bool:
    owners = {str(row[0]) for row in stack.query("SELECT DISTINCT owner FROM partition_leases")}
    return (
        owners == {"core-a"}
        and (stack.data_dir / "core.log").read_text(errors="replace").count("serving 128 more partitions") >= 1
    )


pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def two_cores(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[tuple[Stack, int]]:
    stack = Stack("postgres", tmp_path_factory.mktemp("ipwindows") / "data", upstream)
    port_b = free_port()
    stack.extra_env.update(fair_env(stack, port_b))
    stack.extra_env["RINGSIDE_RATE_LIMIT_IP_PER_MIN"] = str(IP_PER_MIN)
    stack.extra_env["RINGSIDE_TRUSTED_PROXIES"] = "127.0.0.1/32"
    # no periodic checkpoint during a test: a lent block reaches a taker only by its lend's own write
    stack.extra_env["RINGSIDE_CORE_WINDOW_CHECKPOINT_S"] = "60"
    stack.start()
    try:
        yield stack, port_b
    finally:
        stack.destroy()


def test_one_ip_calling_accounts_on_both_cores_is_admitted_at_most_its_limit(two_cores: tuple[Stack, int]) -> None:
    stack, port_b = two_cores
    accounts = one_in_each_half(stack, 1)  # made while core-a is alone
    assert sorted(half(a["id"]) for a in accounts) == [0, 1]
    core_b = start_core_b(stack, port_b, stack.data_dir / "core-b-ip.log")
    try:
        answers = [
            stack.call("POST", "/v1/chat/completions", accounts[call % 2]["live"], BODY).status
            for call in range(2 * IP_PER_MIN + 2)
        ]
        assert set(answers) <= {200, 429}, answers
        assert answers.count(200) <= IP_PER_MIN, answers  # per-core windows: up to IP_PER_MIN on each
    finally:
        stop_process(core_b)


def test_the_owner_of_an_ips_window_unreachable_its_calls_are_admitted_counted_locally(
    two_cores: tuple[Stack, int],
) -> None:
    """Fail open (docs/scaling.md "An IP's window across active cores"): core-b, owning the IP's
    window, is frozen; core-a, asking it for a block in vain, counts the IP in its own window at
    the full limit meanwhile — admitted up to the limit, then 429, never a 503 or a 429 for a fault
    that is not the client's."""
    stack, port_b = two_cores
    ip = core_b_ip(0)
    account = one_in_each_half(stack, 2)[0]  # core-a's
    core_b = start_core_b(stack, port_b, stack.data_dir / "core-b-frozen-ip.log")
    frozen = False
    try:
        core_b.send_signal(signal.SIGSTOP)
        frozen = True
        answers = [call_as(stack, account, ip) for _ in range(IP_PER_MIN + 1)]
        assert answers == [200] * IP_PER_MIN + [429], answers
        # it did ask the frozen owner (no answer within the borrow's timeout), not a stale channel
        core_log = (stack.data_dir / "core.log").read_text(errors="replace")
        assert f"127.0.0.1:{port_b} answered StatusCode.DEADLINE_EXCEEDED" in core_log
    finally:
        if frozen:
            core_b.send_signal(signal.SIGCONT)
        stop_process(core_b)
    wait_until(lambda: core_a_took_over(stack), 60, "core-a alone again")


def test_a_core_taking_over_a_dead_owner_counts_the_blocks_it_had_lent(two_cores: tuple[Stack, int]) -> None:
    """core-a borrows a block (2 of the 6) of an IP's window from core-b, admits one call under
    it; core-b is SIGKILLed before the block comes back. core-a takes core-b's partitions over
    with the IP's window as core-b wrote it when it lent the block: the block counts whole, so the
    IP is admitted 6 - 2 more, never 6 more."""
    stack, port_b = two_cores
    ip = core_b_ip(1)
    account = one_in_each_half(stack, 3)[0]
    core_b = start_core_b(stack, port_b, stack.data_dir / "core-b-killed-ip.log")
    try:
        taken_before = (stack.data_dir / "core.log").read_text(errors="replace").count("serving 128 more partitions")
        assert call_as(stack, account, ip) == 200  # under a block of 2 lent by core-b
        core_b.send_signal(signal.SIGKILL)
        core_b.wait(timeout=30)
        wait_until(
            lambda: (
                (stack.data_dir / "core.log").read_text(errors="replace").count("serving 128 more partitions")
                > taken_before
            ),
            60,
            "core-a serving core-b's partitions",
        )
        answers = [call_as(stack, account, ip) for _ in range(IP_PER_MIN + 2)]
        assert set(answers) <= {200, 429}, answers
        assert answers.count(200) == IP_PER_MIN - 2, answers  # per-core windows (or a lost lend): 6
    finally:
        stop_process(core_b)


def test_lend_ip_block_is_for_cores_only_and_answers_bad_input_and_another_cores_ip_clearly(
    two_cores: tuple[Stack, int],
) -> None:
    """The core-to-core RPC: the internal token or nothing; an IP is needed; an IP whose window
    another core owns is "not owner" naming that core (the borrower follows it once)."""
    stack, port_b = two_cores
    core_b = start_core_b(stack, port_b, stack.data_dir / "core-b-rpc.log")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{stack.grpc_port}") as channel:
            lend = metering_pb2_grpc.MeteringServiceStub(channel).LendIpBlock
            internal = (("x-ringside-internal", stack.internal_token),)
            with pytest.raises(grpc.RpcError) as refused:
                lend(metering_pb2.LendIpBlockRequest(ip="203.0.113.9", want=4), timeout=10)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.RpcError) as bad:
                lend(metering_pb2.LendIpBlockRequest(ip="", want=4), metadata=internal, timeout=10)
            assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            with pytest.raises(grpc.RpcError) as other:
                lend(metering_pb2.LendIpBlockRequest(ip=core_b_ip(2), want=4), metadata=internal, timeout=10)
            assert other.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            trailing = dict(other.value.trailing_metadata() or ())
            assert trailing["ringside-owner-address"] == f"127.0.0.1:{port_b}"
            mine = next(ip for ip in (f"198.51.100.{n}" for n in range(1, 255)) if ip not in _core_b_ips())
            block = lend(metering_pb2.LendIpBlockRequest(ip=mine, want=1_000), metadata=internal, timeout=10)
            assert (block.size, block.limit, block.lapse_ms) == (3, IP_PER_MIN, 2000)  # half the room, 64 at most
            back = lend(
                metering_pb2.LendIpBlockRequest(
                    ip=mine, want=1_000, returned=[metering_pb2.ReturnedIpBlock(block_id=block.block_id, used=0)]
                ),
                metadata=internal,
                timeout=10,
            )
            assert back.size == 3  # the first block given back unused: the whole room again, half lent
    finally:
        stop_process(core_b)


def _core_b_ips() -> set[str]:
    return {
        ip
        for ip in (f"198.51.100.{n}" for n in range(1, 255))
        if partition_of(ip_partition_key(ip), DEFAULT_PARTITIONS) % 2 == 1
    }


def test_a_block_left_idle_is_given_back_with_its_unused_part(two_cores: tuple[Stack, int]) -> None:
    """core-a borrows a block of 2 from core-b for one call, then the IP goes quiet: once the block
    lapses core-a gives it back alone (core/services/ip_blocks.py `_keep_returning`), and core-b
    counts the 1 request used, not 2 — its next lend is half of 5, rounded up, not half of 4."""
    stack, port_b = two_cores
    ip = core_b_ip(3)
    account = one_in_each_half(stack, 4)[0]
    core_b = start_core_b(stack, port_b, stack.data_dir / "core-b-idle.log")
    try:
        assert call_as(stack, account, ip) == 200  # under a block of 2 lent by core-b
        time.sleep(LAPSE_S + 2.0)  # lapsed, and the idle return (every second) sent
        with grpc.insecure_channel(f"127.0.0.1:{port_b}") as channel:
            lend = metering_pb2_grpc.MeteringServiceStub(channel).LendIpBlock
            internal = (("x-ringside-internal", stack.internal_token),)
            block = lend(metering_pb2.LendIpBlockRequest(ip=ip, want=1_000), metadata=internal, timeout=10)
        assert block.size == 3, block  # 2: the block still counted whole
    finally:
        stop_process(core_b)
