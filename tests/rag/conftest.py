"""Shared fixtures of the rag tests: one local embedder for the session (loading it takes ~0.3 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rag.embedder import LocalEmbedder


@pytest.fixture(scope="session")
def embedder() -> Iterator[LocalEmbedder]:
    yield LocalEmbedder(threads=2)
