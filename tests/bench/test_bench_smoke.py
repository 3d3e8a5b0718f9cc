"""Seconds-long runs of the benchmark harness: it must start everything, measure, and report.

Timings are never asserted here; speed lives in the benchmark's own output.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bench.core_micro.__main__ import markdown as core_markdown
from bench.core_micro.__main__ import run as run_core_micro
from bench.plan import ProbePlan
from bench.report import HALF_MAX
from bench.run import MODES, BenchPlan, run_benchmark, write_report
from bench.targets import all_checks

MEASURED = ("direct", "bare_proxy")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def test_harness_measures_probes_plots_and_skips_a_missing_litellm(tmp_path: Path) -> None:
    plan = BenchPlan(
        name="smoke",
        rates_per_s=(20,),
        duration_s=1.0,
        repetitions=1,
        gateways=(*MEASURED, "litellm"),
        warmup_s=0.2,
        probe=ProbePlan(start_rate_per_s=20, growth=2, max_steps=2, step_duration_s=0.5),
        quiet_window_s=0.05,
    )

    report = await run_benchmark(plan, tmp_path / "work", litellm_venv=tmp_path / "no-litellm-venv")
    written = write_report(report, tmp_path)

    assert "bench/litellm/setup.sh" in report.skipped_gateways["litellm"]
    fixed = {(row.gateway, row.mode): row for row in report.summary if row.phase == "fixed"}
    assert set(fixed) == {(gateway, mode) for gateway in MEASURED for mode in MODES}
    for row in fixed.values():
        assert row.ok > 0, row
        assert row.errors == 0, row
    assert all(fixed[("bare_proxy", mode)].gateway_cpu_ms_per_request is not None for mode in MODES)
    assert all(fixed[("bare_proxy", mode)].added_p50_ms is not None for mode in MODES)
    assert {(probe.gateway, probe.mode) for probe in report.probes} == set(fixed)
    assert {(row.gateway, row.mode) for row in report.summary if row.phase == HALF_MAX} == {
        (probe.gateway, probe.mode) for probe in report.probes if probe.max_rate_per_s
    }
    assert written.name.endswith("-smoke.json")
    saved = orjson.loads(written.read_bytes())
    assert saved["skipped_gateways"].keys() == {"litellm"}
    assert saved["source"]["commit"]
    table = written.with_suffix(".md").read_text()
    assert "| bare_proxy | stream | 20 |" in table
    assert "litellm: SKIPPED" in table
    assert written.with_suffix(".png").read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_core_micro_makes_holds_and_settles_durable_in_process_and_over_grpc(
    tmp_path: Path, backend: str
) -> None:
    report = await run_core_micro(backend, 0.5, 50, (1, 4), tmp_path, {"in-process", "grpc"})

    authorize, settle, lease = report.in_process
    assert authorize.operations > 0 and settle.operations > 0
    assert settle.operations <= authorize.operations  # a settle needs a hold
    assert settle.commits > 0 and settle.average_batch >= 1
    assert lease.operations > 0 and lease.commits > 0
    assert all(phase.cpu_us_per_op > 0 for phase in report.in_process)
    assert [result.concurrency for result in report.over_grpc] == [1, 4]
    assert all(result.pairs > 0 and result.authorize is not None for result in report.over_grpc)
    assert "Durable settles/s" in core_markdown(report) and "lease-reported calls/s" in core_markdown(report)
    assert all_checks({"summary": [], "plan": {"modes": []}, "probes": []}, [orjson.loads(orjson.dumps(report))])


def test_admission_cost_runs_every_set_up(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import admission_cost

    monkeypatch.setattr("sys.argv", ["admission_cost", "--calls", "1000"])
    admission_cost.main()
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "µs" not in line]
    assert len(rows) == 5
    assert all(float(row.rsplit("|", 2)[1]) > 0 for row in rows)


async def test_added_tail_reads_the_edges_own_added_latency_for_every_call(tmp_path: Path) -> None:
    from bench.added_tail import measure

    result = await measure("ringside_sqlite", "non_stream", rate_per_s=20, seconds=1, work_dir=tmp_path)
    assert result["errors"] == 0 and result["calls"] == result["answered"] >= 15  # each call counted once
    shares = [value for label, value in result.items() if label.startswith("added >")]
    assert len(shares) == 3 and all(0 <= share <= 1 for share in shares) and shares == sorted(shares, reverse=True)
