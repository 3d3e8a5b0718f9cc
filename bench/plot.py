"""The benchmark's picture: p50 and p99 latency against offered rate, one line per gateway and mode.

Lines are the medians over repetitions at the plan's fixed rates; small dots are the max-rate probe's
rungs (one run each), which reach further up; a cross marks each gateway's max sustainable rate.
Drawn with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.plan import MODES
from bench.report import FIXED, Probe, SummaryRow

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_PERCENTILES = (("p50_ms", "-", "p50"), ("p99_ms", "--", "p99"))


def write_plot(rows: Sequence[SummaryRow], probes: Sequence[Probe], path: Path, title: str = "") -> Path:
    """Write the PNG to ``path``: one panel per mode, log-log axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gateways = list(dict.fromkeys([row.gateway for row in rows] + [probe.gateway for probe in probes]))
    colors = {name: plt.get_cmap("tab10")(index % 10) for index, name in enumerate(gateways)}
    figure, axes = plt.subplots(1, len(MODES), figsize=(7 * len(MODES), 5.5), sharey=True, squeeze=False)
    for axis, mode in zip(axes[0], MODES, strict=True):
        for name in gateways:
            _draw_gateway(axis, name, mode, rows, probes, colors[name])
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_title(mode.replace("_", "-"))
        axis.set_xlabel("offered rate (requests/s, open loop)")
        axis.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("latency to last byte (ms): solid p50, dashed p99")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize="small")
    figure.text(
        0.99, 0.99, "dots: probe rungs (p50, p99); x: max sustainable rate", ha="right", va="top", fontsize="x-small"
    )
    if title:
        figure.suptitle(title, fontsize="medium")
    figure.tight_layout(rect=(0, 0.06 * (1 + len(labels) // 6), 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _draw_gateway(
    axis: Axes, name: str, mode: str, rows: Sequence[SummaryRow], probes: Sequence[Probe], color: Any
) -> None:
    fixed = sorted(
        (row for row in rows if row.phase == FIXED and row.gateway == name and row.mode == mode),
        key=lambda row: row.rate_per_s,
    )
    for attribute, style, label in _PERCENTILES:
        points = [(row.rate_per_s, getattr(row, attribute)) for row in fixed if getattr(row, attribute) is not None]
        if points:
            axis.plot(
                *zip(*points, strict=True),
                linestyle=style,
                marker="o",
                color=color,
                label=f"{name} {label}",
            )
    for probe in probes:
        if probe.gateway != name or probe.mode != mode:
            continue
        for step in probe.steps:
            if step.load.latency is not None:
                for attribute, _, _ in _PERCENTILES:
                    value = getattr(step.load.latency, attribute)
                    axis.scatter(step.rate_per_s, value, s=8, color=color, alpha=0.35)
        if probe.max_rate_per_s is not None:
            passed = [step for step in probe.steps if step.passed and step.rate_per_s == probe.max_rate_per_s]
            if passed and passed[-1].load.latency is not None:
                axis.scatter(probe.max_rate_per_s, passed[-1].load.latency.p99_ms, marker="x", s=60, color=color)
