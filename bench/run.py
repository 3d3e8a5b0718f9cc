"""Benchmark gateways against the direct path to a fake upstream, and write the results.

Starts the fake OpenAI upstream (instant: no latency, no token interval) and every selected gateway,
then runs open-loop loads at fixed rates, non-stream and stream, interleaving gateways and repetitions so
drift (noisy neighbours, thermal throttling) hits every gateway alike. A max-rate probe then raises the
rate until p99 latency passes a limit or errors appear, and each gateway is run again at half of its own
max rate. Before every load the gateway and the upstream are let go quiet (bounded), so one gateway's
backlog is not charged to the next.

Run: ``python -m bench.run --quick`` (a few minutes) or ``python -m bench.run`` (the full plan).
Writes ``<out>/<YYYY-MM-DD>.json``, ``.md`` and ``.png`` (``-<plan>`` suffixed for other plans than
full) and prints the Markdown.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from bench.databases import backend_pids
from bench.gateways import (
    BASELINE,
    GATEWAYS,
    LITELLM_VENV,
    PORTKEY_DIR,
    Gateway,
    GatewayContext,
    GatewaySkipped,
    litellm_version,
    portkey_version,
)
from bench.loadgen import LoadResult, LoadSpec, run_load
from bench.machine import machine, source
from bench.plan import FULL, MODES, QUICK, BenchPlan, ProbePlan
from bench.procs import (
    REPO_ROOT,
    ServerSpec,
    cpu_seconds,
    free_port,
    machine_busy_seconds,
    python_module_argv,
    serve,
    stoppable,
    wait_idle,
)
from bench.report import HALF_MAX, Measurement, Probe, ProbeStep, Saturated, SummaryRow, markdown, summarize
from bench.targets import all_checks as target_checks
from bench.targets import markdown as targets_markdown

__all__ = ["MODES", "BenchPlan", "BenchReport", "ProbePlan", "run_benchmark", "write_report"]

MODEL = "gpt-4o-mini"
PROMPT = "Benchmark prompt: say something."
WARMUP_RATE_PER_S = 50.0
# A probe rung where most launches ran this late measured the generator, not the gateway. p90, not p99:
# on a shared machine one descheduling of the generator lifts p99 of a short rung on its own.
GENERATOR_LAG_P90_LIMIT_MS = 10.0


@dataclass(frozen=True)
class BenchReport:
    """Everything one run of the harness produced; written as JSON."""

    date: str
    plan: BenchPlan
    machine: dict[str, Any]
    summary: list[SummaryRow]
    probes: list[Probe]
    measurements: list[Measurement]
    source: dict[str, Any] = field(default_factory=dict)
    gateways: dict[str, str] = field(default_factory=dict)
    skipped_gateways: dict[str, str] = field(default_factory=dict)
    saturated: list[Saturated] = field(default_factory=list)
    started: str = ""
    finished: str = ""

    def markdown(self) -> str:
        return markdown(self.summary, self.probes, self.saturated, self.skipped_gateways)


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


def load_failure(load: LoadResult, rate_per_s: float, p99_limit_ms: float) -> str | None:
    """Why ``load`` shows its gateway could not sustain ``rate_per_s``; None when it could."""
    if load.error_count:
        return f"errors {load.errors}"
    if load.latency is None or load.latency.p99_ms > p99_limit_ms:
        return f"p99 {load.latency.p99_ms if load.latency else float('nan'):.1f} ms > {p99_limit_ms:g} ms"
    if load.achieved_rate_per_s < 0.9 * rate_per_s:
        return f"achieved only {load.achieved_rate_per_s:.0f}/s"
    if load.schedule_lag is not None and load.schedule_lag.p90_ms > GENERATOR_LAG_P90_LIMIT_MS:
        return f"load generator fell behind (lag p90 {load.schedule_lag.p90_ms:.1f} ms): a lower bound"
    return None


@dataclass
class _Bench:
    """The running servers of one benchmark: the upstream's pid and every started gateway."""

    upstream_pid: int
    gateways: dict[str, Gateway]
    quiet_window_s: float = 0.5
    saturated: list[Saturated] = field(default_factory=list)

    async def quiet(self, name: str) -> None:
        await wait_idle([*self.gateways[name].pids, self.upstream_pid], window_s=self.quiet_window_s)

    async def run(self, name: str, mode: str, rate_per_s: float, duration_s: float) -> LoadResult:
        await self.quiet(name)
        return await run_load(load_spec(self.gateways[name], mode, rate_per_s, duration_s))

    async def measure(
        self, name: str, mode: str, rate_per_s: float, duration_s: float, rep: int, phase: str
    ) -> Measurement:
        gateway = self.gateways[name]
        await self.quiet(name)
        gateway_before = cpu_seconds([*gateway.pids, *await _database_pids(gateway)]) if gateway.pids else None
        upstream_before = cpu_seconds([self.upstream_pid])
        machine_before, wall_before = machine_busy_seconds(), time.perf_counter()
        load = await run_load(load_spec(gateway, mode, rate_per_s, duration_s))
        machine_cpu_s, wall_s = machine_busy_seconds() - machine_before, time.perf_counter() - wall_before
        gateway_cpu_s = None
        if gateway_before is not None:
            # Server processes that connected during the load count in full; the pool keeps them open.
            gateway_cpu_s = cpu_seconds([*gateway.pids, *await _database_pids(gateway)]) - gateway_before
        upstream_cpu_s = cpu_seconds([self.upstream_pid]) - upstream_before
        return Measurement(
            gateway=name,
            mode=mode,
            rate_per_s=rate_per_s,
            repetition=rep,
            load=load,
            gateway_cpu_s=gateway_cpu_s,
            upstream_cpu_s=upstream_cpu_s,
            phase=phase,
            other_cpu_s=max(0.0, machine_cpu_s - (gateway_cpu_s or 0.0) - upstream_cpu_s - load.loadgen_cpu_s),
            wall_s=wall_s,
        )

    async def fixed_rates(self, plan: BenchPlan) -> list[Measurement]:
        names = list(self.gateways)
        measurements: list[Measurement] = []
        total = plan.repetitions * len(plan.rates_per_s) * len(plan.modes) * len(names)
        for rep in range(plan.repetitions):
            # Rotate who goes first so no gateway always runs right after another's heavy load.
            order = names[rep % len(names) :] + names[: rep % len(names)]
            failed: dict[tuple[str, str], tuple[float, str]] = {}
            for index, rate in enumerate(plan.rates_per_s):
                for mode in plan.modes:
                    for name in order:
                        label = f"[{rep * len(plan.rates_per_s) + index + 1}] {name} {mode} {rate:g}/s"
                        if (name, mode) in failed:
                            failed_rate, reason = failed[(name, mode)]
                            self.saturated.append(Saturated(name, mode, rate, rep, failed_rate, reason))
                            print(f"{label}: not run, saturated at {failed_rate:g}/s", file=sys.stderr)
                            continue
                        measurement = await self.measure(name, mode, rate, plan.duration_s, rep, "fixed")
                        measurements.append(measurement)
                        _progress(f"{label} ({len(measurements)}/{total})", measurement.load)
                        failure = load_failure(measurement.load, rate, plan.saturation_p99_limit_ms)
                        if failure is not None and name != BASELINE:
                            failed[(name, mode)] = (rate, failure)
        return measurements

    async def probe(self, name: str, mode: str, plan: ProbePlan) -> Probe:
        """Climb from the start rate while rungs pass; if the first rungs fail, step down until one passes."""
        steps: list[ProbeStep] = []
        rate = plan.start_rate_per_s
        best: float | None = None
        descending = False
        reason = f"reached the last of {plan.max_steps} steps"
        for _ in range(plan.max_steps):
            failure = None
            for attempt in ("", " (retry)"):
                load = await self.run(name, mode, rate, plan.step_duration_s)
                failure = load_failure(load, rate, plan.p99_limit_ms)
                steps.append(ProbeStep(rate_per_s=rate, passed=failure is None, load=load))
                _progress(f"probe {name} {mode} {rate:.0f}/s{attempt}", load)
                if failure is None:
                    break
            if failure is None:
                best = rate
                if descending:
                    reason = f"{rate * plan.growth:.0f}/s failed, {rate:.0f}/s passed (descending)"
                    break
                rate *= plan.growth
                continue
            if best is not None:
                reason = f"{rate:.0f}/s twice: {failure}"
                break
            descending = True
            if rate / plan.growth < plan.min_rate_per_s:
                reason = f"failed down to {rate:.1f}/s: {failure}"
                break
            rate /= plan.growth
        return Probe(gateway=name, mode=mode, max_rate_per_s=best, stop_reason=reason, steps=steps)

    async def half_max(self, plan: BenchPlan, probes: Sequence[Probe]) -> list[Measurement]:
        """Each gateway at half its own max rate, interleaved like the fixed rates."""
        max_rates = {(p.gateway, p.mode): p.max_rate_per_s for p in probes if p.max_rate_per_s}
        names = list(self.gateways)
        measurements = []
        for rep in range(plan.repetitions):
            order = names[rep % len(names) :] + names[: rep % len(names)]
            for mode in plan.modes:
                for name in order:
                    max_rate = max_rates.get((name, mode))
                    if max_rate is None:
                        continue
                    measurement = await self.measure(name, mode, max_rate / 2, plan.duration_s, rep, HALF_MAX)
                    measurements.append(measurement)
                    _progress(f"half max {name} {mode} {max_rate / 2:.0f}/s", measurement.load)
        return measurements


