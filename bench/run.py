"""Benchmark gateways against the direct path to a fake upstream, and write the results.

Starts the fake OpenAI upstream (instant: no latency, no token interval) and every selected gateway,
then runs open-loop loads at fixed rates, non-stream and stream, interleaving gateways and repetitions so
drift (noisy neighbours, thermal throttling) hits every gateway alike. A max-rate probe then raises the
rate until p99 latency passes a limit or errors appear.

Run: ``python -m bench.run --quick`` (about a minute) or ``python -m bench.run`` (the full plan).
Writes ``<out>/<YYYY-MM-DD>.json`` (``-quick`` suffixed for --quick) and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from bench.gateways import BASELINE, GATEWAYS, Gateway, GatewayContext
from bench.loadgen import LoadResult, LoadSpec, run_load
from bench.procs import REPO_ROOT, ServerSpec, cpu_seconds, free_port, python_module_argv, serve
from bench.report import Measurement, Probe, ProbeStep, SummaryRow, markdown, summarize

MODES = ("non_stream", "stream")
MODEL = "gpt-4o-mini"
PROMPT = "Benchmark prompt: say something."
WARMUP_RATE_PER_S = 50.0
# A probe rung where most launches ran this late measured the generator, not the gateway. p90, not p99:
# on a shared machine one descheduling of the generator lifts p99 of a short rung on its own.
GENERATOR_LAG_P90_LIMIT_MS = 10.0


@dataclass(frozen=True)
class ProbePlan:
    """The max-rate ladder: ``start * growth**k`` for at most ``max_steps`` rungs.

    A failing rung is run once more before the ladder stops, so one hiccup does not end the probe.
    """

    start_rate_per_s: float
    growth: float
    max_steps: int
    step_duration_s: float
    p99_limit_ms: float = 100.0


@dataclass(frozen=True)
class BenchPlan:
    """What to run. ``gateways`` always gets the direct baseline added."""

    name: str
    rates_per_s: tuple[float, ...]
    duration_s: float
    repetitions: int
    gateways: tuple[str, ...] = tuple(GATEWAYS)
    modes: tuple[str, ...] = MODES
    probe: ProbePlan | None = None
    warmup_s: float = 1.0


QUICK = BenchPlan(
    name="quick",
    rates_per_s=(50, 200),
    duration_s=2,
    repetitions=1,
    probe=ProbePlan(start_rate_per_s=100, growth=1.6, max_steps=10, step_duration_s=1),
    warmup_s=0.5,
)
FULL = BenchPlan(
    name="full",
    rates_per_s=(20, 200, 500, 1000, 2000),
    duration_s=10,
    repetitions=3,
    probe=ProbePlan(start_rate_per_s=100, growth=1.3, max_steps=18, step_duration_s=5),
)


@dataclass(frozen=True)
class BenchReport:
    """Everything one run of the harness produced; written as JSON."""

    date: str
    plan: BenchPlan
    machine: dict[str, Any]
    summary: list[SummaryRow]
    probes: list[Probe]
    measurements: list[Measurement]


def request_body(mode: str, gateway: Gateway) -> bytes:
    """The chat request sent in ``mode``; streams ask for usage, as a metering gateway needs."""
    body: dict[str, Any] = {
        "model": gateway.model or MODEL,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": 16,
    }
    if mode == "stream":
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return orjson.dumps(body)


def load_spec(gateway: Gateway, mode: str, rate_per_s: float, duration_s: float) -> LoadSpec:
    """The load that sends ``mode`` requests to ``gateway`` at ``rate_per_s``."""
    return LoadSpec(
        url=f"{gateway.base_url}/chat/completions",
        rate_per_s=rate_per_s,
        duration_s=duration_s,
        body=request_body(mode, gateway),
        headers=gateway.headers,
        stream=mode == "stream",
    )


@dataclass(frozen=True)
class _Bench:
    """The running servers of one benchmark: the upstream's pid and every started gateway."""

    upstream_pid: int
    gateways: dict[str, Gateway]

    async def measure(self, name: str, mode: str, rate_per_s: float, duration_s: float, rep: int) -> Measurement:
        gateway = self.gateways[name]
        gateway_before = cpu_seconds(gateway.pids) if gateway.pids else None
        upstream_before = cpu_seconds([self.upstream_pid])
        load = await run_load(load_spec(gateway, mode, rate_per_s, duration_s))
        gateway_cpu_s = None if gateway_before is None else cpu_seconds(gateway.pids) - gateway_before
        return Measurement(
            gateway=name,
            mode=mode,
            rate_per_s=rate_per_s,
            repetition=rep,
            load=load,
            gateway_cpu_s=gateway_cpu_s,
            upstream_cpu_s=cpu_seconds([self.upstream_pid]) - upstream_before,
        )

    async def fixed_rates(self, plan: BenchPlan) -> list[Measurement]:
        names = list(self.gateways)
        measurements = []
        total = plan.repetitions * len(plan.rates_per_s) * len(plan.modes) * len(names)
        for rep in range(plan.repetitions):
            # Rotate who goes first so no gateway always runs right after another's heavy load.
            order = names[rep % len(names) :] + names[: rep % len(names)]
            for rate in plan.rates_per_s:
                for mode in plan.modes:
                    for name in order:
                        measurement = await self.measure(name, mode, rate, plan.duration_s, rep)
                        measurements.append(measurement)
                        _progress(f"[{len(measurements)}/{total}] {name} {mode} {rate:g}/s", measurement.load)
        return measurements

    async def probe(self, name: str, mode: str, plan: ProbePlan) -> Probe:
        gateway = self.gateways[name]
        steps: list[ProbeStep] = []
        rate = plan.start_rate_per_s
        best: float | None = None
        reason = f"reached the last of {plan.max_steps} steps"
        for _ in range(plan.max_steps):
            failure = None
            for attempt in ("", " (retry)"):
                load = await run_load(load_spec(gateway, mode, rate, plan.step_duration_s))
                failure = _probe_failure(load, rate, plan.p99_limit_ms)
                steps.append(ProbeStep(rate_per_s=rate, passed=failure is None, load=load))
                _progress(f"probe {name} {mode} {rate:.0f}/s{attempt}", load)
                if failure is None:
                    break
            if failure is not None:
                reason = f"{rate:.0f}/s twice: {failure}"
                break
            best, rate = rate, rate * plan.growth
        return Probe(gateway=name, mode=mode, max_rate_per_s=best, stop_reason=reason, steps=steps)


