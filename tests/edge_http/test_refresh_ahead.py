"""A steady caller's requests never wait for the core to confirm its key, its allowed_models lists or
its slot: each short cache is refreshed in the background before it runs out (single_flight.py), and
is still never trusted past its time-to-live after the core last confirmed it. The core is a fake
whose answers are held until the test releases them, so "did not wait" is a fact, not a timing."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request

from edge_http import bodies
from edge_http.bodies import authenticate
from edge_http.context import Edge
from edge_http.verified_keys import VERIFIED_KEY_TTL_S
from ringside.core.v1 import keys_pb2, metering_pb2, slots_pb2
from ringside_server.answering import Answering
from ringside_server.errors import RingsideError
from ringside_server.metering import gateway
from ringside_server.metering.gateway import SLOT_CACHE_S
from ringside_server.providers.catalog.load import load
from ringside_server.providers.refs import Refs

KEY = "sk_live_" + "k" * 40


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


class HeldCore:
    """Answers each question once the test releases it; `refuse` makes the next answers errors."""

    def __init__(self) -> None:
        self.keys = SimpleNamespace(VerifyApiKey="VerifyApiKey")
        self.metering = SimpleNamespace(ModelPolicy="ModelPolicy")
        self.slots = SimpleNamespace(ResolveSlot="ResolveSlot")
        self.asked: list[str] = []
        self.release = asyncio.Event()
        self.refuse: RingsideError | None = None
        self.slot_target = "fc:openai/gpt-4o-mini"

    async def internal(self, method: str, request: Any, timeout_s: float = 10.0) -> Any:
        self.asked.append(method)
        target = self.slot_target  # the slot as it was when asked
        await self.release.wait()
        if self.refuse is not None:
            raise self.refuse
        if method == "VerifyApiKey":
            return keys_pb2.VerifyApiKeyResponse(key_id="key_1")
        if method == "ModelPolicy":
            return metering_pb2.ModelPolicyResponse()
        return slots_pb2.ResolveSlotResponse(model=target)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(bodies, "time", fake)
    monkeypatch.setattr(gateway, "time", fake)
    return fake


@pytest.fixture
def core() -> HeldCore:
    return HeldCore()


@pytest.fixture
def edge(core: HeldCore) -> Edge:
    settings = SimpleNamespace(admin_key=None, hold_ttl_s=900)
    return Edge(settings=settings, core=core, refs=Refs.of(load()))  # type: ignore[arg-type]


def keyed_request() -> Any:
    return make_mocked_request("POST", "/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"})


async def answered(awaitable: Any) -> Any:
    """`awaitable`'s result, which must come without the core answering anything."""
    return await asyncio.wait_for(awaitable, timeout=5.0)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_key_is_confirmed_again_before_its_entry_runs_out_while_requests_go_on(
    edge: Edge, core: HeldCore, clock: Clock
) -> None:
    core.release.set()
    await answered(authenticate(edge, keyed_request()))  # the first request asks and waits
    assert core.asked == ["VerifyApiKey"]
    core.release.clear()  # from now on the core's answers are held
    clock.now += VERIFIED_KEY_TTL_S * 0.8  # late in the entry's life
    await answered(authenticate(edge, keyed_request()))  # answered from the entry, not waiting
    await answered(authenticate(edge, keyed_request()))
    await settle()
    assert core.asked == ["VerifyApiKey"] * 2  # one refresh in the background, shared
    core.release.set()
    await settle()
    clock.now += VERIFIED_KEY_TTL_S * 0.5  # past the first entry's end, inside the refreshed one
    core.release.clear()
    await answered(authenticate(edge, keyed_request()))
    assert core.asked == ["VerifyApiKey"] * 2


async def test_a_refresh_that_finds_the_key_revoked_ends_its_trust_at_once(
    edge: Edge, core: HeldCore, clock: Clock
) -> None:
    core.release.set()
    await answered(authenticate(edge, keyed_request()))
    core.refuse = RingsideError("invalid_api_key", "Incorrect API key provided.")
    clock.now += VERIFIED_KEY_TTL_S * 0.8
    await answered(authenticate(edge, keyed_request()))  # the entry still stands; the refresh asks
    await settle()
    with pytest.raises(RingsideError) as refused:  # inside the old entry's time, refused already
        await answered(authenticate(edge, keyed_request()))
    assert refused.value.code == "invalid_api_key"


async def test_a_callers_lists_are_fetched_again_before_they_run_out(edge: Edge, core: HeldCore, clock: Clock) -> None:
    core.release.set()
    await answered(edge.policy(KEY, customer_ref="cus_1"))
    core.release.clear()
    clock.now += SLOT_CACHE_S * 0.8
    await answered(edge.policy(KEY, customer_ref="cus_1"))
    await settle()
    assert core.asked == ["ModelPolicy"] * 2
    core.release.set()
    await settle()
    clock.now += SLOT_CACHE_S * 0.5  # past the first entry's end, inside the refreshed one
    core.release.clear()
    await answered(edge.policy(KEY, customer_ref="cus_1"))
    assert core.asked == ["ModelPolicy"] * 2


async def test_a_slot_refreshed_ahead_and_a_refresh_asked_before_a_change_is_not_kept(
    edge: Edge, core: HeldCore, clock: Clock
) -> None:
    core.release.set()
    models = await answered(edge.resolve_model("slot:main", KEY))
    assert [model.ref for model in models] == ["fc:openai/gpt-4o-mini"]
    core.release.clear()
    clock.now += SLOT_CACHE_S * 0.8
    await answered(edge.resolve_model("slot:main", KEY))  # from the entry; a refresh is asked
    await settle()
    assert core.asked == ["ResolveSlot"] * 2
    edge.forget_slots()  # the slot changed through this edge while that refresh was in flight
    core.slot_target = "fc:openai/gpt-4o"
    core.release.set()
    await settle()  # the refresh answers with the slot as it was: not to be kept
    core.release.clear()
    changed = asyncio.create_task(edge.resolve_model("slot:main", KEY))
    await settle()
    assert core.asked == ["ResolveSlot"] * 3  # asked anew, not answered from the old refresh
    core.release.set()
    assert [model.ref for model in await answered(changed)] == ["fc:openai/gpt-4o"]


async def test_a_refresh_found_due_during_a_request_is_asked_once_that_request_is_answered(
    edge: Edge, core: HeldCore, clock: Clock
) -> None:
    """Off the request's path, and off its time too (answering.py): the question goes between requests."""
    edge.answering = Answering(wait_limit_s=60.0, after_s=0.0)
    core.release.set()
    await answered(edge.policy(KEY, customer_ref="cus_1"))
    clock.now += SLOT_CACHE_S * 0.7  # due for a refresh; the entry has 0.3 s left (the wait's bound: half)
    edge.answering.started()
    await answered(edge.policy(KEY, customer_ref="cus_1"))
    await settle()
    assert core.asked == ["ModelPolicy"], "asked while the request that found it due was in flight"
    edge.answering.ended()
    await settle()
    assert core.asked == ["ModelPolicy"] * 2