async def _database_pids(gateway: Gateway) -> list[int]:
    return await backend_pids(gateway.database_url) if gateway.database_url else []


def _progress(label: str, load: LoadResult) -> None:
    p50 = f"{load.latency.p50_ms:.2f}" if load.latency else "-"
    p99 = f"{load.latency.p99_ms:.2f}" if load.latency else "-"
    print(f"{label}: ok {load.ok} errors {load.error_count} p50 {p50} ms p99 {p99} ms", file=sys.stderr)


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def fake_upstream_spec(work_dir: Path) -> ServerSpec:
    """The fake OpenAI upstream, instant (no latency, no token interval), on a free port."""
    port = free_port()
    return ServerSpec(
        name="fake_upstream",
        argv=python_module_argv("tests.fakes.openai_upstream", "--host", "127.0.0.1", "--port", str(port)),
        port=port,
        log_dir=work_dir,
    )


async def run_benchmark(
    plan: BenchPlan, work_dir: Path, litellm_venv: Path = LITELLM_VENV, portkey_dir: Path = PORTKEY_DIR
) -> BenchReport:
    """Start the fake upstream and the plan's gateways, run every load, and stop them all.

    A gateway that cannot run here (:class:`GatewaySkipped`) is left out and named in the report.
    """
    started = _now()
    names = [BASELINE, *(name for name in plan.gateways if name != BASELINE)]
    skipped: dict[str, str] = {}
    async with serve(fake_upstream_spec(work_dir)) as upstream, AsyncExitStack() as stack:
        context = GatewayContext(
            upstream_base_url=f"{upstream.url}/v1",
            work_dir=work_dir,
            litellm_venv=litellm_venv,
            portkey_dir=portkey_dir,
        )
        gateways: dict[str, Gateway] = {}
        for name in names:
            try:
                gateways[name] = await stack.enter_async_context(GATEWAYS[name](context))
            except GatewaySkipped as why:
                skipped[name] = str(why)
                print(f"{name}: SKIPPED ({why})", file=sys.stderr)
        bench = _Bench(upstream_pid=upstream.pid, gateways=gateways, quiet_window_s=plan.quiet_window_s)
        for name, gateway in gateways.items():
            for mode in plan.modes:
                rate = gateway.warmup_rate_per_s or WARMUP_RATE_PER_S
                await bench.run(name, mode, rate, max(plan.warmup_s, gateway.warmup_s))
        measurements = await bench.fixed_rates(plan)
        probes = []
        if plan.probe is not None:
            probes = [await bench.probe(name, mode, plan.probe) for name in gateways for mode in plan.modes]
            if plan.half_max:
                measurements += await bench.half_max(plan, probes)
    return BenchReport(
        date=datetime.date.today().isoformat(),
        plan=plan,
        machine=machine({"litellm": litellm_version(litellm_venv), "portkey": portkey_version(portkey_dir)}),
        summary=summarize(measurements),
        probes=probes,
        measurements=measurements,
        source=source(),
        gateways={name: gateway.description for name, gateway in gateways.items()},
        skipped_gateways=skipped,
        saturated=bench.saturated,
        started=started,
        finished=_now(),
    )


