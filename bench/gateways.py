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
        argv=python_module_argv(
            "bench.bare_proxy", "--port", str(port), "--upstream", context.upstream_base_url
        ),
        port=port,
        log_dir=context.work_dir,
    )
    async with serve(spec) as server:
        yield Gateway(base_url=f"http://127.0.0.1:{port}/v1", pids=(server.pid,))


# A Ringside entry will look like this (env names are illustrative; use the real Settings ones):
#
# @asynccontextmanager
# async def ringside(context: GatewayContext) -> AsyncIterator[Gateway]:
#     port = free_port()
#     env = {"RINGSIDE_EDGE_PORT": str(port), "RINGSIDE_UPSTREAM_BASE_URL": context.upstream_base_url,
#            "RINGSIDE_DATA_DIR": str(context.work_dir / "ringside")}
#     spec = ServerSpec(name="ringside", argv=("ringside", "up"), port=port, env=env,
#                       log_dir=context.work_dir)
#     async with serve(spec) as server:   # stops the whole process group (edge + core) on exit
#         yield Gateway(base_url=f"http://127.0.0.1:{port}/v1",
#                       headers={"Authorization": "Bearer <a seeded customer key>"}, pids=(server.pid,))

# ---------------------------------------------------------------------------------------------------
# GATEWAY REGISTRY: name -> starter. `python -m bench.run --gateways a,b` selects among these; the
# "direct" baseline always runs, since added latency is measured against it.
# ---------------------------------------------------------------------------------------------------
GATEWAYS: dict[str, GatewayStarter] = {
    BASELINE: direct,
    "bare_proxy": bare_proxy,
}