def _probe_failure(load: LoadResult, rate_per_s: float, p99_limit_ms: float) -> str | None:
    if load.error_count:
        return f"errors {load.errors}"
    if load.latency is None or load.latency.p99_ms > p99_limit_ms:
        return f"p99 {load.latency.p99_ms if load.latency else float('nan'):.1f} ms > {p99_limit_ms:g} ms"
    if load.achieved_rate_per_s < 0.9 * rate_per_s:
        return f"achieved only {load.achieved_rate_per_s:.0f}/s"
    if load.schedule_lag is not None and load.schedule_lag.p90_ms > GENERATOR_LAG_P90_LIMIT_MS:
        return f"load generator fell behind (lag p90 {load.schedule_lag.p90_ms:.1f} ms): a lower bound"
    return None


def _progress(label: str, load: LoadResult) -> None:
    p50 = f"{load.latency.p50_ms:.2f}" if load.latency else "-"
    p99 = f"{load.latency.p99_ms:.2f}" if load.latency else "-"
    print(f"{label}: ok {load.ok} errors {load.error_count} p50 {p50} ms p99 {p99} ms", file=sys.stderr)


def machine() -> dict[str, Any]:
    """Where the numbers came from; load generator, upstream and gateways share these CPUs."""
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "note": "load generator, fake upstream and gateway processes all run on this machine",
    }


async def run_benchmark(plan: BenchPlan, work_dir: Path) -> BenchReport:
    """Start the fake upstream and the plan's gateways, run every load, and stop them all."""
    names = [BASELINE, *(name for name in plan.gateways if name != BASELINE)]
    upstream_port = free_port()
    upstream_spec = ServerSpec(
        name="fake_upstream",
        argv=python_module_argv("tests.fakes.openai_upstream", "--host", "127.0.0.1", "--port", str(upstream_port)),
        port=upstream_port,
        log_dir=work_dir,
    )
    async with serve(upstream_spec) as upstream, AsyncExitStack() as stack:
        context = GatewayContext(upstream_base_url=f"{upstream.url}/v1", work_dir=work_dir)
        gateways = {name: await stack.enter_async_context(GATEWAYS[name](context)) for name in names}
        bench = _Bench(upstream_pid=upstream.pid, gateways=gateways)
        for name in names:
            for mode in plan.modes:
                await run_load(load_spec(gateways[name], mode, WARMUP_RATE_PER_S, plan.warmup_s))
        measurements = await bench.fixed_rates(plan)
        probes = []
        if plan.probe is not None:
            probes = [await bench.probe(name, mode, plan.probe) for name in names for mode in plan.modes]
    return BenchReport(
        date=datetime.date.today().isoformat(),
        plan=plan,
        machine=machine(),
        summary=summarize(measurements),
        probes=probes,
        measurements=measurements,
    )


def write_report(report: BenchReport, out_dir: Path) -> Path:
    """Write the report as ``<out_dir>/<date>.json`` (``<date>-<plan>.json`` for other plans than full)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "" if report.plan.name == FULL.name else f"-{report.plan.name}"
    path = out_dir / f"{report.date}{suffix}.json"
    path.write_bytes(orjson.dumps(report, default=str, option=orjson.OPT_INDENT_2))
    return path


def _names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in GATEWAYS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown gateways {unknown}; registered: {sorted(GATEWAYS)}")
    return names


def parse_plan(argv: Sequence[str] | None = None) -> tuple[BenchPlan, Path]:
    """The plan and output directory from the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="rates 50 and 200 for 2 s each, one repetition")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    parser.add_argument("--gateways", type=_names, default=None, help=f"comma-separated, from {sorted(GATEWAYS)}")
    parser.add_argument("--rates", default=None, help="comma-separated requests/s, overriding the plan's")
    parser.add_argument("--duration", type=float, default=None, help="seconds per load, overriding the plan's")
    parser.add_argument("--repetitions", type=int, default=None)
    parser.add_argument("--no-probe", action="store_true", help="skip the max-rate probe")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.gateways:
        plan = replace(plan, gateways=args.gateways)
    if args.rates:
        plan = replace(plan, rates_per_s=tuple(float(rate) for rate in args.rates.split(",")))
    if args.duration:
        plan = replace(plan, duration_s=args.duration)
    if args.repetitions:
        plan = replace(plan, repetitions=args.repetitions)
    if args.no_probe:
        plan = replace(plan, probe=None)
    if any((args.rates, args.duration, args.repetitions, args.no_probe)):
        # An edited plan is not the plan its file name would claim; keep it from replacing that file.
        plan = replace(plan, name=f"{plan.name}-custom")
    return plan, args.out


def main(argv: Sequence[str] | None = None) -> None:
    """CLI entry point; runs on uvloop."""
    import uvloop

    plan, out_dir = parse_plan(argv)
    work_dir = out_dir / "tmp" / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    report = uvloop.run(run_benchmark(plan, work_dir))
    path = write_report(report, out_dir)
    print(markdown(report.summary, report.probes))
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