def write_report(report: BenchReport, out_dir: Path, plot: bool = True) -> Path:
    """Write ``<out_dir>/<date>.json`` (``<date>-<plan>`` for other plans than full), its ``.md`` and ``.png``.

    Returns the JSON's path; the plot needs matplotlib (the dev extra) and is skipped without it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "" if report.plan.name == FULL.name else f"-{report.plan.name}"
    path = out_dir / f"{report.date}{suffix}.json"
    encoded = orjson.dumps(report, default=str, option=orjson.OPT_INDENT_2)
    path.write_bytes(encoded)
    targets = target_checks(orjson.loads(encoded))
    text = report.markdown() + ("\n\nThe issue's targets:\n\n" + targets_markdown(targets) if targets else "")
    path.with_suffix(".md").write_text(text + "\n")
    if plot:
        from bench.plot import write_plot

        write_plot(report.summary, report.probes, path.with_suffix(".png"), title=_plot_title(report))
    return path


def _plot_title(report: BenchReport) -> str:
    commit = (report.source.get("commit") or "unknown")[:10]
    dirty = "+dirty" if report.source.get("dirty") else ""
    return f"Ringside {commit}{dirty}, {report.date}, {report.machine.get('cpus')} CPUs shared with load and upstream"


def _names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in GATEWAYS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown gateways {unknown}; registered: {sorted(GATEWAYS)}")
    return names


def parse_plan(argv: Sequence[str] | None = None) -> tuple[BenchPlan, Path, Path]:
    """The plan, output directory and LiteLLM venv from the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="rates 50 and 200 for 2 s each, one repetition")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    parser.add_argument("--gateways", type=_names, default=None, help=f"comma-separated, from {sorted(GATEWAYS)}")
    parser.add_argument("--rates", default=None, help="comma-separated requests/s, overriding the plan's")
    parser.add_argument("--duration", type=float, default=None, help="seconds per load, overriding the plan's")
    parser.add_argument("--repetitions", type=int, default=None)
    parser.add_argument("--no-probe", action="store_true", help="skip the max-rate probe (and the half-max runs)")
    parser.add_argument("--litellm-venv", type=Path, default=LITELLM_VENV, help="made by bench/litellm/setup.sh")
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
    return plan, args.out, args.litellm_venv


def main(argv: Sequence[str] | None = None) -> None:
    """CLI entry point; runs on uvloop."""
    import uvloop

    plan, out_dir, litellm_venv = parse_plan(argv)
    work_dir = out_dir / "tmp" / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    report = uvloop.run(stoppable(run_benchmark(plan, work_dir, litellm_venv)))
    path = write_report(report, out_dir)
    print(report.markdown())
    print(f"\nwritten to {path} (and .md, .png)")


if __name__ == "__main__":
    main()
