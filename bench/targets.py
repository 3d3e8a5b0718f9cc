"""The issue's targets, checked against one benchmark run (and the core microbenchmark), from the JSON.

Every ratio compares gateways measured in the same run, on the same machine, interleaved.

Run: ``python -m bench.targets bench/results/<date>.json [bench/results/<date>-core-sqlite.json ...]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

BARE = "bare_proxy"
LITELLM = "litellm"
RINGSIDE_PREFIX = "ringside"
FIXED = "fixed"
HALF_MAX = "half_max"

RATE_VS_LITELLM = 10.0
RATE_VS_BARE = 0.5
ADDED_P50_OVER_BARE_MS = 0.5
P99_AT_HALF_MAX_MS = 5.0
CPU_OVER_BARE = 0.30
SETTLES_PER_S = 20_000
SATURATION_P99_MS = 100.0


@dataclass(frozen=True)
class Check:
    """One target for one gateway and mode: what was measured, and whether it meets the target."""

    target: str
    gateway: str
    mode: str
    measured: str
    met: bool | None  # None: not measurable in this run


def _max_rates(report: dict[str, Any]) -> dict[tuple[str, str], float | None]:
    return {(probe["gateway"], probe["mode"]): probe["max_rate_per_s"] for probe in report["probes"]}


def _rows(report: dict[str, Any], phase: str) -> dict[tuple[str, str, float], dict[str, Any]]:
    return {
        (row["gateway"], row["mode"], row["rate_per_s"]): row
        for row in report["summary"]
        if row.get("phase", FIXED) == phase
    }


def _clean(row: dict[str, Any] | None, repetitions: int) -> bool:
    """Run in every repetition, without errors, and not saturated (the harness's p99 limit)."""
    return (
        row is not None
        and row["errors"] == 0
        and row["repetitions"] == repetitions
        and row["p99_ms"] is not None
        and row["p99_ms"] <= SATURATION_P99_MS
    )


def _common_rates(report: dict[str, Any], gateway: str, mode: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(gateway row, bare proxy row) at every fixed rate both sustained in every repetition."""
    rows = _rows(report, FIXED)
    repetitions = report["plan"]["repetitions"]
    pairs = []
    for rate in report["plan"]["rates_per_s"]:
        mine, bare = rows.get((gateway, mode, rate)), rows.get((BARE, mode, rate))
        if mine is not None and bare is not None and _clean(mine, repetitions) and _clean(bare, repetitions):
            pairs.append((mine, bare))
    return pairs


def _ratio_check(
    target: str, gateway: str, mode: str, mine: float | None, other: float | None, at_least: float
) -> Check:
    if not mine or not other:
        return Check(target, gateway, mode, f"max rates {mine} vs {other}", None)
    ratio = mine / other
    shown = f"{ratio:.0%}" if at_least < 1 else f"{ratio:.1f}×"
    return Check(target, gateway, mode, f"{mine:.0f}/s vs {other:.0f}/s = {shown}", ratio >= at_least)


def gateway_checks(report: dict[str, Any], gateway: str, mode: str) -> list[Check]:
    """The five gateway targets for one Ringside gateway in one mode."""
    max_rates = _max_rates(report)
    mine = max_rates.get((gateway, mode))
    checks = [
        _ratio_check(
            f"≥ {RATE_VS_LITELLM:g}× LiteLLM's max req/s",
            gateway,
            mode,
            mine,
            max_rates.get((LITELLM, mode)),
            RATE_VS_LITELLM,
        ),
        _ratio_check(
            f"≥ {RATE_VS_BARE:.0%} of the bare proxy's max req/s",
            gateway,
            mode,
            mine,
            max_rates.get((BARE, mode)),
            RATE_VS_BARE,
        ),
    ]
    pairs = _common_rates(report, gateway, mode)
    if pairs:
        added = [(row["rate_per_s"], row["p50_ms"] - bare["p50_ms"]) for row, bare in pairs]
        cells = ", ".join(f"{rate:g}/s: {value:+.2f}" for rate, value in added)
        checks.append(
            Check(
                f"p50 ≤ bare proxy + {ADDED_P50_OVER_BARE_MS} ms",
                gateway,
                mode,
                f"{cells} ms",
                max(value for _, value in added) <= ADDED_P50_OVER_BARE_MS,
            )
        )
        cpu = [
            (row["rate_per_s"], row["gateway_cpu_ms_per_request"] / bare["gateway_cpu_ms_per_request"] - 1)
            for row, bare in pairs
            if row["gateway_cpu_ms_per_request"] and bare["gateway_cpu_ms_per_request"]
        ]
        cells = ", ".join(f"{rate:g}/s: {value:+.0%}" for rate, value in cpu)
        checks.append(
            Check(
                f"CPU/request ≤ bare proxy + {CPU_OVER_BARE:.0%}",
                gateway,
                mode,
                cells,
                max(value for _, value in cpu) <= CPU_OVER_BARE if cpu else None,
            )
        )
    else:
        checks.append(Check(f"p50 ≤ bare proxy + {ADDED_P50_OVER_BARE_MS} ms", gateway, mode, "no common rate", None))
        checks.append(Check(f"CPU/request ≤ bare proxy + {CPU_OVER_BARE:.0%}", gateway, mode, "no common rate", None))
    half = [row for (name, row_mode, _), row in _rows(report, HALF_MAX).items() if (name, row_mode) == (gateway, mode)]
    if half and half[0]["p99_ms"] is not None:
        row = half[0]
        checks.append(
            Check(
                f"p99 ≤ {P99_AT_HALF_MAX_MS:g} ms at half max rate",
                gateway,
                mode,
                f"{row['p99_ms']:.2f} ms at {row['rate_per_s']:.0f}/s",
                row["p99_ms"] <= P99_AT_HALF_MAX_MS,
            )
        )
    else:
        checks.append(Check(f"p99 ≤ {P99_AT_HALF_MAX_MS:g} ms at half max rate", gateway, mode, "not measured", None))
    return checks


def core_check(core_report: dict[str, Any]) -> Check:
    """Durable settles/s of the in-process core microbenchmark."""
    settles = [phase for phase in core_report["in_process"] if phase["name"].startswith("settle")]
    target = f"core ≥ {SETTLES_PER_S:,} durable settles/s"
    if not settles:
        return Check(target, "core", core_report["backend"], "not measured", None)
    rate = settles[0]["per_s"]
    return Check(
        target,
        "core",
        core_report["backend"],
        f"{rate:,.0f}/s ({rate / SETTLES_PER_S:.0%} of target)",
        rate >= SETTLES_PER_S,
    )


def all_checks(report: dict[str, Any], core_reports: Sequence[dict[str, Any]] = ()) -> list[Check]:
    """Every target for every Ringside gateway and mode in ``report``, then the core's."""
    gateways = [
        name for name in dict.fromkeys(row["gateway"] for row in report["summary"]) if name.startswith(RINGSIDE_PREFIX)
    ]
    checks = [
        check
        for gateway in gateways
        for mode in report["plan"]["modes"]
        for check in gateway_checks(report, gateway, mode)
    ]
    return checks + [core_check(core) for core in core_reports]


def markdown(checks: Sequence[Check]) -> str:
    """One row per check."""
    verdict = {True: "met", False: "**not met**", None: "n/a"}
    lines = ["| target | gateway | mode | measured | verdict |", "|---|---|---|---|---|"]
    lines += [f"| {c.target} | {c.gateway} | {c.mode} | {c.measured} | {verdict[c.met]} |" for c in checks]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: print the targets table for one run's JSON and any core microbenchmark JSONs."""
    parser = argparse.ArgumentParser(prog="python -m bench.targets", description=__doc__)
    parser.add_argument("run", type=Path, help="bench/results/<date>.json")
    parser.add_argument("core", type=Path, nargs="*", help="bench/results/<date>-core-<backend>.json")
    args = parser.parse_args(argv)
    report = orjson.loads(args.run.read_bytes())
    print(markdown(all_checks(report, [orjson.loads(path.read_bytes()) for path in args.core])))


if __name__ == "__main__":
    main()
