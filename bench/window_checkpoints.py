"""The event loop's share of a rate-limit windows checkpoint (issue 25, core/services/window_checkpoints.py):
one `RateLimiter.changed` pass over N windows, when none changed since the last checkpoint and when
every one did (its entries listed for the write). The write itself is one transaction off the loop.

    python -m bench.window_checkpoints [--windows 10000] [--entries 10] [--rounds 20]

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
    args = parser.parse_args()
    limiter = RateLimiter()
    layers = [Layer("customer_rate_limit_exceeded", ("customer", f"cus_{i}"), 1_000) for i in range(args.windows)]
    for entry in range(args.entries):
        for layer in layers:
            limiter.charge([layer], START + entry, START + entry, 1, 0)
    seen: dict[tuple[str, ...], tuple[int, int, int, float]] = {}
    owned = lambda key: True  # noqa: E731 - every window served
    for label, touch in (("every window changed", True), ("none changed", False)):
        walls, cpus = [], []
        for round_ in range(args.rounds):
            if touch:
                seen = {}
            wall, cpu = time.perf_counter(), time.process_time()
            changed, _ = limiter.changed(owned, seen, limit=args.windows)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            assert len(changed) == (args.windows if touch else 0) or round_ == 0
        print(
            f"{args.windows} windows of {args.entries} entries, {label}: "
            f"{statistics.median(walls) * 1000:.1f} ms wall, {statistics.median(cpus) * 1000:.1f} ms CPU a pass"
        )


if __name__ == "__main__":
    main()
