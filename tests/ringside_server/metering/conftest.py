"""Fixtures of the edge's lease tests: a fake core, a fake clock, a LeaseManager between them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ringside_server.metering import lease, lease_reports, leases
from ringside_server.metering.leases import LeaseManager
from tests.ringside_server.metering.lease_fakes import WINDOW_S, FakeClock, FakeCore


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    for module in (lease, lease_reports, leases):
        monkeypatch.setattr(module, "time", fake)
    return fake


@pytest.fixture
def core() -> FakeCore:
    return FakeCore()


@pytest.fixture
def manager(core: FakeCore, clock: FakeClock) -> Iterator[LeaseManager]:
    yield LeaseManager(core, "edge-test", WINDOW_S)  # type: ignore[arg-type]
