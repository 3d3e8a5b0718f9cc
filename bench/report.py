"""Benchmark records, their summary against the direct baseline, and the Markdown tables."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.gateways import BASELINE
from bench.loadgen import LoadResult


@dataclass(frozen=True)
class Measurement:
    """One load run of one gateway, with the CPU its processes (and the upstream's) spent during it."""

    gateway: str
    mode: str
    rate_per_s: float
    repetition: int
    load: LoadResult
    gateway_cpu_s: float | None
    upstream_cpu_s: float


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
    """Medians over repetitions for one (gateway, mode, rate); ``added_*`` are against ``direct``."""

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


def _median(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _per_request_ms(cpu_s: float | None, load: LoadResult) -> float | None:
    return None if cpu_s is None or load.ok == 0 else cpu_s / load.ok * 1000


def _difference(value: float | None, baseline: float | None) -> float | None:
    return None if value is None or baseline is None else value - baseline


def summarize(measurements: Sequence[Measurement]) -> list[SummaryRow]:
    """One row per (gateway, mode, rate), in first-seen order, with added latency vs the baseline."""
    groups: dict[tuple[str, str, float], list[Measurement]] = {}
    for measurement in measurements:
        key = (measurement.gateway, measurement.mode, measurement.rate_per_s)
        groups.setdefault(key, []).append(measurement)
    medians: dict[tuple[str, str, float], tuple[float | None, float | None]] = {
        key: (
            _median([m.load.latency.p50_ms if m.load.latency else None for m in group]),
            _median([m.load.latency.p99_ms if m.load.latency else None for m in group]),
        )
        for key, group in groups.items()
    }
    rows = []
    for (gateway, mode, rate), group in groups.items():
        p50, p99 = medians[(gateway, mode, rate)]
        base_p50, base_p99 = medians.get((BASELINE, mode, rate), (None, None))
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
            )
        )
    return rows


def _cell(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(rows: Sequence[SummaryRow], probes: Sequence[Probe]) -> str:
    """The summary and the max-rate probes as two Markdown tables."""
    lines = [
        "| gateway | mode | rate/s | reps | ok | errors | p50 ms | p99 ms | +p50 ms | +p99 ms "
        "| gateway CPU ms/req | upstream CPU ms/req | loadgen lag p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in sorted(rows, key=lambda row: (row.mode, row.rate_per_s, row.gateway != BASELINE, row.gateway)):
        lines.append(
            f"| {row.gateway} | {row.mode} | {row.rate_per_s:g} | {row.repetitions} "
            f"| {row.ok} | {row.errors} "
            f"| {_cell(row.p50_ms)} | {_cell(row.p99_ms)} | {_cell(row.added_p50_ms)} "
            f"| {_cell(row.added_p99_ms)} | {_cell(row.gateway_cpu_ms_per_request, 3)} "
            f"| {_cell(row.upstream_cpu_ms_per_request, 3)} | {_cell(row.schedule_lag_p99_ms)} |"
        )
    if probes:
        lines += ["", "| gateway | mode | max rate/s | stopped because |", "|---|---|---:|---|"]
        for probe in probes:
            lines.append(f"| {probe.gateway} | {probe.mode} | {_cell(probe.max_rate_per_s, 0)} | {probe.stop_reason} |")
    return "\n".join(lines)
