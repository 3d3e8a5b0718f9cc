"""CountRequest asked again under the edge's request id (its first answer cut off, maybe by its
core freezing past the routing's ping timeout): answered as first, counted once
(core/domain/recent_counts.py, core/domain/metering.py `count_request`)."""

from __future__ import annotations

from core.domain.entities import Denial
from core.domain.ratelimit import WINDOW_S, Layer, Status
from core.domain.recent_counts import RecentCounts
from tests.core.domain.world import World

IP = [Layer("ip_rate_limit_exceeded", ("ip", "203.0.113.9"), 3)]


def _remaining(decision: Status | Denial) -> int:
    assert isinstance(decision, Status), decision
    return decision.requests_remaining


def test_a_count_asked_again_under_its_request_id_counts_nothing_more() -> None:
    world = World()
    first = world.meter.count_request(IP, "req_countedonce0001")
    again = world.meter.count_request(IP, "req_countedonce0001")
    assert again == first and _remaining(first) == 2
    assert _remaining(world.meter.count_request(IP, "req_countedonce0002")) == 1  # another request: counted
    assert _remaining(world.meter.count_request(IP)) == 0  # no id: counted each time, as before
    refused = world.meter.count_request(IP, "req_countedonce0003")
    assert isinstance(refused, Denial) and refused.code == "ip_rate_limit_exceeded"
    assert world.meter.count_request(IP, "req_countedonce0001") == first  # still its first answer


def test_a_refused_count_is_decided_again_when_asked_again() -> None:
    """A refusal counted nothing: asked again once there is room, the request is counted."""
    world = World()
    for n in range(3):
        world.meter.count_request(IP, f"req_fillthewindow{n:03d}")
    assert isinstance(world.meter.count_request(IP, "req_refusedfirst0001"), Denial)
    world.clock.now += WINDOW_S
    assert _remaining(world.meter.count_request(IP, "req_refusedfirst0001")) == 2


def test_request_ids_are_forgotten_after_the_window_and_beyond_the_bound() -> None:
    recent = RecentCounts(window_s=60.0, limit=2)
    status = Status(requests_limit=3, requests_remaining=2)
    recent.remember("req_a", 0.0, status)
    assert recent.answer("req_a", 59.0) == status
    assert recent.answer("req_a", 60.5) is None  # out of the window: a new request under an old id
    for n, request_id in enumerate(["req_b", "req_c", "req_d"]):
        recent.remember(request_id, 100.0 + n, status)
    assert [recent.answer(request_id, 103.0) for request_id in ["req_b", "req_c", "req_d"]] == [None, status, status]
