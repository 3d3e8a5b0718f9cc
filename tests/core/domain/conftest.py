"""The `world` fixture of the domain tests."""

from __future__ import annotations

import pytest

from tests.core.domain.world import World


@pytest.fixture
def world() -> World:
    return World()
