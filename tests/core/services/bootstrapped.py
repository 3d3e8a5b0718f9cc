"""A real core (SQLite or PostgreSQL) with one bootstrapped account, for the service tests."""

from __future__ import annotations

import pathlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from core.domain.calls import CallRequest
from core.domain.entities import SCOPES
from core.server import open_core
from core.services import accounts
from core.services.core import Core, Principal
from ringside_server.money import Price
from ringside_server.settings import Settings
from tests.harness import create_postgres_database, drop_postgres_database, free_port

GPT_4O_MINI = Price(input=150_000_000, output=600_000_000)


@dataclass
class Bootstrapped:
    core: Core
    principal: Principal  # the account's live key, every scope
    live_secret: str


def model_call(secret: str, customer_id: str, price: Price = GPT_4O_MINI) -> CallRequest:
    """A chat call of 1,000 tokens each way, as the edge asks for it."""
    return CallRequest(
        api_key=secret,
        customer_ref=customer_id,
        user="",
        model_ref="fc:openai/gpt-4o-mini",
        provider="openai",
        price=price,
        input_tokens_bound=1_000,
        requested_output_tokens=1_000,
        model_max_output_tokens=16_384,
    )


@asynccontextmanager
async def bootstrapped_core(database: str, data_dir: pathlib.Path) -> AsyncIterator[Bootstrapped]:
    """`database`: "sqlite" (under `data_dir`) or "postgres" (a fresh database, dropped after)."""
    url = None if database == "sqlite" else create_postgres_database()
    settings = Settings(
        data_dir=data_dir, database_url=url, grpc_port=free_port(), internal_token="rsint_" + secrets.token_hex(16)
    )
    core = await open_core(settings)
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        principal = Principal(
            account_id=new.account.id, livemode=True, scopes=frozenset(SCOPES), key_id=new.live_key.key.id
        )
        yield Bootstrapped(core, principal, new.live_key.secret)
    finally:
        await core.writer.close()
        core.engine.dispose()
        if url is not None:
            drop_postgres_database(url)
