"""A seconds-long run of the benchmark harness: it must start everything, measure, and report.

Timings are never asserted here; speed lives in the benchmark's own output.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from bench.report import markdown
from bench.run import MODES, BenchPlan, run_benchmark, write_report

GATEWAYS = ("direct", "bare_proxy")


async def test_harness_measures_direct_and_bare_proxy(tmp_path: Path) -> None:
    plan = BenchPlan(name="smoke", rates_per_s=(20,), duration_s=1.0, repetitions=1, gateways=GATEWAYS, warmup_s=0.2)

    report = await run_benchmark(plan, tmp_path / "work")
    written = write_report(report, tmp_path)

    rows = {(row.gateway, row.mode): row for row in report.summary}
    assert set(rows) == {(gateway, mode) for gateway in GATEWAYS for mode in MODES}
    for row in rows.values():
        assert row.ok > 0, row
        assert row.errors == 0, row
    assert all(rows[("bare_proxy", mode)].gateway_cpu_ms_per_request is not None for mode in MODES)
    assert all(rows[("bare_proxy", mode)].added_p50_ms is not None for mode in MODES)
    assert written.name.endswith("-smoke.json")
    assert len(orjson.loads(written.read_bytes())["measurements"]) == len(GATEWAYS) * len(MODES)
    assert "| bare_proxy | stream | 20 |" in markdown(report.summary, report.probes)
