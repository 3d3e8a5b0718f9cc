"""The history curve: each cost `bench.history_scale` measures, as a multiple of its value at the
smallest scale, against the calls in history — one panel per backend, CPU figures (the wall times
of a loaded machine are its load, not the code's).

    python -m bench.history_plot bench/results/<date>-history-sqlite-fast.json [...] --out <file>.png

Drawn with matplotlib's Agg backend (no display needed); the dashed line is the target (2×).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# (field of ScaleResult, label): CPU and memory, which carry over to another machine
CURVES = (
    ("start_cpu_s", "core start (CPU)"),
    ("start_rss_mb", "core RSS"),
    ("wallet_page_cpu_ms", "wallet page (CPU)"),
    ("usage_month_cpu_ms", "usage, one customer-month (CPU)"),
    ("stripe_plan_cpu_s", "Stripe sync plan (CPU)"),
)

TICKS = (0.25, 0.5, 1, 2, 4, 8)


def _backend(path: Path) -> str:
    """`<date>-history-postgres-fast.json` → "PostgreSQL (fast)"."""
    run = path.stem.split("-history-", 1)[-1]
    backend, _, label = run.partition("-")
    name = "PostgreSQL" if backend == "postgres" else "SQLite"
    return f"{name} ({label})" if label else name


def write_plot(files: Sequence[Path], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs: list[tuple[str, list[dict[str, Any]]]] = [
        (_backend(path), json.loads(path.read_text())["results"]) for path in files
    ]
    figure, axes = plt.subplots(1, len(runs), figsize=(6.5 * len(runs), 4.8), sharey=True, squeeze=False)
    for axis, (backend, results) in zip(axes[0], runs, strict=True):
        calls = [r["calls"] for r in results]
        for field, label in CURVES:
            first = results[0][field] or 1
            axis.plot(calls, [r[field] / first for r in results], marker="o", label=label)
        axis.axhline(2, color="grey", linestyle="--", linewidth=1)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks(calls, [f"{r['customers']:,}\n{r['calls']:,}" for r in results])
        axis.set_yticks(TICKS, [f"{t:g}×" for t in TICKS])
        axis.minorticks_off()
        axis.set_title(f"{backend}: × its value at {results[0]['customers']:,} / {results[0]['calls']:,}")
        axis.set_xlabel("customers / calls in history")
        axis.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("× smallest scale (log)")
    axes[0][0].legend(fontsize="small")
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=100)
    plt.close(figure)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.history_plot", description=__doc__)
    parser.add_argument("files", type=Path, nargs="+", help="bench.history_scale result JSON files")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    print(write_plot(args.files, args.out))


if __name__ == "__main__":
    main()
