"""A fresh database of each kind for tests that open a core on it (SQLite and PostgreSQL)."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest

from ringside_server.settings import Settings
from tests.harness import create_postgres_database, drop_postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[str]:
    url = f"sqlite:///{tmp_path}/ringside.db" if request.param == "sqlite" else create_postgres_database()
    try:
        yield url
    finally:
        if request.param == "postgres":
            drop_postgres_database(url)


def core_settings(tmp_path: pathlib.Path, url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=url,
        log_level="WARNING",
        rate_limit_account_per_min=10**9,
        rate_limit_ip_per_min=10**9,
    )
