"""A leased caller's allowed_models lists stay fresh on the edge through its lease's grant and reports
(gateway.py, lease_reports.py), with no ModelPolicy call of their own (issue 24), and never older
than SLOT_CACHE_S from when the core read them: a change made through another edge is seen as soon
as before. The core is a fake; time is a fake clock."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from ringside.core.v1 import common_pb2, metering_pb2
from ringside_server.metering import gateway
from ringside_server.metering.gateway import SLOT_CACHE_S, Gateway
from ringside_server.metering.leases import LeaseManager
from ringside_server.providers.catalog.load import load
from ringside_server.providers.refs import Refs
from tests.ringside_server.metering.lease_fakes import (
    ACQUIRE,
    REPORTS,
    SETTLE,
    WINDOW_S,
    FakeClock,
    FakeCore,
    call,
    outcome,
)

POLICY = "ModelPolicy"


class PolicyCore(FakeCore):
    """The lease fake, answering ModelPolicy questions (asked alone, in a grant or in a report)."""

    def __init__(self) -> None:
        super().__init__()
        self.metering = SimpleNamespace(
            AcquireLease=ACQUIRE,
            SettleLeaseCalls=SETTLE,
            SettleLeaseReports=REPORTS,
            ExtendHold="ExtendHold",
            ModelPolicy=POLICY,
        )
        self.allowed: list[str] = []  # the caller's list as the core holds it ([]: every model)

    def lists(self) -> metering_pb2.ModelPolicyResponse:
        allowed = [common_pb2.ModelList(entries=self.allowed)] if self.allowed else []
        return metering_pb2.ModelPolicyResponse(lists=allowed)

    async def internal(self, method: str, request: Any, timeout_s: float = 10.0) -> Any:
        if method == POLICY:
            self.requests.append((method, request))
            return self.lists()
        lists = self.lists()  # as the core read them when asked (a grant may wait on `gate`)
        answer = await super().internal(method, request, timeout_s)
        if method == ACQUIRE and answer.granted:
            answer.policy.CopyFrom(lists)
        if method == SETTLE and request.HasField("policy"):
            answer.policy.CopyFrom(lists)
        return answer


@pytest.fixture
def policy_core() -> PolicyCore:
    return PolicyCore()


@pytest.fixture
def gate(policy_core: PolicyCore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    monkeypatch.setattr(gateway, "time", clock)
    manager = LeaseManager(policy_core, "edge-test", WINDOW_S)  # type: ignore[arg-type]
    settings = SimpleNamespace(hold_ttl_s=900)
    return Gateway(settings=settings, core=policy_core, refs=Refs.of(load()), leases=manager)  # type: ignore[arg-type]


async def test_a_leased_callers_lists_ride_its_grants_and_reports(
    gate: Gateway, policy_core: PolicyCore, clock: FakeClock
) -> None:
    """20 calls a second for 3 s: one ModelPolicy (the first call's), then the lists come with the
    lease's reports; a list changed in the core is in force on this edge within SLOT_CACHE_S."""
    assert gate.leases is not None
    asked = call()
    seen: list[tuple[float, tuple[tuple[str, ...], ...]]] = []
    changed_at = clock.now + 1.5
    for _ in range(60):
        if not policy_core.allowed and clock.now >= changed_at:
            policy_core.allowed = ["fc:openai/gpt-4o-mini"]  # changed through another edge
            changed_at = clock.now
        policy = await gate.policy(asked.api_key, customer_ref=asked.customer_ref)
        seen.append((clock.now, policy.lists))
        ticket = await gate.leases.admit(asked)
        assert ticket is not None and not isinstance(ticket, metering_pb2.Denial)
        gate.leases.finish(ticket, outcome())
        for _ in range(5):  # a refresh ahead, had one been started, runs now
            await asyncio.sleep(0)
        await gate.leases.flush(coalesce=True)
        clock.now += 0.05
    assert len(policy_core.sent(POLICY)) == 1, "ModelPolicy asked again for a leased caller"
    assert any(r.HasField("policy") for r in policy_core.sent(SETTLE)), "no report carried the lists"
    still_old = [at for at, lists in seen if at >= changed_at and not lists]
    assert still_old and max(still_old) - changed_at < SLOT_CACHE_S, "a changed list in force late"
    assert seen[-1][1] == (("fc:openai/gpt-4o-mini",),)


async def test_a_grant_asked_before_a_change_through_this_edge_is_not_cached(
    gate: Gateway, policy_core: PolicyCore, clock: FakeClock
) -> None:
    """Read-your-writes on this edge: lists a grant read before forget_policies are not cached."""
    assert gate.leases is not None
    asked = call()
    policy_core.gate = asyncio.Event()
    admitting = asyncio.create_task(gate.leases.admit(asked))
    await policy_core.acquiring.wait()  # the grant is asked for; the lists then change here
    policy_core.allowed = ["fc:openai/gpt-4o-mini"]
    clock.now += 0.001
    gate.forget_policies()
    policy_core.gate.set()
    await admitting
    policy = await gate.policy(asked.api_key, customer_ref=asked.customer_ref)
    assert policy.lists == (("fc:openai/gpt-4o-mini",),) and len(policy_core.sent(POLICY)) == 1
