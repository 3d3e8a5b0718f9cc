"""An IP's rate-limit window with two ACTIVE cores (issue 25, API.md "Rate limits": exact across
any number of edges, never more than the limit admitted). One IP (the test's, 127.0.0.1) calls an
account on core-a and one on core-b, each through the edge: with today's per-core IP windows each
owner counts only the calls naming its own accounts, so the IP is admitted up to twice its limit.
Marked xfail (strict) until the IP layer is exact across cores (docs/scaling.md "Not built yet"):
the day it passes, the mark must go."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.active_cores import accounts_on_both, fair_env, half, start_core_b
from tests.e2e.test_core_failover import MODEL
from tests.harness import FakeUpstream, Stack, free_port, stop_process

IP_PER_MIN = 6
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def two_cores(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[tuple[Stack, int]]:
    stack = Stack("postgres", tmp_path_factory.mktemp("ipwindows") / "data", upstream)
    port_b = free_port()
    stack.extra_env.update(fair_env(stack, port_b))
    stack.extra_env["RINGSIDE_RATE_LIMIT_IP_PER_MIN"] = str(IP_PER_MIN)
    stack.start()
    try:
        yield stack, port_b
    finally:
        stack.destroy()


@pytest.mark.xfail(strict=True, reason="issue 25: an IP's window is counted per core (docs/scaling.md 'Not built yet')")
def test_one_ip_calling_accounts_on_both_cores_is_admitted_at_most_its_limit(two_cores: tuple[Stack, int]) -> None:
    stack, port_b = two_cores
    accounts = accounts_on_both(stack, 1)  # made while core-a is alone: one in each core's half
    assert sorted(half(a["id"]) for a in accounts) == [0, 1]
    core_b = start_core_b(stack, port_b, stack.data_dir / "core-b-ip.log")
    try:
        body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "one ip"}]}
        answers = [
            stack.call("POST", "/v1/chat/completions", accounts[call % 2]["live"], body).status
            for call in range(2 * IP_PER_MIN + 2)
        ]
        assert set(answers) <= {200, 429}, answers
        assert answers.count(200) <= IP_PER_MIN, answers  # main: up to IP_PER_MIN on each core
    finally:
        stop_process(core_b)
