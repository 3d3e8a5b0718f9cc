"""Time from a threshold-crossing call to the receiver getting its webhook, on the embedded stack.

    python -m bench.webhook_latency [--events 100] [--database-url postgresql://…]

Starts a Temporal dev server (file-backed, WAL, as `ringside up` runs it), a core, an edge and the
worker, plus a receiver on loopback (allowed by RINGSIDE_WEBHOOK_ALLOWED_NETWORKS), then, one event
at a time:
  * customer.budget_exceeded: from sending a call that the cap refuses (a customer with a $0 cap)
    to the delivery arriving (the event commits before the 402 is answered);
  * wallet.low (budget_threshold): from sending the call whose posted spend crosses 80% to the
    delivery arriving (with leases on, the posting waits for the edge's lease report window).
Prints p50/p95/max per event type and writes bench/results/<date>-webhooks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.procs import REPO_ROOT, ServerSpec, free_port, python_module_argv, serve

MODEL = "fc:openai/gpt-4o-mini"
DELIVERY_TIMEOUT_S = 30.0


class Receiver:
    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], float] = {}
        self.waiters: dict[tuple[str, str], asyncio.Event] = {}

    def _waiter(self, key: tuple[str, str]) -> asyncio.Event:
        return self.waiters.setdefault(key, asyncio.Event())

    async def handle(self, request: web.Request) -> web.Response:
        event = json.loads(await request.read())
        key = (event["type"], (event["data"].get("customer") or {}).get("id", ""))
        self.arrived.setdefault(key, time.perf_counter())
        self._waiter(key).set()
        return web.json_response({})

    async def wait(self, event_type: str, customer_id: str) -> float:
        await asyncio.wait_for(self._waiter((event_type, customer_id)).wait(), DELIVERY_TIMEOUT_S)
        return self.arrived[(event_type, customer_id)]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


async def _json(session: aiohttp.ClientSession, method: str, url: str, key: str, body: Any = None) -> Any:
    async with session.request(method, url, json=body, headers={"Authorization": f"Bearer {key}"}) as response:
        payload = await response.json()
        if response.status >= 400:
            raise RuntimeError(f"{method} {url}: {response.status} {payload}")
        return payload


async def _call(session: aiohttp.ClientSession, base: str, key: str, customer_id: str) -> int:
    body = {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "measure me"}]}
    headers = {"Authorization": f"Bearer {key}", "FC-Customer": customer_id}
    async with session.post(f"{base}/v1/chat/completions", json=body, headers=headers) as response:
        await response.read()
        return response.status


async def _wait_healthy(session: aiohttp.ClientSession, base: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.2)
    raise RuntimeError("the stack (core, edge, worker) did not become healthy")


async def measure(events: int, database_url: str | None, work: Path) -> dict[str, list[float]]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    receiver_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", receiver_port).start()

    temporal_port, grpc_port, http_port = free_port(), free_port(), free_port()
    env = {
        "RINGSIDE_DATA_DIR": str(work / "data"),
        "RINGSIDE_GRPC_PORT": str(grpc_port),
        "RINGSIDE_HTTP_PORT": str(http_port),
        "RINGSIDE_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "RINGSIDE_INTERNAL_TOKEN": "rsint_bench_" + secrets.token_hex(16),
        "RINGSIDE_HEALTH_ROLES": "core,edge,worker",
        "RINGSIDE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "RINGSIDE_LOG_LEVEL": "WARNING",
    }
    if database_url:
        env["RINGSIDE_DATABASE_URL"] = database_url
    temporal = ServerSpec(
        "temporal",
        (
            str(Path(sys.executable).parent / "temporal"),
            *("server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(temporal_port)),
            *("--db-filename", str(work / "temporal.db"), "--log-level", "warn"),
            *("--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"),
        ),
        temporal_port,
        work,
    )
    core = ServerSpec("core", python_module_argv("ringside_cli", "core"), grpc_port, work, env)
    edge = ServerSpec("edge", python_module_argv("ringside_cli", "edge"), http_port, work, env)
    base = f"http://127.0.0.1:{http_port}"
    samples: dict[str, list[float]] = {"customer.budget_exceeded": [], "wallet.low": []}
    async with serve(temporal), serve(core), serve(edge), aiohttp.ClientSession() as session:
        with (work / "worker.log").open("wb") as log:
            worker = await asyncio.create_subprocess_exec(
                *python_module_argv("ringside_cli", "worker"),
                env={**os.environ, **env},
                stdout=log,
                stderr=log,
                cwd=REPO_ROOT,
            )
        try:
            await _wait_healthy(session, base)
            key = json.loads((work / "data" / "credentials.json").read_text())["test_api_key"]
            hook = {
                "url": f"http://127.0.0.1:{receiver_port}/hook",
                "events": ["customer.budget_exceeded", "wallet.low"],
            }
            await _json(session, "POST", f"{base}/v1/webhooks", key, hook)
            probe = await _json(session, "POST", f"{base}/v1/customers", key, {"external_id": "probe"})
            await _call(session, base, key, probe["id"])
            one_call = 0.0
            while not one_call:
                await asyncio.sleep(0.2)
                one_call = (await _json(session, "GET", f"{base}/v1/customers/{probe['id']}", key))["spend_usd_mtd"]
            for index in range(events):
                capped = await _json(
                    session, "POST", f"{base}/v1/customers", key, {"external_id": f"cap{index}", "budget_usd": 0}
                )
                sent = time.perf_counter()
                assert await _call(session, base, key, capped["id"]) == 402
                samples["customer.budget_exceeded"].append(
                    await receiver.wait("customer.budget_exceeded", capped["id"]) - sent
                )

                budget = f"{one_call / 0.9:.9f}"  # one call posts ~90% of it: crosses 80%
                low = await _json(
                    session, "POST", f"{base}/v1/customers", key, {"external_id": f"low{index}", "budget_usd": budget}
                )
                sent = time.perf_counter()
                await _call(session, base, key, low["id"])
                with contextlib.suppress(TimeoutError):
                    samples["wallet.low"].append(await receiver.wait("wallet.low", low["id"]) - sent)
        finally:
            worker.terminate()
            await worker.wait()
    await runner.cleanup()
    return samples


def report(samples: dict[str, list[float]], events: int, backend: str) -> str:
    lines = [
        f"# Webhook latency ({datetime.date.today().isoformat()}, {backend}, {events} events per type)",
        "",
        "From sending the call that crosses the threshold to the receiver getting the event (ms): the",
        "event's commit, the relay's long poll, a workflow start on the Temporal dev server (file-backed,",
        "WAL), the activity's signed POST. One event at a time; the 2-core machine is shared.",
        "",
        f"Command: `python -m bench.webhook_latency --events {events}"
        + (" --database-url postgresql://…`" if backend == "postgresql" else "`"),
        "",
        "| event | n | p50 | p95 | max |",
        "|---|---|---|---|---|",
    ]
    for name, values in samples.items():
        if values:
            ms = [v * 1000 for v in values]
            p50, p95 = _percentile(ms, 50), _percentile(ms, 95)
            lines.append(f"| {name} | {len(ms)} | {p50:.0f} | {p95:.0f} | {max(ms):.0f} |")
        else:
            lines.append(f"| {name} | 0 | – | – | – |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--out", type=Path, default=None, help="write the markdown table here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ringside-webhook-bench-") as tmp:
        samples = asyncio.run(measure(max(1, min(args.events, 10_000)), args.database_url, Path(tmp)))
    backend = "postgresql" if args.database_url else "sqlite"
    text = report(samples, args.events, backend)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
