"""The gateways a benchmark can put between the load generator and the fake upstream.

A gateway is an async context manager factory: given a :class:`GatewayContext` it starts whatever it
needs, yields a :class:`Gateway` (where to send requests, with which headers, which processes to charge
CPU to), and stops everything on exit. One that cannot run on this machine (LiteLLM without its venv,
Portkey without its node_modules)
raises :class:`GatewaySkipped` before starting anything. Register new ones in :data:`GATEWAYS` at the bottom.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.databases import scratch_postgres
from bench.procs import REPO_ROOT, ServerSpec, free_port, python_module_argv, serve, wait_for_listeners

BASELINE = "direct"
LITELLM_VENV = REPO_ROOT / "bench" / ".venv-litellm"
PORTKEY_DIR = REPO_ROOT / "bench" / "portkey"


@dataclass(frozen=True)
class GatewayContext:
    """What every gateway is given: the upstream to forward to and a scratch directory of its own."""

    upstream_base_url: str
    work_dir: Path
    litellm_venv: Path = LITELLM_VENV
    portkey_dir: Path = PORTKEY_DIR


class GatewaySkipped(RuntimeError):
    """The gateway cannot run here (e.g. its venv is not installed); the message says how to fix that."""


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
    description: str = ""
    # A PostgreSQL database the gateway writes to: its server processes' CPU is charged to the gateway.
    database_url: str | None = None
    # A gateway that compiles or imports lazily on its first calls asks for a longer, gentler warm-up.
    warmup_rate_per_s: float | None = None
    warmup_s: float = 0.0


GatewayStarter = Callable[[GatewayContext], AbstractAsyncContextManager[Gateway]]


@asynccontextmanager
async def direct(context: GatewayContext) -> AsyncIterator[Gateway]:
    """No gateway: the client talks to the upstream itself. The baseline every other is compared to."""
    yield Gateway(base_url=context.upstream_base_url, description="the fake upstream alone")


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
        yield Gateway(base_url=f"http://127.0.0.1:{port}/v1", pids=(server.pid,), description="bench.bare_proxy")


RINGSIDE_MODEL = "fc:openai/gpt-4o-mini"
EDGE_WORKERS = "RINGSIDE_EDGE_WORKERS"
RINGSIDE_BUDGET_USD = 1_000_000
RINGSIDE_RATE_LIMIT_PER_MIN = 1_000_000_000


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
        # Every rate-limit layer runs, none refuses: the load comes from one IP at up to ~1,000 req/s.
        "RINGSIDE_RATE_LIMIT_IP_PER_MIN": str(RINGSIDE_RATE_LIMIT_PER_MIN),
        "RINGSIDE_RATE_LIMIT_ACCOUNT_PER_MIN": str(RINGSIDE_RATE_LIMIT_PER_MIN),
    }
    if database_url:
        env["RINGSIDE_DATABASE_URL"] = database_url
    return env


async def _seed_customer(base_url: str, api_key: str, external_id: str = "bench-customer") -> str:
    """A customer with a (large) budget and rate limits, so every call runs the whole metering path."""
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{base_url}/customers",
            headers={"Authorization": f"Bearer {api_key}"},
            json={
                "external_id": external_id,
                "budget_usd": RINGSIDE_BUDGET_USD,
                "rate_limit_rpm": RINGSIDE_RATE_LIMIT_PER_MIN,
                "rate_limit_tpm": RINGSIDE_RATE_LIMIT_PER_MIN,
            },
        ) as response,
    ):
        body = await response.json()
        if response.status not in (200, 201):
            raise RuntimeError(f"could not create the bench customer: {body}")
        return str(body["id"])


# Request logs on (issue 21): one JSON line per request to the edge's log, as a production setup runs.
REQUEST_LOGS_ENV = {"RINGSIDE_LOG_LEVEL": "INFO", "RINGSIDE_LOG_FORMAT": "json"}


def _ringside_starter(
    database: str, per_call: bool = False, request_logs: bool = False, edges: int = 1
) -> GatewayStarter:
    """Ringside's core + edge with full metering: key, customer with a budget, every call charged durably.

    By default the commit under test runs as configured out of the box (since the lease fast path:
    calls admitted on the edge against a durable lease, reported in batches); ``per_call`` sets
    ``RINGSIDE_LEASES=false``, the reference path (a durable Authorize and Settle round trip per call).
    Older commits ignore the variable and always run per call. ``request_logs`` logs every request
    (metrics are always kept). ``edges`` > 1 runs that many edge processes on one port, as
    ``RINGSIDE_EDGE_WORKERS`` makes ``ringside up`` do (their metrics added up in one directory).
    """
    extra_env = {"RINGSIDE_LEASES": "false"} if per_call else {}
    path = "per-call path" if per_call else "default path"
    if request_logs:
        extra_env, path = {**extra_env, **REQUEST_LOGS_ENV}, f"{path}, JSON request logs"
    if edges > 1:
        extra_env, path = {**extra_env, EDGE_WORKERS: str(edges)}, f"{path}, {edges} edge processes"

    @asynccontextmanager
    async def ringside(context: GatewayContext) -> AsyncIterator[Gateway]:
        async with AsyncExitStack() as stack:
            database_url = await stack.enter_async_context(scratch_postgres()) if database == "postgres" else None
            gateway = await stack.enter_async_context(_ringside_stack(context, database, database_url, extra_env))
            yield replace(gateway, description=f"{gateway.description}, {path}", database_url=database_url)

    return ringside


@asynccontextmanager
async def _ringside_stack(
    context: GatewayContext, database: str, database_url: str | None, extra_env: Mapping[str, str]
) -> AsyncIterator[Gateway]:
    variant = "-per-call" if "RINGSIDE_LEASES" in extra_env else ""
    variant += "-logged" if "RINGSIDE_LOG_FORMAT" in extra_env else ""
    edges = int(extra_env.get(EDGE_WORKERS, "1"))
    variant += f"-{edges}edges" if edges > 1 else ""
    data_dir = context.work_dir / f"ringside-{database}{variant}"
    data_dir.mkdir(parents=True, exist_ok=True)
    http_port, grpc_port = free_port(), free_port()
    env = {**_ringside_env(context, data_dir, http_port, grpc_port, database_url), **extra_env}
    if edges > 1:
        env.update(_edge_metrics_env(data_dir))
    core = ServerSpec(
        name=f"{data_dir.name}-core",
        argv=python_module_argv("ringside_cli", "core"),
        port=grpc_port,
        log_dir=context.work_dir,
        env=env,
    )
    edge_specs = [
        ServerSpec(
            name=f"{data_dir.name}-edge" + (f"-{index}" if edges > 1 else ""),
            argv=python_module_argv("ringside_cli", "edge"),
            port=http_port,
            log_dir=context.work_dir,
            env=env,
        )
        for index in range(1, edges + 1)
    ]
    async with AsyncExitStack() as stack:
        core_server = await stack.enter_async_context(serve(core))
        edge_servers = [await stack.enter_async_context(serve(spec)) for spec in edge_specs]
        if edges > 1:  # the port answers once the first edge listens: wait for each one itself
            await wait_for_listeners(edge_servers)
        api_key = json.loads((data_dir / "credentials.json").read_text())["api_key"]
        base_url = f"http://127.0.0.1:{http_port}/v1"
        customer_id = await _seed_customer(base_url, api_key)
        yield Gateway(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}", "FC-Customer": customer_id},
            pids=(core_server.pid, *(edge.pid for edge in edge_servers)),
            model=RINGSIDE_MODEL,
            description=f"ringside core + edge on {database}, full metering",
        )


def _edge_metrics_env(data_dir: Path) -> dict[str, str]:
    """Several edges' metrics added up in one fresh directory, as `ringside up` gives them."""
    # imported here: a snapshot of an older commit runs this harness too
    from ringside_server.observability.metrics import MULTIPROC_DIR_VARIABLE

    directory = data_dir / "edge-metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    return {MULTIPROC_DIR_VARIABLE: str(directory)}


