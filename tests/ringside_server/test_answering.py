"""ringside_server/answering.py: the edge's background calls to the core wait for a spell with no
request in flight (bounded), so that a request does not share its time with them (issue 24 target 3).
"No request in flight" is counted, so each test says when requests start and end; the bounds are
set far beyond a test's run except where a bound is what is tested."""

from __future__ import annotations

import asyncio

from ringside_server.answering import Answering

NEVER_S = 60.0  # a wait limit no test reaches


async def turns(count: int = 10) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_an_idle_edge_does_its_background_work_at_once() -> None:
    answering = Answering(wait_limit_s=NEVER_S)
    await asyncio.wait_for(answering.quiet(), timeout=5.0)


async def test_background_work_waits_until_the_request_in_flight_is_answered() -> None:
    answering = Answering(wait_limit_s=NEVER_S, after_s=0.0)
    answering.started()
    answering.started()
    waiting = asyncio.create_task(answering.quiet())
    await turns()
    assert not waiting.done()
    answering.ended()
    await turns()
    assert not waiting.done(), "one request is still in flight"
    answering.ended()
    await asyncio.wait_for(waiting, timeout=5.0)


async def test_it_leaves_the_answer_a_moment_to_reach_its_client() -> None:
    answering = Answering(wait_limit_s=NEVER_S, after_s=NEVER_S / 2)
    answering.started()
    answering.ended()
    waiting = asyncio.create_task(answering.quiet())
    await turns()
    assert not waiting.done(), "answered just now: the spell is not quiet yet"
    waiting.cancel()


async def test_a_busy_edge_still_does_its_background_work_within_the_limit() -> None:
    answering = Answering(wait_limit_s=0.01)
    answering.started()  # never answered
    await asyncio.wait_for(answering.quiet(), timeout=5.0)
    assert answering.in_flight == 1


async def test_a_refresh_ahead_waits_no_longer_than_half_its_entrys_life() -> None:
    answering = Answering(wait_limit_s=NEVER_S)
    answering.started()  # never answered
    await asyncio.wait_for(answering.quiet_within(expires_at=100.02, now=100.0)(), timeout=5.0)


async def test_recurring_work_follows_the_next_answer_when_the_edge_has_been_quiet_a_while() -> None:
    answering = Answering(wait_limit_s=NEVER_S, after_s=0.0)
    waiting = asyncio.create_task(answering.quiet(follow_s=0.005))  # nothing answered yet
    await turns()
    assert not waiting.done()
    answering.started()
    await turns()
    assert not waiting.done()
    answering.ended()
    await asyncio.wait_for(waiting, timeout=5.0)


async def test_recurring_work_goes_at_once_right_after_an_answer() -> None:
    answering = Answering(wait_limit_s=NEVER_S, after_s=0.0)
    answering.started()
    answering.ended()
    await asyncio.wait_for(answering.quiet(follow_s=NEVER_S), timeout=5.0)
