"""SingleFlight: one fetch per key while it is in flight, its outcome shared."""

from __future__ import annotations

import asyncio

import pytest

from ringside_server.errors import RingsideError
from ringside_server.single_flight import SingleFlight


class Asked:
    """A fetch that counts its calls and answers when released."""

    def __init__(self, answer: object = "lists") -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.answer = answer

    async def __call__(self) -> object:
        self.calls += 1
        await self.release.wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def test_concurrent_callers_share_one_fetch_and_a_later_one_asks_again() -> None:
    flights: SingleFlight[str, object] = SingleFlight()
    asked = Asked()
    waiting = [asyncio.create_task(flights.run("key", asked)) for _ in range(20)]
    await asyncio.sleep(0)
    asked.release.set()
    assert await asyncio.gather(*waiting) == ["lists"] * 20
    assert asked.calls == 1
    assert len(flights) == 0  # done: the next miss asks anew
    assert await flights.run("key", asked) == "lists"
    assert asked.calls == 2


async def test_other_keys_ask_on_their_own() -> None:
    flights: SingleFlight[str, object] = SingleFlight()
    asked = Asked()
    asked.release.set()
    assert await asyncio.gather(flights.run("a", asked), flights.run("b", asked)) == ["lists", "lists"]
    assert asked.calls == 2


async def test_an_error_reaches_every_caller() -> None:
    flights: SingleFlight[str, object] = SingleFlight()
    asked = Asked(RingsideError("invalid_api_key", "Incorrect API key provided."))
    waiting = [asyncio.create_task(flights.run("key", asked)) for _ in range(3)]
    await asyncio.sleep(0)
    asked.release.set()
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert [getattr(outcome, "code", None) for outcome in outcomes] == ["invalid_api_key"] * 3
    assert asked.calls == 1


async def test_the_first_caller_leaving_does_not_cancel_the_others_answer() -> None:
    flights: SingleFlight[str, object] = SingleFlight()
    asked = Asked()
    first = asyncio.create_task(flights.run("key", asked))
    second = asyncio.create_task(flights.run("key", asked))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    asked.release.set()
    assert await second == "lists"
    assert asked.calls == 1


async def test_after_forget_a_caller_asks_anew_and_those_waiting_keep_their_answer() -> None:
    flights: SingleFlight[str, object] = SingleFlight()
    before, after = Asked("old"), Asked("new")
    waiting = asyncio.create_task(flights.run("key", before))
    await asyncio.sleep(0)
    flights.forget()
    fresh = asyncio.create_task(flights.run("key", after))
    await asyncio.sleep(0)
    before.release.set()
    after.release.set()
    assert (await waiting, await fresh) == ("old", "new")
    assert (before.calls, after.calls) == (1, 1)


async def test_a_refresh_asks_once_what_it_waits_for_first_is_done() -> None:
    """A refresh ahead waits for a quiet spell (answering.py) before its question goes."""
    flights: SingleFlight[str, object] = SingleFlight()
    asked = Asked()
    asked.release.set()
    quiet = asyncio.Event()
    flights.refresh("key", asked, quiet.wait)
    for _ in range(10):
        await asyncio.sleep(0)
    assert asked.calls == 0
    flights.refresh("key", asked, quiet.wait)  # one in flight already: not a second
    quiet.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert asked.calls == 1
    assert len(flights) == 0