LITELLM_WORKERS = 2
LITELLM_READY_TIMEOUT_S = 180.0
# Uvicorn's supervisor kills a worker that has not answered its health check within 5 s, and LiteLLM's
# workers take longer than that to import on 2 busy cores: they would be restarted over and over.
LITELLM_WORKER_HEALTHCHECK_TIMEOUT_S = 60
LITELLM_MASTER_KEY = "sk-bench-" + "k" * 48
# Same as Ringside's and the bare proxy's: no per-request access log line (LiteLLM's own logs at ERROR).
_LITELLM_LOG_CONFIG = """\
version: 1
disable_existing_loggers: false
formatters:
  plain: {format: "%(asctime)s %(levelname)s %(name)s %(message)s"}
handlers:
  stderr: {class: logging.StreamHandler, formatter: plain, stream: "ext://sys.stderr"}
loggers:
  uvicorn: {handlers: [stderr], level: INFO, propagate: false}
  uvicorn.error: {handlers: [stderr], level: INFO, propagate: false}
  uvicorn.access: {handlers: [stderr], level: WARNING, propagate: false}
"""


def _litellm_config(upstream_base_url: str) -> str:
    """Routing only: one model name to the fake upstream, as an OpenAI-compatible provider."""
    return (
        "model_list:\n"
        "  - model_name: gpt-4o-mini\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o-mini\n"
        f"      api_base: {upstream_base_url}\n"
        "      api_key: bench-upstream-key\n"
    )


