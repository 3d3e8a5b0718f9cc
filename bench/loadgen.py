"""An open-loop load generator: requests leave on a fixed schedule, whether or not earlier ones returned.

A closed loop (N workers each waiting for its answer) slows down exactly when the server does, hiding
the tail ("coordinated omission"). Here request ``i`` is due at ``start + i / rate`` and is launched
then, however many are still outstanding, so a stalled server shows up as a stalled tail.

Latency runs from the launch (the request entering the client's connection pool, so pool queueing
counts) to the last byte, timed with ``perf_counter``: uvloop's ``loop.time()`` only has millisecond
resolution. How late launches were against the schedule is reported apart as ``schedule_lag``; if it is
large, the generator, not the server, was the bottleneck and the run should not be trusted.

Run: ``python -m bench.loadgen --url http://127.0.0.1:8900/v1/chat/completions --rate 100 --duration 5``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp
import orjson

STREAM_END = b"data: [DONE]\n\n"
DEFAULT_BODY = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Benchmark prompt: say something."}],
    "max_tokens": 16,
}


@dataclass(frozen=True)
class LoadSpec:
    """One load run. ``body`` is sent as-is; for streams it must itself ask for ``"stream": true``."""

    url: str
    rate_per_s: float
    duration_s: float
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    stream: bool = False
    max_in_flight: int = 2000
    connection_limit: int = 256
    grace_s: float = 5.0
    request_timeout_s: float = 30.0


@dataclass(frozen=True)
class Percentiles:
    """Latency percentiles in milliseconds (nearest-rank)."""

    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    count: int

    @classmethod
    def of(cls, samples_s: Sequence[float]) -> Percentiles | None:
        if not samples_s:
            return None
        ordered = sorted(samples_s)

        def rank(percent: float) -> float:
            return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)] * 1000

        return cls(rank(50), rank(90), rank(99), ordered[-1] * 1000, len(ordered))


@dataclass(frozen=True)
class LoadResult:
    """What one run measured. ``latency`` is to the last byte; ``first_byte`` only for streams."""

    target_rate_per_s: float
    duration_s: float
    sent: int
    ok: int
    errors: dict[str, int]
    latency: Percentiles | None
    first_byte: Percentiles | None
    achieved_rate_per_s: float
    schedule_lag: Percentiles | None
    loadgen_cpu_s: float

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class _Run:
    """The mutable tallies of one run; one instance per :func:`run_load` call."""

    def __init__(self, spec: LoadSpec, session: aiohttp.ClientSession) -> None:
        self.spec = spec
        self.session = session
        self.headers = {"Content-Type": "application/json", **spec.headers}
        self.latencies_s: list[float] = []
        self.first_bytes_s: list[float] = []
        self.lags_s: list[float] = []
        self.errors: collections.Counter[str] = collections.Counter()
        self.last_completion = 0.0

    async def one(self, due: float) -> None:
        """Send one request due at ``due`` (perf_counter seconds) and record its outcome."""
        launched = time.perf_counter()
        self.lags_s.append(launched - due)
        first_byte: float | None = None
        tail = b""
        try:
            async with self.session.post(self.spec.url, data=self.spec.body, headers=self.headers) as response:
                if self.spec.stream:
                    async for chunk in response.content.iter_any():
                        if first_byte is None:
                            first_byte = time.perf_counter()
                        tail = (tail + chunk)[-len(STREAM_END) :]
                else:
                    await response.read()
                status = response.status
        except Exception as failure:
            # Every failure is a result, named by its type (ClientPayloadError, TimeoutError, ...).
            self.errors[type(failure).__name__] += 1
            return
        finished = time.perf_counter()
        self.last_completion = max(self.last_completion, finished)
        if status != 200:
            self.errors[f"http_{status}"] += 1
        elif self.spec.stream and tail != STREAM_END:
            self.errors["stream_truncated"] += 1
        else:
            self.latencies_s.append(finished - launched)
            if first_byte is not None:
                self.first_bytes_s.append(first_byte - launched)

    async def execute(self) -> LoadResult:
        """Launch on schedule until the duration is up, then drain for at most ``grace_s``."""
        spec = self.spec
        cpu_start = time.process_time()
        start = time.perf_counter()
        end = start + spec.duration_s
        in_flight: set[asyncio.Task[None]] = set()
        for index in range(max(1, round(spec.rate_per_s * spec.duration_s))):
            due = start + index / spec.rate_per_s
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.perf_counter() >= end:
                break
            if len(in_flight) >= spec.max_in_flight:
                self.errors["in_flight_cap"] += 1
                continue
            task = asyncio.create_task(self.one(due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await self._drain(in_flight)
        elapsed_s = max(spec.duration_s, self.last_completion - start)
        return LoadResult(
            target_rate_per_s=spec.rate_per_s,
            duration_s=spec.duration_s,
            sent=len(self.lags_s),
            ok=len(self.latencies_s),
            errors=dict(self.errors),
            latency=Percentiles.of(self.latencies_s),
            first_byte=Percentiles.of(self.first_bytes_s) if spec.stream else None,
            achieved_rate_per_s=len(self.latencies_s) / elapsed_s,
            schedule_lag=Percentiles.of(self.lags_s),
            loadgen_cpu_s=time.process_time() - cpu_start,
        )

    async def _drain(self, in_flight: set[asyncio.Task[None]]) -> None:
        if not in_flight:
            return
        _, pending = await asyncio.wait(set(in_flight), timeout=self.spec.grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if pending:
            self.errors["cancelled_after_grace"] += len(pending)


async def run_load(spec: LoadSpec) -> LoadResult:
    """Run one open-loop load with its own connection pool (so runs do not share warm connections)."""
    connector = aiohttp.TCPConnector(limit=spec.connection_limit)
    timeout = aiohttp.ClientTimeout(total=spec.request_timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        return await _Run(spec, session).execute()


def _parse_header(text: str) -> tuple[str, str]:
    name, separator, value = text.partition(":")
    if not separator:
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def main(argv: list[str] | None = None) -> None:
    """CLI: run one load and print its result as JSON."""
    import uvloop

    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, required=True, help="seconds (hard cap)")
    parser.add_argument("--max-in-flight", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--body", default=None, help="JSON body (default: a small chat request)")
    parser.add_argument("--header", action="append", type=_parse_header, default=[])
    parser.add_argument("--stream", action="store_true", help="ask for a stream and time its last byte")
    args = parser.parse_args(argv)
    body = orjson.loads(args.body) if args.body else dict(DEFAULT_BODY)
    if args.stream:
        body["stream"] = True
    spec = LoadSpec(
        url=args.url,
        rate_per_s=args.rate,
        duration_s=args.duration,
        body=orjson.dumps(body),
        headers=dict(args.header),
        stream=args.stream,
        max_in_flight=args.max_in_flight,
        connection_limit=args.connections,
    )
    result = uvloop.run(run_load(spec))
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
