"""What observing one metered request costs the edge, in CPU (issue 21): the metrics a request and its
settle update, and its log line — in process, no network, so a busy machine hardly moves it.

Runs the edge's `observe` middleware around a handler that admits and settles a call as the metered
path does (`calls.admitted`, `calls.settled`), on a real route's match; then the same handler bare.
The difference is the per-request cost: metrics only (log level WARNING), and with the request line
at INFO in JSON and in text (written to /dev/null through a real handler).

    python -m bench.observability_cost [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from edge_http.observability import observe
from edge_http.routes import add_routes
from ringside_server.answering import Answering
from ringside_server.observability import calls
from ringside_server.observability.logs import JsonFormatter, TextFormatter
from ringside_server.observability.metrics import EdgeMetrics

MODEL = "fc:openai/gpt-4o-mini"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def metered_handler(metrics: EdgeMetrics | None) -> Handler:
    """What the metered path does for observation, with `metrics` (or none: the bare handler)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        calls.admitted(metrics, "lease", "cus_bench", "req_bench")
        calls.settled(metrics, "openai", MODEL, "completed", (12, 8), (6150, 6150), 0.0004)
        return web.Response(status=200, body=b"{}", headers={"x-request-id": "req_bench"})

    return handler


async def cpu_per_request_us(handler: Handler, request: web.Request, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        await handler(request)
    return (time.process_time() - started) / requests * 1e6


async def main(requests: int) -> None:
    app = web.Application()
    add_routes(app)
    metrics = EdgeMetrics.create()
    observed_handler, bare_handler = metered_handler(metrics), metered_handler(None)
    request = make_mocked_request("POST", "/v1/chat/completions", app=app)
    match = await app.router.resolve(request)  # the route the real request matches
    match.add_app(app)
    request._match_info = match
    middleware = observe(metrics, Answering())

    async def observed(req: web.Request) -> web.StreamResponse:
        return await middleware(req, observed_handler)

    requests_log = logging.getLogger("ringside.requests")
    requests_log.propagate = False
    sink: logging.Handler = logging.FileHandler(os.devnull)
    requests_log.addHandler(sink)
    rows = []
    for name, level, formatter in (
        ("metrics only (log level WARNING)", logging.WARNING, None),
        ("metrics + JSON request line", logging.INFO, JsonFormatter("edge")),
        ("metrics + text request line", logging.INFO, TextFormatter()),
    ):
        requests_log.setLevel(level)
        if formatter is not None:
            sink.setFormatter(formatter)
        await cpu_per_request_us(observed, request, requests // 10)  # warm
        bare = await cpu_per_request_us(bare_handler, request, requests)
        full = await cpu_per_request_us(observed, request, requests)
        rows.append((name, full - bare))
    print("| per metered request | CPU µs |\n|---|---:|")
    for name, cost_us in rows:
        print(f"| {name} | {cost_us:.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().requests))
