"""A real core in this process (SQLite, gRPC over a socket) for the edge-side tests that need one."""

from __future__ import annotations

import pathlib
import time
from collections.abc import AsyncIterator

import pytest

from tests.workers.billing_core import InProcessCore


@pytest.fixture
async def core(tmp_path: pathlib.Path) -> AsyncIterator[InProcessCore]:
    started = await InProcessCore.start(tmp_path, time.time())
    try:
        yield started
    finally:
        await started.stop()
