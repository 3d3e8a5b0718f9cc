"""Fixtures of the e2e tests (tests/e2e/): the two active cores the test_active_cores*.py files share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.active_cores import fair_env
from tests.harness import FakeUpstream, Stack, free_port


@pytest.fixture(scope="module")
def two_cores(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[tuple[Stack, int]]:
    """A stack on PostgreSQL whose core is core-a of two fair cores, and core-b's port (each test
    starts core-b itself); one per test module."""
    stack = Stack("postgres", tmp_path_factory.mktemp("active") / "data", upstream)
    port_b = free_port()
    stack.extra_env.update(fair_env(stack, port_b))
    stack.start()
    try:
        yield stack, port_b
    finally:
        stack.destroy()
