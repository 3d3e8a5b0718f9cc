"""What counting every request against the rate limits (issue 15) costs a request that is not a
model call: sequential `GET /v1/customers/:id` through Ringside (core + edge on SQLite) with the
layers at their defaults (one CountRequest to the core per request) and with all three turned off
(RINGSIDE_RATE_LIMIT_*=0: the edge skips the count), median and p90 of each, and the difference.
Model calls are not counted this way (their admission counts them), so they are not measured here.

Run: ``.venv/bin/python -m bench.request_count [--requests 500]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from bench.gateways import GatewayContext, _ringside_stack
from bench.procs import serve
from bench.run import fake_upstream_spec

OFF = {
    "RINGSIDE_RATE_LIMIT_IP_PER_MIN": "0",
    "RINGSIDE_RATE_LIMIT_CLIENT_TOKEN_PER_MIN": "0",
    "RINGSIDE_RATE_LIMIT_ACCOUNT_PER_MIN": "0",
}
# The defaults (10,000 a minute per IP) would refuse a long run from one address: high, but on.
ON = {"RINGSIDE_RATE_LIMIT_IP_PER_MIN": "1000000", "RINGSIDE_RATE_LIMIT_ACCOUNT_PER_MIN": "1000000"}


async def _timings_ms(session: aiohttp.ClientSession, url: str, headers: dict[str, str], requests: int) -> list[float]:
    timings = []
    for index in range(requests + 20):  # the first 20 warm connections and caches
        started = time.perf_counter()
        async with session.get(url, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}")
        if index >= 20:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


async def _measure(work: Path, upstream: str, env: dict[str, str], requests: int) -> list[float]:
    context = GatewayContext(upstream_base_url=upstream, work_dir=work)
    async with AsyncExitStack() as stack:
        gateway = await stack.enter_async_context(_ringside_stack(context, "sqlite", None, env))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        headers = dict(gateway.headers)
        url = f"{gateway.base_url}/customers/{headers.pop('FC-Customer')}"
        return await _timings_ms(session, url, headers, requests)


async def main(requests: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        fake = fake_upstream_spec(work)
        async with serve(fake):
            upstream = f"http://127.0.0.1:{fake.port}/v1"
            off = await _measure(work / "off", upstream, OFF, requests)
            on = await _measure(work / "on", upstream, ON, requests)
    print(f"{requests} sequential GET /v1/customers/:id; milliseconds (median / p90)")
    print("| layers | latency | added (median) |")
    print("|---|---|---|")
    for name, timings in (("off (not counted)", off), ("on (one CountRequest)", on)):
        p90 = statistics.quantiles(timings, n=10)[8]
        added = statistics.median(timings) - statistics.median(off)
        print(f"| {name} | {statistics.median(timings):.2f} / {p90:.2f} | {added:.2f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    asyncio.run(main(parser.parse_args().requests))
