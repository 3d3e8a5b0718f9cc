"""What each route of issue 19 adds to a call's latency: sequential calls, one at a time, straight to
the fake OpenAI upstream and through Ringside (core + edge on SQLite, full metering under a customer
with a budget and limits), median and p90 of each, and the difference.

`/v1/messages` has no direct twin at an OpenAI upstream: it is compared with the same conversation
sent straight to the fake's `/chat/completions` (what Ringside sends it), so its figure includes the
translation both ways.

Run: ``.venv/bin/python -m bench.surface_latency [--calls 200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from bench.gateways import GatewayContext, _ringside_stack
from bench.procs import ServerSpec, free_port, python_module_argv, serve

WAV = b"RIFF" + b"\x00" * 32_000
Send = Callable[[aiohttp.ClientSession, str, dict[str, str]], Awaitable[None]]


async def _check(response: aiohttp.ClientResponse) -> None:
    body = await response.read()
    if response.status != 200:
        raise RuntimeError(f"{response.url} answered {response.status}: {body[:300]!r}")


def _json(path: str, body: dict[str, object]) -> Send:
    async def send(session: aiohttp.ClientSession, base: str, headers: dict[str, str]) -> None:
        async with session.post(base + path, json=body, headers=headers) as response:
            await _check(response)

    return send


def _form(path: str, fields: dict[str, str]) -> Send:
    async def send(session: aiohttp.ClientSession, base: str, headers: dict[str, str]) -> None:
        form = aiohttp.FormData()
        for name, value in fields.items():
            form.add_field(name, value)
        form.add_field("file", WAV, filename="a.wav", content_type="audio/wav")
        async with session.post(base + path, data=form, headers=headers) as response:
            await _check(response)

    return send


HI = [{"role": "user", "content": "Hi"}]
# route → (direct request to the fake, the same call through Ringside)
ROUTES: dict[str, tuple[Send, Send]] = {
    "chat (reference)": (
        _json("/chat/completions", {"model": "gpt-4o-mini", "messages": HI, "max_tokens": 16}),
        _json("/chat/completions", {"model": "fc:openai/gpt-4o-mini", "messages": HI, "max_tokens": 16}),
    ),
    "messages (match: ref → OpenAI)": (
        _json("/chat/completions", {"model": "gpt-5-mini", "messages": HI, "max_completion_tokens": 16}),
        _json("/messages", {"model": "match:openai/gpt-mini>=4", "messages": HI, "max_tokens": 16}),
    ),
    "images/generations": (
        _json("/images/generations", {"model": "dall-e-2", "prompt": "a barn"}),
        _json("/images/generations", {"model": "fc:openai/dall-e-2", "prompt": "a barn"}),
    ),
    "audio/speech": (
        _json("/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "Hello there"}),
        _json("/audio/speech", {"model": "fc:openai/tts-1", "voice": "alloy", "input": "Hello there"}),
    ),
    "audio/transcriptions": (
        _form("/audio/transcriptions", {"model": "whisper-1"}),
        _form("/audio/transcriptions", {"model": "fc:openai/whisper-1"}),
    ),
}


async def _timings_ms(
    send: Send, session: aiohttp.ClientSession, base: str, headers: dict[str, str], calls: int
) -> list[float]:
    for _ in range(min(20, calls)):  # warm-up: connections, imports, leases
        await send(session, base, headers)
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        await send(session, base, headers)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _p(values: list[float], pct: float) -> float:
    return statistics.quantiles(values, n=100)[int(pct) - 1]


async def main(calls: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        port = free_port()
        fake = ServerSpec(
            name="fake_upstream",
            argv=python_module_argv("tests.fakes.openai_upstream", "--host", "127.0.0.1", "--port", str(port)),
            port=port,
            log_dir=work,
        )
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(serve(fake))
            direct = f"http://127.0.0.1:{port}/v1"
            context = GatewayContext(upstream_base_url=direct, work_dir=work)
            gateway = await stack.enter_async_context(_ringside_stack(context, "sqlite", None, {}))
            session = await stack.enter_async_context(aiohttp.ClientSession())
            print(f"{calls} sequential calls per route; milliseconds (median / p90)")
            print("| route | direct | through Ringside | added (median) |")
            print("|---|---|---|---|")
            for route, (straight, through) in ROUTES.items():
                alone = await _timings_ms(straight, session, direct, {}, calls)
                metered = await _timings_ms(through, session, gateway.base_url, dict(gateway.headers), calls)
                added = statistics.median(metered) - statistics.median(alone)
                print(
                    f"| {route} | {statistics.median(alone):.2f} / {_p(alone, 90):.2f} | "
                    f"{statistics.median(metered):.2f} / {_p(metered, 90):.2f} | {added:.2f} |"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    asyncio.run(main(parser.parse_args().calls))
