"""Session fixtures: the fake upstream and one Ringside stack per database backend.

Tests run on SQLite; those whose result can depend on the store are marked `both_backends` and
run on PostgreSQL too (docs/testing.md)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness import FakeProvider, FakeUpstream, Stack, stop_process
from tests.workers.webhook_stack import WebhookStack

BACKENDS = ["sqlite", "postgres"]
# The fixtures a `both_backends` test gets once per backend: these and a module's own fixtures of
# these names, which start their stack on `backend_of(request)`.
STACK_FIXTURES = ("stack", "rag_stack", "hooks")
RAG_MAX_FILE_BYTES = 4 * 1024 * 1024


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def upstream(logs_dir: pathlib.Path) -> Iterator[FakeUpstream]:
    fake = FakeUpstream.start(logs_dir)
    yield fake
    stop_process(fake.process)


@pytest.fixture(scope="session")
def anthropic(logs_dir: pathlib.Path) -> Iterator[FakeProvider]:
    fake = FakeProvider.start("anthropic_upstream", "anthropic-secret", logs_dir)
    yield fake
    stop_process(fake.process)


@pytest.fixture(scope="session")
def cohere(logs_dir: pathlib.Path) -> Iterator[FakeProvider]:
    fake = FakeProvider.start("cohere_upstream", "cohere-secret", logs_dir)
    yield fake
    stop_process(fake.process)


@pytest.fixture(scope="session")
def bedrock(logs_dir: pathlib.Path) -> Iterator[FakeProvider]:
    fake = FakeProvider.start("bedrock_upstream", "bedrock-secret", logs_dir)
    yield fake
    stop_process(fake.process)


@pytest.fixture(scope="session")
def gemini(logs_dir: pathlib.Path) -> Iterator[FakeProvider]:
    fake = FakeProvider.start("gemini_upstream", "gemini-secret", logs_dir)
    yield fake
    stop_process(fake.process)


def backend_of(request: pytest.FixtureRequest) -> str:
    """The backend a `stack`-like fixture is asked for: PostgreSQL too only for tests marked
    `both_backends` (pytest_generate_tests below)."""
    return str(request.param)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked `both_backends` runs once per backend (docs/testing.md says which tests are);
    every other test gets its stack on SQLite only. Every test is given its backend explicitly (never
    the fixture's default), so a module's own stack is shared by the marked tests and the others:
    pytest groups tests by it and starts it once per backend."""
    marked = metafunc.definition.get_closest_marker("both_backends")
    names = [name for name in STACK_FIXTURES if name in metafunc.fixturenames]
    if not names:
        if marked is not None and marked in metafunc.definition.own_markers:
            raise pytest.UsageError(f"{metafunc.definition.nodeid} is marked both_backends but uses no stack")
        return  # (a module's mark: this test of it starts what it needs itself)
    backends = BACKENDS if marked is not None else BACKENDS[:1]
    metafunc.parametrize(names, [[backend] * len(names) for backend in backends], indirect=True, ids=backends)


@pytest.fixture(scope="session")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Stack]:
    running = Stack("sqlite", tmp_path_factory.mktemp("stack-sqlite"), upstream).start()
    yield running
    running.destroy()


@pytest.fixture(scope="session")
def postgres_stack(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Stack]:
    running = Stack("postgres", tmp_path_factory.mktemp("stack-postgres"), upstream).start()
    yield running
    running.destroy()


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Stack:
    """A core + edge on SQLite; on PostgreSQL too for tests marked `both_backends`. Each backend's
    stack starts once per session, however the tests using it are ordered."""
    running: Stack = request.getfixturevalue(f"{backend_of(request)}_stack")
    return running


def _rag_stack(backend: str, tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Stack:
    return Stack(
        backend,
        tmp_path_factory.mktemp(f"rag-stack-{backend}"),
        upstream,
        extra_env={"RINGSIDE_MAX_FILE_BYTES": str(RAG_MAX_FILE_BYTES)},
        with_rag=True,
    )


@pytest.fixture(scope="session")
def sqlite_rag_stack(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Stack]:
    running = _rag_stack("sqlite", tmp_path_factory, upstream)
    yield running.start()
    running.destroy()


@pytest.fixture(scope="session")
def postgres_rag_stack(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Stack]:
    running = _rag_stack("postgres", tmp_path_factory, upstream)
    yield running.start()
    running.destroy()


@pytest.fixture(scope="session")
def rag_stack(request: pytest.FixtureRequest) -> Stack:
    """A core + rag role + edge (managed RAG, the local models) on SQLite (and PostgreSQL for tests
    marked `both_backends`); uploads are bounded at 4 MiB here (RINGSIDE_MAX_FILE_BYTES) so the 413
    is reached without 512 MiB."""
    running: Stack = request.getfixturevalue(f"{backend_of(request)}_rag_stack")
    return running


@pytest.fixture(scope="session")
def sqlite_hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookStack]:
    """The webhook stack (Temporal, core, edge, worker, receiver) of tests/workers/test_webhooks_e2e.py
    and tests/sdk/test_webhook_deliveries.py, which tests/scheduling.py runs in one process."""
    running = WebhookStack.start("sqlite", tmp_path_factory.mktemp("hooks-sqlite"))
    yield running
    running.destroy()


@pytest.fixture(scope="session")
def postgres_hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookStack]:
    running = WebhookStack.start("postgres", tmp_path_factory.mktemp("hooks-postgres"))
    yield running
    running.destroy()


@pytest.hookimpl(optionalhook=True)  # a run without xdist (-p no:xdist) has no such hook
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile` keeps the files sharing a session stack in one process (tests/scheduling.py)."""
    if config.getoption("dist") != "loadfile":
        return None  # xdist's own
    from tests.scheduling import SharedStackScheduling  # xdist is there: -n asked for it

    return SharedStackScheduling(config, log)
