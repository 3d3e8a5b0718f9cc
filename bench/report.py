"""Benchmark records, their summary against the direct baseline, and the Markdown tables."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.gateways import BASELINE
from bench.loadgen import LoadResult, Percentiles

FIXED = "fixed"
HALF_MAX = "half_max"


@dataclass(frozen=True)
class Measurement:
    """One load run of one gateway, with the CPU its processes (and the upstream's) spent during it.

    ``phase`` is ``fixed`` (the plan's rates, the same for every gateway) or ``half_max`` (half of the
    gateway's own max sustainable rate, found by the probe).
    """

    gateway: str
    mode: str
    rate_per_s: float
    repetition: int
    load: LoadResult
    gateway_cpu_s: float | None
    upstream_cpu_s: float
    phase: str = FIXED
    # CPU seconds the rest of the machine (neither the gateway, the upstream nor the load generator) used
    # while this load ran, over ``wall_s``: other tenants of a shared machine show up here.
    other_cpu_s: float | None = None
    wall_s: float | None = None


@dataclass(frozen=True)
class Saturated:
    """A fixed rate not run: the gateway already failed a lower rate in this repetition and mode."""

    gateway: str
    mode: str
    rate_per_s: float
    repetition: int
    failed_rate_per_s: float
    reason: str


@dataclass(frozen=True)
class ProbeStep:
    """One rung of the max-rate ladder."""

    rate_per_s: float
    passed: bool
    load: LoadResult


@dataclass(frozen=True)
class Probe:
    """The highest rate one gateway sustained in one mode; ``stop_reason`` says why the ladder ended."""

    gateway: str
    mode: str
    max_rate_per_s: float | None
    stop_reason: str
    steps: list[ProbeStep]


@dataclass(frozen=True)
class SummaryRow:
    """Medians over repetitions for one (phase, gateway, mode, rate); ``added_*`` are against ``direct``."""

    gateway: str
    mode: str
    rate_per_s: float
    repetitions: int
    ok: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    added_p50_ms: float | None
    added_p99_ms: float | None
    achieved_rate_per_s: float
    gateway_cpu_ms_per_request: float | None
    upstream_cpu_ms_per_request: float | None
    loadgen_cpu_ms_per_request: float | None
    schedule_lag_p99_ms: float | None
    p90_ms: float | None = None
    added_p90_ms: float | None = None
    phase: str = FIXED
    other_cpu_cores: float | None = None


def _median(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _per_request_ms(cpu_s: float | None, load: LoadResult) -> float | None:
    return None if cpu_s is None or load.ok == 0 else cpu_s / load.ok * 1000


def _difference(value: float | None, baseline: float | None) -> float | None:
    return None if value is None or baseline is None else value - baseline


def _percentiles(group: Sequence[Measurement]) -> tuple[float | None, float | None, float | None]:
    return (
        _median([m.load.latency.p50_ms if m.load.latency else None for m in group]),
        _median([m.load.latency.p90_ms if m.load.latency else None for m in group]),
        _median([m.load.latency.p99_ms if m.load.latency else None for m in group]),
    )


def summarize(measurements: Sequence[Measurement]) -> list[SummaryRow]:
    """One row per (phase, gateway, mode, rate), in first-seen order, with added latency vs the baseline.

    The baseline is ``direct`` at the same phase, mode and rate; rows without one have no ``added_*``.
    """
    groups: dict[tuple[str, str, str, float], list[Measurement]] = {}
    for measurement in measurements:
        key = (measurement.phase, measurement.gateway, measurement.mode, measurement.rate_per_s)
        groups.setdefault(key, []).append(measurement)
    percentiles = {key: _percentiles(group) for key, group in groups.items()}
    rows = []
    for (phase, gateway, mode, rate), group in groups.items():
        p50, p90, p99 = percentiles[(phase, gateway, mode, rate)]
        base_p50, base_p90, base_p99 = percentiles.get((phase, BASELINE, mode, rate), (None, None, None))
        rows.append(
            SummaryRow(
                gateway=gateway,
                mode=mode,
                rate_per_s=rate,
                repetitions=len(group),
                ok=sum(m.load.ok for m in group),
                errors=sum(m.load.error_count for m in group),
                p50_ms=p50,
                p99_ms=p99,
                added_p50_ms=_difference(p50, base_p50),
                added_p99_ms=_difference(p99, base_p99),
                achieved_rate_per_s=statistics.median(m.load.achieved_rate_per_s for m in group),
                gateway_cpu_ms_per_request=_median([_per_request_ms(m.gateway_cpu_s, m.load) for m in group]),
                upstream_cpu_ms_per_request=_median([_per_request_ms(m.upstream_cpu_s, m.load) for m in group]),
                loadgen_cpu_ms_per_request=_median([_per_request_ms(m.load.loadgen_cpu_s, m.load) for m in group]),
                schedule_lag_p99_ms=_median(
                    [m.load.schedule_lag.p99_ms if m.load.schedule_lag else None for m in group]
                ),
                p90_ms=p90,
                added_p90_ms=_difference(p90, base_p90),
                phase=phase,
                other_cpu_cores=_median(
                    [m.other_cpu_s / m.wall_s if m.other_cpu_s is not None and m.wall_s else None for m in group]
                ),
            )
        )
    return rows


def _cell(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _order(row: SummaryRow) -> tuple[str, float, bool, str]:
    return (row.mode, row.rate_per_s, row.gateway != BASELINE, row.gateway)


def fixed_rate_table(rows: Sequence[SummaryRow]) -> list[str]:
    """Latency (to the last byte) and added latency at the plan's fixed rates, medians over repetitions."""
    lines = [
        "| gateway | mode | rate/s | reps | ok | errors | p50 ms | p90 ms | p99 ms | +p50 ms | +p90 ms | +p99 ms "
        "| gateway CPU ms/req | upstream CPU ms/req | loadgen lag p99 ms | other CPU (cores) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in sorted((row for row in rows if row.phase == FIXED), key=_order):
        lines.append(
            f"| {row.gateway} | {row.mode} | {row.rate_per_s:g} | {row.repetitions} | {row.ok} | {row.errors} "
            f"| {_cell(row.p50_ms)} | {_cell(row.p90_ms)} | {_cell(row.p99_ms)} "
            f"| {_cell(row.added_p50_ms)} | {_cell(row.added_p90_ms)} | {_cell(row.added_p99_ms)} "
            f"| {_cell(row.gateway_cpu_ms_per_request, 3)} | {_cell(row.upstream_cpu_ms_per_request, 3)} "
            f"| {_cell(row.schedule_lag_p99_ms)} | {_cell(row.other_cpu_cores)} |"
        )
    return lines


def _matrix(rows: Sequence[SummaryRow], mode: str, cell: Callable[[SummaryRow], str]) -> list[str]:
    """Gateways down, the plan's fixed rates across; ``sat.`` where the rate was not run (saturated)."""
    fixed = [row for row in rows if row.phase == FIXED and row.mode == mode]
    rates = sorted({row.rate_per_s for row in fixed})
    gateways = list(dict.fromkeys(row.gateway for row in fixed))
    by_key = {(row.gateway, row.rate_per_s): row for row in fixed}
    lines = [
        "| gateway | " + " | ".join(f"{rate:g}/s" for rate in rates) + " |",
        "|---|" + "---:|" * len(rates),
    ]
    for gateway in gateways:
        cells = [cell(by_key[(gateway, rate)]) if (gateway, rate) in by_key else "sat." for rate in rates]
        lines.append(f"| {gateway} | " + " | ".join(cells) + " |")
    return lines


def _added(row: SummaryRow) -> str:
    text = f"{_cell(row.added_p50_ms)} / {_cell(row.added_p90_ms)} / {_cell(row.added_p99_ms)}"
    return text + (f" ({row.errors} err)" if row.errors else "")


def added_latency_matrix(rows: Sequence[SummaryRow], mode: str) -> list[str]:
    """Added latency over direct, ``+p50 / +p90 / +p99`` ms, per gateway and fixed rate."""
    return _matrix(rows, mode, _added)


def cpu_matrix(rows: Sequence[SummaryRow], mode: str) -> list[str]:
    """Gateway CPU ms per request (all its processes), per gateway and fixed rate."""
    return _matrix(rows, mode, lambda row: _cell(row.gateway_cpu_ms_per_request, 2))


def saturated_lines(saturated: Sequence[Saturated]) -> list[str]:
    """One line per (gateway, mode) whose higher fixed rates were not run, and why."""
    grouped: dict[tuple[str, str], list[Saturated]] = {}
    for skip in saturated:
        grouped.setdefault((skip.gateway, skip.mode), []).append(skip)
    lines = []
    for (gateway, mode), skips in grouped.items():
        rates = ", ".join(f"{rate:g}" for rate in sorted({skip.rate_per_s for skip in skips}))
        failed = ", ".join(f"{rate:g}/s" for rate in sorted({skip.failed_rate_per_s for skip in skips}))
        lines.append(f"- {gateway} {mode}: not run at {rates}/s (saturated at {failed}: {skips[0].reason})")
    return lines


def probe_table(probes: Sequence[Probe]) -> list[str]:
    """The max sustainable rate of every gateway and mode, and why the ladder stopped."""
    lines = ["| gateway | mode | max rate/s | stopped because |", "|---|---|---:|---|"]
    for probe in probes:
        lines.append(f"| {probe.gateway} | {probe.mode} | {_cell(probe.max_rate_per_s, 0)} | {probe.stop_reason} |")
    return lines


def half_max_table(rows: Sequence[SummaryRow]) -> list[str]:
    """Latency at half of each gateway's own max rate (absolute: the direct path is included)."""
    lines = [
        "| gateway | mode | rate/s | reps | ok | errors | p50 ms | p90 ms | p99 ms | gateway CPU ms/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in sorted((row for row in rows if row.phase == HALF_MAX), key=lambda row: (row.mode, row.gateway)):
        lines.append(
            f"| {row.gateway} | {row.mode} | {row.rate_per_s:.0f} | {row.repetitions} | {row.ok} | {row.errors} "
            f"| {_cell(row.p50_ms)} | {_cell(row.p90_ms)} | {_cell(row.p99_ms)} "
            f"| {_cell(row.gateway_cpu_ms_per_request, 3)} |"
        )
    return lines


def markdown(
    rows: Sequence[SummaryRow],
    probes: Sequence[Probe],
    saturated: Sequence[Saturated] = (),
    skipped_gateways: dict[str, str] | None = None,
) -> str:
    """The fixed-rate summary, the max-rate probes and the half-max runs as Markdown."""
    lines = []
    for mode in dict.fromkeys(row.mode for row in rows if row.phase == FIXED):
        lines += [f"Added latency over direct, {mode}, ms (+p50 / +p90 / +p99, median of repetitions):", ""]
        lines += [*added_latency_matrix(rows, mode), ""]
        lines += [f"Gateway CPU per request, {mode}, ms (all of the gateway's processes):", ""]
        lines += [*cpu_matrix(rows, mode), ""]
    lines += ["Every fixed-rate measurement (medians over repetitions):", "", *fixed_rate_table(rows)]
    if saturated:
        lines += ["", *saturated_lines(saturated)]
    if probes:
        lines += ["", *probe_table(probes)]
    if any(row.phase == HALF_MAX for row in rows):
        lines += ["", "At half of each gateway's own max rate:", "", *half_max_table(rows)]
    for name, reason in (skipped_gateways or {}).items():
        lines += ["", f"- {name}: SKIPPED ({reason})"]
    return "\n".join(lines)


def _load_result(data: dict[str, Any]) -> LoadResult:
    percentiles = ("latency", "first_byte", "schedule_lag")
    fields = {name: Percentiles(**data[name]) if data.get(name) else None for name in percentiles}
    return LoadResult(**{**data, **fields})


def load_saved(path: Path) -> tuple[dict[str, Any], list[SummaryRow], list[Probe], list[Saturated]]:
    """A result JSON written by ``bench.run``, as the raw dict and the records the tables are made from."""
    data = orjson.loads(path.read_bytes())
    rows = [SummaryRow(**row) for row in data["summary"]]
    probes = [
        Probe(
            gateway=probe["gateway"],
            mode=probe["mode"],
            max_rate_per_s=probe["max_rate_per_s"],
            stop_reason=probe["stop_reason"],
            steps=[
                ProbeStep(step["rate_per_s"], step["passed"], _load_result(step["load"])) for step in probe["steps"]
            ],
        )
        for probe in data["probes"]
    ]
    saturated = [Saturated(**skip) for skip in data.get("saturated", [])]
    return data, rows, probes, saturated


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: ``python -m bench.report RESULT.json``: write its ``.md`` (with the targets) and ``.png`` again."""
    import argparse

    from bench.plot import write_plot
    from bench.targets import all_checks
    from bench.targets import markdown as targets_markdown

    parser = argparse.ArgumentParser(prog="python -m bench.report", description=main.__doc__)
    parser.add_argument("result", type=Path)
    args = parser.parse_args(argv)
    data, rows, probes, saturated = load_saved(args.result)
    text = markdown(rows, probes, saturated, data.get("skipped_gateways"))
    checks = all_checks(data)
    if checks:
        text += "\n\nThe issue's targets:\n\n" + targets_markdown(checks)
    args.result.with_suffix(".md").write_text(text + "\n")
    commit = (data.get("source", {}).get("commit") or "unknown")[:10]
    title = f"Ringside {commit}, {data['date']}, {data['machine'].get('cpus')} CPUs shared with load and upstream"
    write_plot(rows, probes, args.result.with_suffix(".png"), title=title)
    print(text)


if __name__ == "__main__":
    main()
