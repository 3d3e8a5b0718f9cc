"""What the core's checks cost per call, in memory (no database, no network).

Times `Meter.admit` + settle (plan and apply) for one customer, per call, in four set-ups: nothing
to check, a budget, a budget and the four rate-limit layers (per IP, per account, customer RPM and
TPM), and the lease path (`acquire_lease` of 16 calls, report, close) per call. The records a real
core would write are built but not written: this isolates the decision's own CPU cost.

    python -m bench.admission_cost [--calls 200000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from core.domain.calls import CallRequest
from core.domain.entities import Account, ApiKey, Customer, hash_secret
from core.domain.metering import Admission, Meter
from core.domain.periods import period_bounds
from core.domain.ratelimit import RateDefaults
from core.domain.settlement import FinishedCall
from core.domain.state import State
from ringside_server.money import Price, Usage

PRICE = Price(input=150_000_000, output=600_000_000)
SECRET = "sk_test_" + "b" * 40
BIG = 10**12
USAGE = Usage(input_tokens=20, output_tokens=16)


class Clock:
    """Advances 1 ms a call: a steady 1,000 calls/s, windows sliding as they would."""

    def __init__(self) -> None:
        self.now = float(period_bounds(int(time.time()))[0] + 86_400)

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def world(budget: bool, limits: bool) -> tuple[Meter, CallRequest]:
    state = State()
    clock = Clock()
    created = int(clock.now)
    state.accounts["acct_b"] = Account(id="acct_b", name="bench", created=created)
    state.add_key(
        ApiKey("key_b", "acct_b", False, "bench", frozenset({"api:write"}), hash_secret(SECRET), "sk_test_…", created)
    )
    state.add_customer(
        Customer(
            id="cus_b",
            account_id="acct_b",
            livemode=False,
            external_id="bench",
            name="",
            email="",
            metadata={},
            budget_nano=BIG if budget else None,
            budget_explicit=budget,
            rate_limit_rpm=BIG if limits else None,
            rate_limit_tpm=BIG if limits else None,
            blocked=False,
            billing_anchor_day=1,
            wallet_enabled=False,
            wallet_low_threshold_nano=0,
            created=created,
            period_start=period_bounds(created)[0],
        )
    )
    defaults = RateDefaults(ip_per_min=BIG, account_per_min=BIG) if limits else RateDefaults()
    meter = Meter(state, 900, clock, defaults)
    request = CallRequest(
        api_key=SECRET,
        customer_ref="cus_b",
        user="",
        model_ref="fc:openai/gpt-4o-mini",
        provider="openai",
        price=PRICE,
        input_tokens_bound=200,
        requested_output_tokens=64,
        model_max_output_tokens=16_384,
        client_ip="127.0.0.1",
    )
    return meter, request


def per_call_path(meter: Meter, request: CallRequest) -> Callable[[], int]:
    def one() -> int:
        admission = meter.admit(request)
        assert isinstance(admission, Admission)
        meter.apply(meter.plan_settle(admission.hold, USAGE, "completed", False, "gpt-4o-mini"))
        return 1

    return one


def lease_path(meter: Meter, request: CallRequest) -> Callable[[], int]:
    def sixteen() -> int:
        lease = meter.acquire_lease(request, 16)
        assert isinstance(lease, Admission)
        calls = [
            FinishedCall(f"req_{i}", request.model_ref, "openai", PRICE, 1, USAGE, "completed", False, "gpt-4o-mini")
            for i in range(lease.lease_calls)
        ]
        meter.apply(meter.plan_lease_calls(lease.hold, calls))
        meter.apply(meter.plan_close_lease(lease.hold))
        return lease.lease_calls

    return sixteen


def measure(step: Callable[[], int], calls: int) -> float:
    """Microseconds per call."""
    done = 0
    started = time.perf_counter()
    while done < calls:
        done += step()
    return (time.perf_counter() - started) / done * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200_000)
    calls = max(1_000, min(parser.parse_args().calls, 10_000_000))
    rows = [
        ("per call, no budget, no limits", per_call_path(*world(False, False))),
        ("per call, budget", per_call_path(*world(True, False))),
        ("per call, budget + 4 rate-limit layers", per_call_path(*world(True, True))),
        ("lease of 16, budget", lease_path(*world(True, False))),
        ("lease of 16, budget + 4 rate-limit layers", lease_path(*world(True, True))),
    ]
    print(f"| set-up ({calls:,} calls each) | µs per call |\n|---|---|")
    for name, step in rows:
        measure(step, calls // 10)  # warm up
        print(f"| {name} | {measure(step, calls):.2f} |")


if __name__ == "__main__":
    main()
