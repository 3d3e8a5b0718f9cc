"""Fixtures of the e2e tests (tests/e2e/): the two active cores the test_active_cores*.py files share,
and the session stacks that several files share (tests/scheduling.py runs those files in one process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.active_cores import fair_env
from tests.e2e.assistants_stack import Running, running_assistants
from tests.e2e.rag_ingest_stack import ingest_stack
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


@pytest.fixture(scope="session")
def running(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Running]:
    """The Assistants stack and worker (on SQLite) of test_assistants*.py and
    test_responses_file_search.py; each test works in an account of its own."""
    yield from running_assistants(tmp_path_factory, upstream)


@pytest.fixture(scope="session")
def sqlite_ingest_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The ingest stack of test_rag_ingest.py, test_rag_search.py and test_rag_file_batches.py."""
    with ingest_stack("sqlite", tmp_path_factory.mktemp("rag-ingest-sqlite")) as running:
        yield running


@pytest.fixture(scope="session")
def postgres_ingest_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with ingest_stack("postgres", tmp_path_factory.mktemp("rag-ingest-postgres")) as running:
        yield running