def litellm_version(venv: Path) -> str | None:
    """The LiteLLM version installed in ``venv`` (from its dist-info), or None when it is not installed."""
    found = sorted(venv.glob("lib/python*/site-packages/litellm-*.dist-info"))
    return found[0].name.removeprefix("litellm-").removesuffix(".dist-info") if found else None


def _started_workers(log_path: Path) -> int:
    """How many uvicorn workers have logged the end of their start-up (a small local file)."""
    return log_path.read_bytes().count(b"Application startup complete")


async def _wait_for_workers(log_path: Path, workers: int, timeout_s: float) -> None:
    """The parent opens the port before its workers have imported LiteLLM; wait until every one is up."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if _started_workers(log_path) >= workers:
            return
        await asyncio.sleep(0.25)
    raise RuntimeError(f"LiteLLM's {workers} workers did not all start within {timeout_s:g} s; see {log_path}")


@asynccontextmanager
async def litellm(context: GatewayContext) -> AsyncIterator[Gateway]:
    """LiteLLM's proxy, routing only (no database, so no budgets), in its own venv (bench/litellm/setup.sh)."""
    executable = context.litellm_venv / "bin" / "litellm"
    version = litellm_version(context.litellm_venv)
    if not executable.exists() or version is None:
        raise GatewaySkipped(f"no LiteLLM venv at {context.litellm_venv}; create it with bash bench/litellm/setup.sh")
    work_dir = context.work_dir / "litellm"
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "config.yaml").write_text(_litellm_config(context.upstream_base_url))
    (work_dir / "log_config.yaml").write_text(_LITELLM_LOG_CONFIG)
    port = free_port()
    spec = ServerSpec(
        name="litellm",
        argv=(
            str(executable),
            *("--config", str(work_dir / "config.yaml"), "--host", "127.0.0.1", "--port", str(port)),
            *("--telemetry", "False", "--num_workers", str(LITELLM_WORKERS)),
            *("--timeout_worker_healthcheck", str(LITELLM_WORKER_HEALTHCHECK_TIMEOUT_S)),
            *("--log_config", str(work_dir / "log_config.yaml")),
        ),
        port=port,
        log_dir=context.work_dir,
        env={
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_MODE": "PRODUCTION",
            "LITELLM_MASTER_KEY": LITELLM_MASTER_KEY,
            "LITELLM_LOG": "ERROR",
        },
        cwd=work_dir,
        ready_timeout_s=LITELLM_READY_TIMEOUT_S,
        stop_timeout_s=10.0,
    )
    async with serve(spec) as server:
        await _wait_for_workers(server.log_path, LITELLM_WORKERS, LITELLM_READY_TIMEOUT_S)
        yield Gateway(
            base_url=f"http://127.0.0.1:{port}/v1",
            headers={"Authorization": f"Bearer {LITELLM_MASTER_KEY}"},
            pids=(server.pid,),
            description=f"litellm[proxy] {version}, {LITELLM_WORKERS} uvicorn workers, routing only",
            warmup_rate_per_s=10.0,
            warmup_s=5.0,
        )


