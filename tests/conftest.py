"""Session fixtures: the fake upstream and one Ringside stack per database backend."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from tests.harness import FakeProvider, FakeUpstream, Stack, stop_process

BACKENDS = ["sqlite", "postgres"]
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


@pytest.fixture(scope="session", params=BACKENDS)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream
) -> Iterator[Stack]:
    """A core + edge against SQLite and against PostgreSQL; every test using it runs on both."""
    running = Stack(request.param, tmp_path_factory.mktemp(f"stack-{request.param}"), upstream).start()
    yield running
    running.destroy()


@pytest.fixture(scope="session", params=BACKENDS)
def rag_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream
) -> Iterator[Stack]:
    """A core + rag role + edge (managed RAG, the local models) against SQLite and PostgreSQL; uploads
    are bounded at 4 MiB here (RINGSIDE_MAX_FILE_BYTES) so the 413 is reached without 512 MiB."""
    running = Stack(
        request.param,
        tmp_path_factory.mktemp(f"rag-stack-{request.param}"),
        upstream,
        extra_env={"RINGSIDE_MAX_FILE_BYTES": str(RAG_MAX_FILE_BYTES)},
        with_rag=True,
    )
    yield running.start()
    running.destroy()
