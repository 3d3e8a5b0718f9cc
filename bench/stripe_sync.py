"""A Stripe usage sync run's numbers: events pushed, duplicates Stripe refused by identifier, time.

    python -m bench.stripe_sync [--customers 100] [--calls 2]

Starts what tests/workers/test_stripe_sync.py starts (a Temporal dev server, core, edge, the worker
as its own process, and the fake Stripe the real SDK talks to), makes `--calls` test-model calls
per customer, then:
  1. a sync during which Stripe keeps the first events but answers them late, and the worker is
     SIGKILLed and restarted: the batch is retried and its pushes resent; Stripe refuses the ones
     it has by identifier;
  2. a steady sync of one new call per customer.
Checks Stripe's totals against the usage API for every customer, prints a Markdown table and writes
bench/results/<date>-stripe-sync.md.
"""

from __future__ import annotations

import argparse
import datetime
import pathlib
import signal
import tempfile
import time
from typing import Any

from tests.fakes.stripe_process import FakeStripe
from tests.harness import wait_until
from tests.workers.test_stripe_sync import finished_runs, trigger_sync, usage_tokens
from tests.workers.webhook_stack import WebhookStack

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def _timed_run(
    stack: WebhookStack, key: str, runs_before: int, kill_after_requests: int, fake: FakeStripe
) -> tuple[dict[str, Any], float]:
    requests_before = fake.state()["requests"]
    started = time.monotonic()
    trigger_sync(stack)
    if kill_after_requests:
        wait_until(lambda: fake.state()["requests"] - requests_before >= kill_after_requests, 120, "pushes in flight")
        assert stack.worker is not None
        stack.worker.send_signal(signal.SIGKILL)
        stack.worker.wait()
        stack.start_worker()
    run = finished_runs(stack, key, runs_before + 1)[0]
    return run, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--calls", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        fake = FakeStripe.start(work)
        stack = WebhookStack.start("sqlite", work, {"RINGSIDE_STRIPE_API_BASE": fake.base_url})
        try:
            key = stack.stack.test_key
            body = {"secret_key": fake.api_key, "meter_event_name": "ai_tokens", "value": "tokens"}
            assert stack.stack.call("PUT", "/v1/billing/stripe", key, body).status == 200
            customers = [stack.customer(key, stripe_customer_id=f"cus_B{i}")["id"] for i in range(options.customers)]
            for customer_id in customers:
                for _ in range(options.calls):
                    assert stack.chat(key, customer_id).status == 200
            fake.behave(hang_next=8, hang_s=1.0)
            crash_run, crash_s = _timed_run(stack, key, 0, 4, fake)
            crash_duplicates = fake.state()["duplicates"]
            for customer_id in customers:
                assert stack.chat(key, customer_id).status == 200
            steady_run, steady_s = _timed_run(stack, key, 1, 0, fake)
            totals = fake.totals()
            mismatches = sum(totals.get(f"cus_B{i}", 0) != usage_tokens(stack, key, c) for i, c in enumerate(customers))
        finally:
            stack.destroy()
            fake.stop()
    rows = [
        ("worker SIGKILLed mid-sync, restarted", crash_run, crash_duplicates, crash_s),
        ("steady (one new call per customer)", steady_run, steady_run["duplicates"], steady_s),
    ]
    lines = [
        f"# Stripe usage sync, {options.customers} customers ({datetime.date.today()})",
        "",
        "| run | events pushed | duplicates refused by identifier | units pushed | time (s) |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {run['pushed']} | {dups} | {run['units_pushed']} | {seconds:.1f} |"
            for name, run, dups, seconds in rows
        ),
        "",
        f"Stripe's totals vs the usage API: {mismatches} of {options.customers} customers differ.",
        "Times run from `ringside billing sync` to the run's finished status (the crash run includes the",
        "20 s heartbeat timeout after which Temporal retries the killed worker's batch).",
    ]
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{datetime.date.today()}-stripe-sync.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
