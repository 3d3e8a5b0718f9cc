"""The `ringside_sqlite_2edges` gateway: a core and two edge processes on one port, both listening
before the load starts, and every call answered and counted in the metrics both expose."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bench.gateways import GATEWAYS, RINGSIDE_MODEL, GatewayContext
from bench.procs import serve
from bench.run import fake_upstream_spec
from ringside_cli.listening import listens
from tests.e2e.test_metrics import samples

CALLS = 20


async def test_two_edges_listen_on_one_port_and_answer(tmp_path: Path) -> None:
    async with (
        serve(fake_upstream_spec(tmp_path)) as upstream,  # the benchmark's own: any key
        GATEWAYS["ringside_sqlite_2edges"](GatewayContext(f"{upstream.url}/v1", tmp_path)) as gateway,
    ):
        port = int(gateway.base_url.rsplit(":", 1)[1].split("/", 1)[0])
        _core, *edges = gateway.pids
        assert len(edges) == 2 and all(listens(pid, port) for pid in edges)
        body = {"model": RINGSIDE_MODEL, "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]}
        statuses = []
        for _ in range(CALLS):  # a new connection each: the kernel picks the process
            async with (
                aiohttp.ClientSession(headers=dict(gateway.headers)) as session,
                session.post(gateway.base_url + "/chat/completions", json=body) as answer,
            ):
                statuses.append(answer.status)
        assert statuses == [200] * CALLS
        async with aiohttp.ClientSession() as session, session.get(gateway.base_url[:-3] + "/metrics") as scraped:
            metrics = samples(await scraped.text())
    labels = frozenset({("route", "/v1/chat/completions"), ("method", "POST"), ("status", "200"), ("code", "")})
    assert metrics[("ringside_http_requests_total", labels)] == CALLS
