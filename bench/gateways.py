"""The gateways a benchmark can put between the load generator and the fake upstream.

A gateway is an async context manager factory: given a :class:`GatewayContext` it starts whatever it
needs, yields a :class:`Gateway` (where to send requests, with which headers, which processes to charge
CPU to), and stops everything on exit. Register new ones in :data:`GATEWAYS` at the bottom.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import ServerSpec, free_port, python_module_argv, serve

BASELINE = "direct"


@dataclass(frozen=True)
class GatewayContext:
    """What every gateway is given: the upstream to forward to and a scratch directory of its own."""

    upstream_base_url: str
    work_dir: Path


@dataclass(frozen=True)
class Gateway:
    """A running gateway, as the load generator sees it.

    ``pids`` are the processes whose CPU time (with their descendants') is the gateway's cost; empty
    for the direct baseline. ``model`` overrides the request's model name when the gateway routes by
    its own names (e.g. ``"fake/gpt-4o-mini"``).
    """

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    pids: tuple[int, ...] = ()
    model: str | None = None


GatewayStarter = Callable[[GatewayContext], AbstractAsyncContextManager[Gateway]]


@asynccontextmanager
async def direct(context: GatewayContext) -> AsyncIterator[Gateway]:
    """No gateway: the client talks to the upstream itself. The baseline every other is compared to."""
    yield Gateway(base_url=context.upstream_base_url)


@asynccontextmanager
async def bare_proxy(context: GatewayContext) -> AsyncIterator[Gateway]:
    """``bench.bare_proxy``: the cost of one Python/aiohttp hop with no checks (the floor)."""
    port = free_port()
    spec = ServerSpec(
        name="bare_proxy",
        argv=python_module_argv("bench.bare_proxy", "--port", str(port), "--upstream", context.upstream_base_url),
        port=port,
        log_dir=context.work_dir,
    )
    async with serve(spec) as server:
        yield Gateway(base_url=f"http://127.0.0.1:{port}/v1", pids=(server.pid,))


RINGSIDE_MODEL = "fc:openai/gpt-4o-mini"
RINGSIDE_BUDGET_USD = 1_000_000


def _ringside_env(
    context: GatewayContext, data_dir: Path, http_port: int, grpc_port: int, database_url: str | None
) -> dict[str, str]:
    env = {
        "RINGSIDE_DATA_DIR": str(data_dir),
        "RINGSIDE_HTTP_PORT": str(http_port),
        "RINGSIDE_GRPC_PORT": str(grpc_port),
        "RINGSIDE_LOG_LEVEL": "WARNING",
        "RINGSIDE_HEALTH_ROLES": "core,edge",
        "RINGSIDE_INTERNAL_TOKEN": "rsint_bench_" + "x" * 24,
        "OPENAI_BASE_URL": context.upstream_base_url,
        "OPENAI_API_KEY": "bench-upstream-key",
    }
    if database_url:
        env["RINGSIDE_DATABASE_URL"] = database_url
    return env


async def _seed_customer(base_url: str, api_key: str) -> str:
    """A customer with a (large) budget, so every call runs the whole metering path."""
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{base_url}/customers",
            headers={"Authorization": f"Bearer {api_key}"},
            json={"external_id": "bench-customer", "budget_usd": RINGSIDE_BUDGET_USD},
        ) as response,
    ):
        body = await response.json()
        if response.status not in (200, 201):
            raise RuntimeError(f"could not create the bench customer: {body}")
        return str(body["id"])


def _ringside_starter(database: str) -> GatewayStarter:
    """Ringside's core + edge with full metering: key, customer, budget, durable hold, durable settle."""

    @asynccontextmanager
    async def ringside(context: GatewayContext) -> AsyncIterator[Gateway]:
        import json

        data_dir = context.work_dir / f"ringside-{database}"
        data_dir.mkdir(parents=True, exist_ok=True)
        database_url = None
        if database == "postgres":
            database_url = await _fresh_postgres_database()
        http_port, grpc_port = free_port(), free_port()
        env = _ringside_env(context, data_dir, http_port, grpc_port, database_url)
        core = ServerSpec(
            name=f"ringside-core-{database}",
            argv=python_module_argv("ringside", "core"),
            port=grpc_port,
            log_dir=context.work_dir,
            env=env,
        )
        edge = ServerSpec(
            name=f"ringside-edge-{database}",
            argv=python_module_argv("ringside", "edge"),
            port=http_port,
            log_dir=context.work_dir,
            env=env,
        )
        async with serve(core) as core_server, serve(edge) as edge_server:
            api_key = json.loads((data_dir / "credentials.json").read_text())["api_key"]
            base_url = f"http://127.0.0.1:{http_port}/v1"
            customer_id = await _seed_customer(base_url, api_key)
            yield Gateway(
                base_url=base_url,
                headers={"Authorization": f"Bearer {api_key}", "FC-Customer": customer_id},
                pids=(core_server.pid, edge_server.pid),
                model=RINGSIDE_MODEL,
            )

    return ringside


async def _fresh_postgres_database() -> str:
    import secrets

    import psycopg

    name = "ringside_bench_" + secrets.token_hex(4)
    async with await psycopg.AsyncConnection.connect(
        "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
    ) as connection:
        await connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


# ---------------------------------------------------------------------------------------------------
# GATEWAY REGISTRY: name -> starter. `python -m bench.run --gateways a,b` selects among these; the
# "direct" baseline always runs, since added latency is measured against it.
# ---------------------------------------------------------------------------------------------------
GATEWAYS: dict[str, GatewayStarter] = {
    BASELINE: direct,
    "bare_proxy": bare_proxy,
    "ringside_sqlite": _ringside_starter("sqlite"),
    "ringside_postgres": _ringside_starter("postgres"),
}
