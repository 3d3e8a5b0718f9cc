"""A real core (gRPC server, SQLite, group-commit writer) in the test's process, on a clock the test
moves: billing periods are a function of the clock, so
crossing a month needs the core's clock to cross it too. No hold expiry loop runs: holds resolve
only when the test settles them (an in-flight call stays in flight across the boundary)."""

from __future__ import annotations

import pathlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from core.server import build_server, open_core
from core.services import accounts
from core.services.core import Core
from ringside.core.v1 import billing_pb2, common_pb2, customers_pb2, metering_pb2
from ringside_server.core_client import CoreClient
from ringside_server.settings import Settings
from tests.harness import create_postgres_database, drop_postgres_database, free_port

MODEL_REF = "fc:openai/gpt-4o-mini"
PRICE = common_pb2.Price(input_nano_usd_per_mtok=150_000_000, output_nano_usd_per_mtok=600_000_000)


class Clock:
    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


@dataclass
class InProcessCore:
    core: Core
    server: Any
    client: CoreClient
    clock: Clock
    live_key: str

    @classmethod
    async def start(cls, data_dir: pathlib.Path, now_s: float, database_url: str | None = None) -> InProcessCore:
        token = "rsint_" + secrets.token_hex(16)
        settings = Settings(
            data_dir=data_dir, database_url=database_url, grpc_port=free_port(), internal_token=token, hold_ttl_s=86_400
        )
        core = await open_core(settings)
        clock = Clock(now_s)
        core.clock = clock
        core.meter.clock = clock
        new = await accounts.bootstrap(core)
        assert new is not None
        server, _ = build_server(core, settings)
        await server.start()
        client = CoreClient(f"127.0.0.1:{settings.grpc_port}", token)
        return cls(core, server, client, clock, new.live_key.secret)

    async def stop(self) -> None:
        await self.client.close()
        await self.server.stop(grace=None)
        await self.core.writer.close()
        self.core.engine.dispose()

    def move_to(self, moment: datetime) -> None:
        """The core's clock jumps (the test server skips Temporal's own timers as they come: its
        clock is not the core's, which only the test moves)."""
        self.clock.now_s = moment.timestamp()

    @property
    def as_account(self) -> str:
        return f"Bearer {self.live_key}"

    async def new_customer(self, budget_nano: int) -> str:
        request = customers_pb2.CreateCustomerRequest(budget_nano_usd=budget_nano)
        response = await self.client.as_caller(self.client.customers.CreateCustomer, request, self.as_account)
        return str(response.customer.id)

    async def customer(self, customer_id: str) -> customers_pb2.Customer:
        request = customers_pb2.GetCustomerRequest(id=customer_id)
        response = await self.client.as_caller(self.client.customers.GetCustomer, request, self.as_account)
        return response.customer

    async def authorize(
        self, customer_id: str, input_tokens: int, output_tokens: int
    ) -> metering_pb2.AuthorizeResponse:
        request = metering_pb2.AuthorizeRequest(
            api_key=self.live_key,
            customer_ref=customer_id,
            model_ref=MODEL_REF,
            provider="openai",
            price=PRICE,
            input_tokens_bound=input_tokens,
            requested_output_tokens=output_tokens,
            model_max_output_tokens=16_384,
        )
        return await self.client.authorize(request)

    async def settle(self, request_id: str, input_tokens: int, output_tokens: int) -> metering_pb2.SettleResponse:
        request = metering_pb2.SettleRequest(
            request_id=request_id,
            usage=common_pb2.TokenCounts(input_tokens=input_tokens, output_tokens=output_tokens),
            outcome=metering_pb2.SETTLE_OUTCOME_COMPLETED,
            upstream_model="gpt-4o-mini",
        )
        return await self.client.settle(request)

    async def call(self, customer_id: str, input_tokens: int, output_tokens: int) -> metering_pb2.SettleResponse:
        admitted = await self.authorize(customer_id, input_tokens, output_tokens)
        assert admitted.allowed, admitted.denial
        return await self.settle(admitted.request_id, input_tokens, output_tokens)

    async def periods(self, customer_id: str) -> list[billing_pb2.Period]:
        request = billing_pb2.ListPeriodsRequest(customer_id=customer_id, page=common_pb2.PageRequest(limit=100))
        response = await self.client.as_caller(self.client.billing.ListPeriods, request, self.as_account)
        return list(response.periods)

    def events(self, customer_id: str, event_type: str) -> list[tuple[str, str]]:
        """(trigger key, body) of a customer's events of a type, oldest first."""
        with self.core.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT trigger_key, body FROM events WHERE customer_id = :c AND type = :t ORDER BY id"),
                {"c": customer_id, "t": event_type},
            ).all()
        return [(str(key), str(body)) for key, body in rows]


@asynccontextmanager
async def core_on(backend: str, data_dir: pathlib.Path, now_s: float) -> AsyncIterator[InProcessCore]:
    """An InProcessCore on `backend` ("sqlite", or "postgres": a database of its own, dropped after)."""
    database_url = create_postgres_database() if backend == "postgres" else None
    running = await InProcessCore.start(data_dir, now_s, database_url)
    try:
        yield running
    finally:
        await running.stop()
        if database_url:
            drop_postgres_database(database_url)
