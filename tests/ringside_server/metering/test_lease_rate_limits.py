"""The edge admits no more calls under a lease than the request slots and tokens the core reserved,
and reports the limits left (x-ratelimit-*) as it sees them."""

from __future__ import annotations

from ringside.core.v1 import metering_pb2
from ringside_server.metering.leases import LeaseManager, Ticket
from ringside_server.openai.ratelimits import RateView, duration
from tests.ringside_server.metering.lease_fakes import FakeClock, FakeCore, call, ticket


async def test_a_lease_admits_exactly_its_request_slots_then_asks_again(manager: LeaseManager, core: FakeCore) -> None:
    core.lease_calls = 3
    tickets = [await ticket(manager) for _ in range(4)]
    assert [t.lease.id for t in tickets] == ["lse_0", "lse_0", "lse_0", "lse_1"]
    assert len(core.asked()) == 2


async def test_a_lease_admits_no_more_tokens_than_it_reserved(manager: LeaseManager, core: FakeCore) -> None:
    core.lease_tokens = 5_000  # two calls of 1,000 prompt + 1,000 output fit, not three
    first, second, third = [await ticket(manager) for _ in range(3)]
    assert first.lease is second.lease
    assert third.lease is not first.lease


async def test_the_lease_path_reports_the_limits_left_counting_its_unused_slots(
    manager: LeaseManager, core: FakeCore, clock: FakeClock
) -> None:
    core.rate_limits = metering_pb2.RateLimitStatus(
        requests_limit=100, requests_remaining=80, requests_reset_ms=60_000, tokens_limit=0
    )
    core.lease_calls = 4
    first = await ticket(manager)
    await manager.flush()  # its admission reported, as the edge does every report interval
    clock.now += 0.5
    second = await ticket(manager)
    assert first.rate == RateView(100, 83, 60_000)
    assert second.rate == RateView(100, 82, 59_500)


async def test_no_rate_headers_when_no_limit_applies(manager: LeaseManager) -> None:
    admitted = await manager.admit(call())
    assert isinstance(admitted, Ticket)
    assert admitted.rate is None


def test_headers_name_the_tightest_layer_as_openai_does() -> None:
    headers = RateView(60, 59, 1_000, 150_000, 148_000, 360_000).headers()
    assert headers == {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
        "X-RateLimit-Remaining": "59",
        "x-ratelimit-limit-tokens": "150000",
        "x-ratelimit-remaining-tokens": "148000",
        "x-ratelimit-reset-tokens": "6m0s",
    }


def test_durations_are_written_like_openais() -> None:
    assert [duration(ms) for ms in (0, 20, 999, 1_000, 8_640, 59_999, 60_000, 61_500, 3_600_000)] == [
        "0s",
        "20ms",
        "999ms",
        "1s",
        "8.64s",
        "59.999s",
        "1m0s",
        "1m1.5s",
        "1h0m0s",
    ]
