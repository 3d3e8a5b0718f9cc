"""A real core process over gRPC: Authorize + Settle pairs, as the edge's per-call path sends them.

The core is started with ``python -m ringside core`` (its own data dir; SQLite there or the given
PostgreSQL database). The account and its key come from the ``credentials.json`` the core writes on its
first start; the customer is created through ``CustomersService``. Each of ``concurrency`` coroutines
sends Authorize, then Settle for the hold it got, on one shared channel (as the edge does), for at most
``seconds``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import grpc

from bench.loadgen import Percentiles
from bench.procs import ServerSpec, cpu_seconds, free_port, python_module_argv, serve
from ringside.core.v1 import common_pb2, customers_pb2, customers_pb2_grpc, metering_pb2, metering_pb2_grpc

INTERNAL_METADATA_KEY = "x-ringside-internal"
PRICE = common_pb2.Price(input_nano_usd_per_mtok=150_000_000, output_nano_usd_per_mtok=600_000_000)
BUDGET_NANO = 10**17
CALL_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class PairsResult:
    """Authorize + Settle pairs at one concurrency; ``core_cpu_ms_per_pair`` is the core process's CPU."""

    concurrency: int
    pairs: int
    elapsed_s: float
    pairs_per_s: float
    authorize: Percentiles | None
    settle: Percentiles | None
    core_cpu_ms_per_pair: float | None


async def _create_customer(channel: grpc.aio.Channel, api_key: str) -> str:
    stub = customers_pb2_grpc.CustomersServiceStub(channel)
    response = await stub.CreateCustomer(
        customers_pb2.CreateCustomerRequest(external_id="bench", budget_nano_usd=BUDGET_NANO),
        metadata=(("authorization", f"Bearer {api_key}"),),
        timeout=CALL_TIMEOUT_S,
    )
    return str(response.customer.id)


async def _pairs(
    stub: metering_pb2_grpc.MeteringServiceStub,
    metadata: tuple[tuple[str, str], ...],
    authorize_request: metering_pb2.AuthorizeRequest,
    concurrency: int,
    seconds: float,
    core_pid: int,
) -> PairsResult:
    authorize_s: list[float] = []
    settle_s: list[float] = []
    usage = common_pb2.TokenCounts(input_tokens=12, output_tokens=16)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def caller() -> None:
        while loop.time() < deadline:
            started = time.perf_counter()
            admitted = await stub.Authorize(authorize_request, metadata=metadata, timeout=CALL_TIMEOUT_S)
            authorized = time.perf_counter()
            if not admitted.allowed:
                raise RuntimeError(f"Authorize refused: {admitted.denial}")
            await stub.Settle(
                metering_pb2.SettleRequest(
                    request_id=admitted.request_id,
                    usage=usage,
                    outcome=metering_pb2.SETTLE_OUTCOME_COMPLETED,
                    upstream_model="gpt-4o-mini",
                ),
                metadata=metadata,
                timeout=CALL_TIMEOUT_S,
            )
            authorize_s.append(authorized - started)
            settle_s.append(time.perf_counter() - authorized)

    cpu_before = cpu_seconds([core_pid])
    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    elapsed_s = time.perf_counter() - started
    core_cpu_s = cpu_seconds([core_pid]) - cpu_before
    pairs = len(settle_s)
    return PairsResult(
        concurrency=concurrency,
        pairs=pairs,
        elapsed_s=elapsed_s,
        pairs_per_s=pairs / elapsed_s,
        authorize=Percentiles.of(authorize_s),
        settle=Percentiles.of(settle_s),
        core_cpu_ms_per_pair=core_cpu_s / pairs * 1000 if pairs else None,
    )


async def over_grpc(
    database_url: str | None, data_dir: Path, seconds: float, concurrencies: tuple[int, ...]
) -> list[PairsResult]:
    """Start a core on ``database_url`` (SQLite in ``data_dir`` when None) and run the pairs at each concurrency."""
    port = free_port()
    token = "rsint_bench_" + secrets.token_hex(12)
    env = {
        "RINGSIDE_DATA_DIR": str(data_dir),
        "RINGSIDE_GRPC_PORT": str(port),
        "RINGSIDE_INTERNAL_TOKEN": token,
        "RINGSIDE_LOG_LEVEL": "WARNING",
        "RINGSIDE_RATE_LIMIT_ACCOUNT_PER_MIN": "1000000000",  # far above what one core admits here
        "RINGSIDE_RATE_LIMIT_IP_PER_MIN": "1000000000",
        **({"RINGSIDE_DATABASE_URL": database_url} if database_url else {}),
    }
    spec = ServerSpec(
        name="core", argv=python_module_argv("ringside_cli", "core"), port=port, log_dir=data_dir, env=env
    )
    async with serve(spec) as core:
        api_key = json.loads((data_dir / "credentials.json").read_text())["api_key"]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            customer_id = await _create_customer(channel, api_key)
            stub = metering_pb2_grpc.MeteringServiceStub(channel)
            request = metering_pb2.AuthorizeRequest(
                api_key=api_key,
                customer_ref=customer_id,
                model_ref="fc:openai/gpt-4o-mini",
                provider="openai",
                price=PRICE,
                input_tokens_bound=20,
                requested_output_tokens=16,
                model_max_output_tokens=16_384,
                choices=1,
            )
            metadata = ((INTERNAL_METADATA_KEY, token),)
            # Warm the channel and the core's code paths before timing anything.
            await _pairs(stub, metadata, request, 4, min(1.0, seconds), core.pid)
            return [await _pairs(stub, metadata, request, c, seconds, core.pid) for c in concurrencies]
