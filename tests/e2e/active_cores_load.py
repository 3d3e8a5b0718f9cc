"""The load of calls the e2e tests of two active cores run through both edges (tests/e2e/
test_active_cores.py): budget-capped customers in both cores' halves, one thread each, and the
checks that every completed call was billed once, within its cap."""

from __future__ import annotations

import http.client
import secrets
import subprocess
import threading
import time
from decimal import Decimal

from tests.e2e.active_cores import CORE_NAMES, accounts_on_both, half
from tests.e2e.test_concurrency import _cost_nano as cost_nano
from tests.e2e.test_core_failover import MODEL, _estimate_nano
from tests.harness import Stack, wait_until
from tests.harness import http as http_call

CAP_CALLS = 25
ACCOUNTS_PER_CORE = 2


def load_accounts(stack: Stack) -> list[dict[str, str]]:
    """ACCOUNTS_PER_CORE accounts in each core's half (core-a's first), made while core-a is alone."""
    return accounts_on_both(stack, ACCOUNTS_PER_CORE)


class Load:
    """Calls for every account's budget-capped customer, spread over the edges, one thread per
    account, each until its cap refuses it (or `stop`); what was answered and what refused, when."""

    def __init__(
        self, stack: Stack, accounts: list[dict[str, str]], edges: list[str], cap_calls: int = CAP_CALLS
    ) -> None:
        self.accounts = accounts
        self.edges = edges
        self.cap_nano = cap_calls * _estimate_nano()
        self.customers: list[str] = []
        for index, account in enumerate(accounts):
            fields = {
                "external_id": f"ac_{secrets.token_hex(4)}",
                "budget_usd": str(Decimal(self.cap_nano).scaleb(-9)),
            }
            # through either edge: the first call for core-b's accounts is answered "not owner" by core-a
            created = stack.call("POST", "/v1/customers", account["live"], fields) if index % 2 else None
            if created is None:
                created = http_call("POST", edges[1] + "/v1/customers", account["live"], fields)
            assert created.status in (200, 201), created.body
            self.customers.append(created.json()["id"])
        self.completed: list[tuple[int, str, float, int]] = []  # (account index, request id, when, cost)
        self.refused: list[tuple[int, float]] = []  # (account index, when): the takeover window
        self.refusals: list[str] = []  # what each refused call was answered (status and body, or the error)
        self.capped: set[int] = set()
        self.unexpected: list[str] = []  # any other answer: its thread stops, the test fails at join()
        self.spans: list[tuple[int, float, float]] = []  # (account index, sent, answered or failed)
        self.stop = threading.Event()
        self.served_by = {i: CORE_NAMES[half(a["id"])] for i, a in enumerate(accounts)}
        assert sorted(self.served_by.values()) == ["core-a"] * ACCOUNTS_PER_CORE + ["core-b"] * ACCOUNTS_PER_CORE
        self.threads = [
            threading.Thread(target=self._calls_recorded, args=(i,), daemon=True) for i in range(len(accounts))
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        """Stops the calls; fails when any was answered other than 200, 402 at the cap or 503."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=20)
        assert self.unexpected == []

    def _calls_recorded(self, index: int) -> None:
        try:
            self._calls(index)
        except Exception as error:  # a thread's exception would only warn: join() fails on it
            self.unexpected.append(repr(error))

    def _calls(self, index: int) -> None:
        key, customer_id = self.accounts[index]["live"], self.customers[index]
        for call in range(10_000):
            if self.stop.is_set():
                return
            body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": f"a{index} c{call}"}]}
            sent = time.monotonic()
            try:
                response = http_call(
                    "POST",
                    self.edges[call % 2] + "/v1/chat/completions",
                    key,
                    body,
                    headers={"FC-Customer": customer_id},
                    timeout_s=15,
                )
            except (OSError, http.client.HTTPException) as error:
                self.refused.append((index, time.monotonic()))
                self.refusals.append(repr(error))
                continue
            finally:
                self.spans.append((index, sent, time.monotonic()))
            if response.status == 200:
                usage = response.json()["usage"]
                self.completed.append((index, response.headers["x-request-id"], time.monotonic(), cost_nano(usage)))
            elif response.status == 402 and response.json()["error"]["code"] == "customer_budget_exceeded":
                self.capped.add(index)
                return
            elif response.status != 503:  # a 503 in the takeover window only; anything else is a fault
                self.unexpected.append(f"{self.edges[call % 2]} {response.status} {response.body[:300]!r}")
                return
            else:
                self.refused.append((index, time.monotonic()))
                self.refusals.append(f"{self.edges[call % 2]} {response.status} {response.body[:300]!r}")
                time.sleep(0.05)

    def report(self, event: str, since: float) -> None:
        """Prints when core-b's accounts were answered again after `event` (never asserted)."""
        moved = [at for i, at in self.refused if self.served_by[i] == "core-b" and at > since]
        if moved:  # the first call for core-b's accounts answered after the last one refused
            again = min(at for i, _, at, _ in self.completed if self.served_by[i] == "core-b" and at > max(moved))
            print(f"{event}: {len(moved)} calls refused; answered again {again - since:.2f} s after it")
        else:
            print(f"{event}: no call refused (the edges' leases covered it)")
        untouched = [at for i, at in self.refused if self.served_by[i] == "core-a" and at > since]
        print(f"core-a's own accounts: {len(untouched)} calls refused meanwhile")
        for owner in ("core-a", "core-b"):
            spans = [end - sent for i, sent, end in self.spans if self.served_by[i] == owner and end > since]
            longest = max(spans, default=0.0)
            print(f"{owner}'s accounts: the longest call after it took {longest:.2f} s")

    def check_billing(self, stack: Stack) -> list[str]:
        """Every completed call billed once at its cost, 0 overspend on every cap; → the request ids."""
        ids = [request_id for _, request_id, _, _ in self.completed]

        def billed() -> bool:
            marks = ",".join("?" for _ in ids)
            rows = stack.query(f"SELECT request_id FROM usage_records WHERE request_id IN ({marks})", *ids)
            return len(rows) == len(ids)

        wait_until(billed, 30, "every completed call's usage record")
        assert not stack.query("SELECT request_id FROM usage_records GROUP BY request_id HAVING COUNT(*) > 1")
        for index, customer_id in enumerate(self.customers):
            (posted,) = stack.query(
                "SELECT COALESCE(SUM(posted_nano), 0) FROM usage_records WHERE customer_id = ?", customer_id
            )[0]
            assert int(posted) == sum(cost for i, _, _, cost in self.completed if i == index)
            assert int(posted) <= self.cap_nano  # 0 overspend, across the takeover too
        return ids


def kill_core_b_mid_load(stack: Stack, core_b: subprocess.Popen[bytes], load: Load, accounts: int) -> float:
    """Once every account was answered and 12 calls completed, SIGKILLs core-b; waits for core-a's
    takeover and for every customer's cap to refuse; → when it was killed (time.monotonic)."""
    wait_until(lambda: {i for i, *_ in load.completed} == set(range(accounts)), 60, "calls on both cores")
    wait_until(lambda: len(load.completed) >= 12, 60, "12 calls")
    core_a_log = stack.data_dir / "core.log"
    taken_before = core_a_log.read_text(errors="replace").count("serving 128 more partitions")
    core_b.kill()  # SIGKILL mid-load
    killed_at = time.monotonic()
    core_b.wait()
    wait_until(
        lambda: core_a_log.read_text(errors="replace").count("serving 128 more partitions") > taken_before,
        60,
        "takeover",
    )
    wait_until(lambda: len(load.capped) == accounts, 180, "every customer's cap")
    return killed_at
