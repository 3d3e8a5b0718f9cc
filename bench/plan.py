"""What a benchmark run does: the fixed rates, repetitions and the max-rate ladder."""

from __future__ import annotations

from dataclasses import dataclass

from bench.gateways import GATEWAYS

MODES = ("non_stream", "stream")


@dataclass(frozen=True)
class ProbePlan:
    """The max-rate ladder: from ``start`` up by ``growth`` per rung until one fails (down by it while the
    first rungs fail), for at most ``max_steps`` rungs.

    A failing rung is run once more before the ladder stops, so one hiccup does not end the probe. A rung
    fails on any error, p99 above ``p99_limit_ms``, less than 90 % of the offered rate answered, or a load
    generator that fell behind its own schedule.
    """

    start_rate_per_s: float
    growth: float
    max_steps: int
    step_duration_s: float
    p99_limit_ms: float = 100.0
    min_rate_per_s: float = 2.0


@dataclass(frozen=True)
class BenchPlan:
    """What to run. ``gateways`` always gets the direct baseline added.

    At fixed rates, a gateway that fails a rate (by the probe's rule) is not run at the higher rates of
    that repetition and mode: an overloaded gateway's backlog would only slow the gateways measured next.
    ``half_max`` adds runs at half of each gateway's own max rate (needs the probe).
    """

    name: str
    rates_per_s: tuple[float, ...]
    duration_s: float
    repetitions: int
    gateways: tuple[str, ...] = tuple(GATEWAYS)
    modes: tuple[str, ...] = MODES
    probe: ProbePlan | None = None
    warmup_s: float = 1.0
    half_max: bool = True
    saturation_p99_limit_ms: float = 100.0
    # Before each load, wait (at most 30 s) for a window this long in which the gateway and the upstream
    # used under 10 % of a CPU.
    quiet_window_s: float = 0.5


QUICK = BenchPlan(
    name="quick",
    rates_per_s=(50, 200),
    duration_s=2,
    repetitions=1,
    probe=ProbePlan(start_rate_per_s=100, growth=1.6, max_steps=10, step_duration_s=1),
    warmup_s=0.5,
)
# About 30 minutes with every registered gateway on a 2-core machine.
FULL = BenchPlan(
    name="full",
    rates_per_s=(20, 200, 500, 1000, 2000),
    duration_s=5,
    repetitions=3,
    probe=ProbePlan(start_rate_per_s=100, growth=1.3, max_steps=18, step_duration_s=4),
)
