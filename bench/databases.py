"""Scratch PostgreSQL databases for benchmark runs: one fresh database per run, dropped afterwards."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@asynccontextmanager
async def scratch_postgres(prefix: str = "ringside_bench_", admin_url: str = POSTGRES_ADMIN_URL) -> AsyncIterator[str]:
    """A new empty database for the block; yields its URL and drops it (closing its sessions) on exit."""
    name = prefix + secrets.token_hex(4)
    async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as connection:
        await connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as connection:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def backend_pids(database_url: str, admin_url: str = POSTGRES_ADMIN_URL) -> list[int]:
    """The server processes serving connections to ``database_url``'s database (a gateway's CPU too)."""
    name = database_url.rsplit("/", 1)[1]
    async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as connection:
        cursor = await connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
        )
        return [int(row[0]) for row in await cursor.fetchall()]