PORTKEY_READY_TIMEOUT_S = 60.0
PORTKEY_UPSTREAM_KEY = "bench-upstream-key"


def portkey_version(portkey_dir: Path) -> str | None:
    """The version of Portkey's gateway installed under ``portkey_dir``, or None when it is not installed."""
    manifest = portkey_dir / "node_modules" / "@portkey-ai" / "gateway" / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def portkey_headers(upstream_base_url: str) -> dict[str, str]:
    """Portkey routes by headers, with no config file: the OpenAI provider, pointed at the fake upstream.

    ``127.0.0.1`` is on Portkey's default list of trusted custom hosts, so the loopback upstream is allowed.
    """
    return {
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": upstream_base_url,
        "Authorization": f"Bearer {PORTKEY_UPSTREAM_KEY}",
    }


def portkey_argv(portkey_dir: Path, node: str, port: int) -> tuple[str, ...]:
    """One Node process running the gateway's own entry point, held to 127.0.0.1 by ``loopback.mjs``."""
    entry = portkey_dir / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"
    loopback = (portkey_dir / "loopback.mjs").as_uri()
    return (node, "--import", loopback, str(entry), f"--port={port}", "--headless")


@asynccontextmanager
async def portkey(context: GatewayContext) -> AsyncIterator[Gateway]:
    """Portkey's open-source gateway (npm ``@portkey-ai/gateway``), routing only, from bench/portkey/setup.sh."""
    node = shutil.which("node")
    version = portkey_version(context.portkey_dir)
    if node is None or version is None:
        raise GatewaySkipped(
            f"no Portkey gateway under {context.portkey_dir}/node_modules (or no node on PATH); "
            "install it with bash bench/portkey/setup.sh"
        )
    port = free_port()
    spec = ServerSpec(
        name="portkey",
        argv=portkey_argv(context.portkey_dir, node, port),
        port=port,
        log_dir=context.work_dir,
        # production: no log-viewer UI routes, as a deployed gateway runs.
        env={"NODE_ENV": "production"},
        cwd=context.portkey_dir,
        ready_timeout_s=PORTKEY_READY_TIMEOUT_S,
    )
    async with serve(spec) as server:
        yield Gateway(
            base_url=f"http://127.0.0.1:{port}/v1",
            headers=portkey_headers(context.upstream_base_url),
            pids=(server.pid,),
            description=f"@portkey-ai/gateway {version} on Node, one process, routing only",
        )


# ---------------------------------------------------------------------------------------------------
# GATEWAY REGISTRY: name -> starter. `python -m bench.run --gateways a,b` selects among these; the
# "direct" baseline always runs, since added latency is measured against it.
# ---------------------------------------------------------------------------------------------------
GATEWAYS: dict[str, GatewayStarter] = {
    BASELINE: direct,
    "bare_proxy": bare_proxy,
    "ringside_sqlite": _ringside_starter("sqlite"),
    "ringside_postgres": _ringside_starter("postgres"),
    "ringside_sqlite_per_call": _ringside_starter("sqlite", per_call=True),
    "ringside_postgres_per_call": _ringside_starter("postgres", per_call=True),
    "ringside_sqlite_logged": _ringside_starter("sqlite", request_logs=True),
    "ringside_sqlite_2edges": _ringside_starter("sqlite", edges=2),
    "litellm": litellm,
    "portkey": portkey,
}
