"""The event loop's share of a rate-limit windows checkpoint (issue 25, core/services/window_checkpoints.py):
one `RateLimiter.changed_lanes` pass with N windows kept, when 0 %, 10 % and 100 % of them changed since the
last checkpoint (their entries listed for the write). The write itself is one transaction off the
loop. Against another checkout (A/B): `PYTHONPATH=/that/checkout python bench/window_checkpoints.py`.

    python -m bench.window_checkpoints [--windows 10000] [--entries 10] [--rounds 20] [--changed 0 --changed 10]

Prints wall and CPU time per pass (median of the rounds); nothing is asserted."""

from __future__ import annotations

import argparse
import statistics
import time

from core.domain.ratelimit import Layer, RateLimiter

START = 1_000_000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--changed", type=int, action="append", help="percent of windows changed a pass")
    args = parser.parse_args()
    args.changed = args.changed or [0, 10, 100]
    limiter = RateLimiter()
    layers = [Layer("customer_rate_limit_exceeded", ("customer", f"cus_{i}"), 1_000) for i in range(args.windows)]
    for entry in range(args.entries):
        for layer in layers:
            limiter.charge([layer], START + entry, START + entry, 1, 0)
    seen: dict[tuple[str, ...], tuple[int, int, int, float]] = {}
    owned = lambda key: True  # noqa: E731 - every window served
    # The loop's share: `changed_lanes` (the entries listed in the worker thread) where there is one,
    # else (an older checkout) `changed`, which lists them on the loop.
    on_loop = getattr(limiter, "changed_lanes", limiter.changed)
    on_loop(owned, seen, limit=args.windows)  # the first checkpoint: every window written
    now = START + args.entries
    for percent in args.changed:
        touched = layers[: args.windows * percent // 100]
        walls, cpus = [], []
        for _ in range(args.rounds):
            now += 0.001
            for layer in touched:  # the calls between two checkpoints (not timed)
                limiter.charge([layer], now, now, 1, 0)
            wall, cpu = time.perf_counter(), time.process_time()
            changed, _ = on_loop(owned, seen, limit=args.windows)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            assert len(changed) == len(touched)
        print(
            f"{args.windows} windows of {args.entries} entries, {percent}% changed: "
            f"{statistics.median(walls) * 1000:.1f} ms wall, {statistics.median(cpus) * 1000:.1f} ms CPU a pass"
        )


if __name__ == "__main__":
    main()
