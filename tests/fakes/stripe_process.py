"""The fake Stripe (tests/fakes/stripe_api.py) as its own process on a free port."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from tests.harness import START_TIMEOUT_S, free_port, http, port_open, start_process, stop_process, wait_until

API_KEY = "sk_test_" + "f" * 24


@dataclass
class FakeStripe:
    port: int
    process: subprocess.Popen[bytes]
    api_key: str = API_KEY

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, log_dir: pathlib.Path) -> FakeStripe:
        port = free_port()
        args = [sys.executable, "-m", "tests.fakes.stripe_api", "--port", str(port), "--api-key", API_KEY]
        process = start_process(args, dict(os.environ), log_dir / f"stripe-{port}.log")
        wait_until(lambda: port_open(port) or process.poll() is not None, START_TIMEOUT_S, "the fake Stripe")
        assert process.poll() is None, "the fake Stripe exited"
        return cls(port, process)

    def stop(self) -> None:
        stop_process(self.process)

    def behave(self, **behaviour: Any) -> None:
        assert http("POST", self.base_url + "/_fake/behaviour", body=behaviour).status == 200

    def state(self) -> dict[str, Any]:
        return dict(http("GET", self.base_url + "/_fake/state").json())

    def totals(self) -> dict[str, int]:
        """Stripe customer → the sum of the values of its accepted events."""
        sums: dict[str, int] = {}
        for event in self.state()["events"]:
            customer = event["payload"]["stripe_customer_id"]
            sums[customer] = sums.get(customer, 0) + int(event["payload"]["value"])
        return sums
