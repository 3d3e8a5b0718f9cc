"""Property test of prepaid wallets at the core's gRPC API (issue 4): random interleavings of
top-ups, adjusts (±), refunds and bursts of concurrent metered calls (Authorize + Settle, some
completed above their hold, some aborted or failed, some never settled so that they expire) keep
every wallet invariant after every step. A fresh customer per example keeps examples independent.

Profiles: `RINGSIDE_HYPOTHESIS_PROFILE=small` (default, part of every run) or `large` (on demand,
see README "Testing"). Holds expire after HOLD_TTL_S; the small profile meets the expiries once, at
the end of each backend's run, the large one also waits for them in the middle of examples.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ringside.core.v1 import metering_pb2, wallets_pb2
from tests.conftest import BACKENDS
from tests.core_api import CoreApi, CoreError, cost_nano
from tests.e2e.wallet_model import Call, WalletModel, check_wallet, consistent_wallet
from tests.harness import Stack, wait_until

HOLD_TTL_S = 5
SETTLE_RETRY_S = 10.0
PROFILES = {
    "small": settings(
        max_examples=20,
        stateful_step_count=20,
        deadline=None,
        database=None,  # a replay meets another clock and scheduler: no example to replay
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    ),
    "large": settings(
        max_examples=100,
        stateful_step_count=40,
        deadline=None,
        database=None,  # a replay meets another clock and scheduler: no example to replay
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    ),
}
PROFILE = os.environ.get("RINGSIDE_HYPOTHESIS_PROFILE", "small")
OUTCOMES = {
    "completed": metering_pb2.SETTLE_OUTCOME_COMPLETED,
    "aborted": metering_pb2.SETTLE_OUTCOME_ABORTED,
    "failed": metering_pb2.SETTLE_OUTCOME_FAILED,
}


@dataclass(frozen=True, slots=True)
class CallSpec:
    """One call as the edge would make it; usage may exceed the output bound (and the hold)."""

    input_tokens: int
    output_tokens: int
    used_input: int
    used_output: int
    outcome: str
    settle: bool


@dataclass(frozen=True, slots=True)
class CallResult:
    spec: CallSpec
    authorized: metering_pb2.AuthorizeResponse | CoreError
    settled: metering_pb2.SettleResponse | CoreError | None


calls = st.builds(
    CallSpec,
    input_tokens=st.integers(1, 2_000),
    output_tokens=st.integers(1, 500),
    used_input=st.integers(0, 3_000),
    used_output=st.integers(0, 1_000),
    outcome=st.sampled_from(sorted(OUTCOMES)),
    settle=st.sampled_from([True, True, True, False]),  # a quarter are never settled
)
amounts = st.integers(1, 600_000) | st.sampled_from([1, 10**9])  # a nano-USD, a dollar


def _usage(spec: CallSpec) -> tuple[int, int]:
    return (0, 0) if spec.outcome == "failed" else (spec.used_input, spec.used_output)


def _settle(api: CoreApi, request_id: str, spec: CallSpec) -> metering_pb2.SettleResponse | CoreError:
    """Settle; a settle racing the hold's expiry is refused (409) and retried, as the edge does."""

    def attempt() -> metering_pb2.SettleResponse | CoreError | None:
        result = api.settle(request_id, *_usage(spec), OUTCOMES[spec.outcome])
        return None if isinstance(result, CoreError) and result.code == "conversation_locked" else result

    settled: metering_pb2.SettleResponse | CoreError = wait_until(attempt, SETTLE_RETRY_S, f"{request_id} to settle")
    return settled


def _run_call(api: CoreApi, customer_id: str, spec: CallSpec) -> CallResult:
    authorized = api.authorize(customer_id, spec.input_tokens, spec.output_tokens)
    settled = None
    if not isinstance(authorized, CoreError) and authorized.allowed and spec.settle:
        settled = _settle(api, authorized.request_id, spec)
    return CallResult(spec, authorized, settled)


def book_settle(
    call: Call, spec: CallSpec, settled: metering_pb2.SettleResponse | CoreError, given_back: int = 0
) -> None:
    """Check a first settle against the price and the hold, and book it. A late one (the hold
    expired meanwhile) gives back the difference, less what refunds of the expiry already gave."""
    assert not isinstance(settled, CoreError), (call, settled)
    cost = cost_nano(*_usage(spec))
    posted = min(cost, call.hold_nano)  # never more than the hold; the excess is unbilled
    if settled.late:
        posted = call.hold_nano - max(0, min(call.hold_nano - posted, call.hold_nano - given_back))
    assert (settled.cost_nano_usd, settled.billable_nano_usd) == (cost, cost), settled
    assert (settled.posted_nano_usd, settled.unbilled_nano_usd) == (posted, max(0, cost - posted)), settled
    assert not settled.replayed and settled.HasField("wallet_balance_nano_usd")
    call.first_settle = (posted, settled.late)
    if settled.late:  # its expiry posted the hold; the difference comes back as a new transfer
        call.expired = True
        call.correction_nano = call.hold_nano - posted
    else:
        call.posted_nano = posted


class WalletMachine(RuleBasedStateMachine):
    def __init__(self, api: CoreApi, finished: list[WalletModel]) -> None:
        super().__init__()
        self.api = api
        self.finished = finished
        self.model = WalletModel(api.create_wallet_customer())
        finished.append(self.model)

    @property
    def room(self) -> int:
        return self.model.balance_nano - self.model.held_nano

    def _moved(self, response: wallets_pb2.WalletMovementResponse | CoreError, kind: str, amount: int) -> None:
        assert not isinstance(response, CoreError), (kind, amount, response)
        assert response.transaction.type == kind and response.transaction.amount_nano_usd == amount, response

    @initialize(amount=st.integers(0, 2_000_000))
    def fund(self, amount: int) -> None:
        if amount:
            self.top_up(amount)

    @rule(amount=amounts)
    def top_up(self, amount: int) -> None:
        self._moved(self.api.top_up(self.model.customer_id, amount), "topup", amount)
        self.model.topups_nano += amount

    @rule(amount=amounts, out=st.booleans(), whole_room=st.booleans())
    def adjust(self, amount: int, out: bool, whole_room: bool) -> None:
        if out and whole_room and self.room > 0:
            amount = self.room
        amount = -amount if out else amount
        response = self.api.adjust(self.model.customer_id, amount)
        if out and -amount > self.room:  # never below what the wallet holds for calls in flight
            assert response == CoreError(grpc.StatusCode.INVALID_ARGUMENT, "invalid_request", "amount_usd")
            return
        self._moved(response, "adjust", amount)
        self.model.adjusts_nano += amount

    # No precondition reads the core's answers: which holds expired is the clock's doing, and which
    # calls a burst admitted is the scheduler's. Hypothesis replays a prefix of steps and needs the
    # same rules enabled each time, so a rule with nothing to act on does nothing instead.
    @rule(pick=st.integers(0, 10**6), how=st.sampled_from(["rest", "part", "over"]), fraction=st.floats(0, 1))
    def refund(self, pick: int, how: str, fraction: float) -> None:
        debits = sorted(self.model.debits)
        if not debits:
            return
        wtx_id = debits[pick % len(debits)]
        left = self.model.refund_left(wtx_id)
        amount = {"rest": 0, "part": max(1, int(left * fraction)), "over": left + 1 + int(fraction * 1000)}[how]
        response = self.api.refund(self.model.customer_id, wtx_id, amount)
        if how == "over" or left == 0 or amount > left:  # refused cleanly, nothing moves
            assert response == CoreError(grpc.StatusCode.INVALID_ARGUMENT, "invalid_request", "amount_usd")
            return
        self._moved(response, "refund", amount or left)
        self.model.refunds_nano[wtx_id] = self.model.refunds_nano.get(wtx_id, 0) + (amount or left)

    @precondition(lambda self: self.model.topups_nano)
    @rule(pick=st.integers(0, 10**6))
    def refund_a_top_up(self, pick: int) -> None:
        top_ups = sorted(tx_id for tx_id, seen in self.model.seen.items() if seen[0] == "topup")
        response = self.api.refund(self.model.customer_id, top_ups[pick % len(top_ups)], 0)
        assert response == CoreError(grpc.StatusCode.NOT_FOUND, "not_found", "transaction_id"), response

    @rule(batch=st.lists(calls, min_size=1, max_size=8), top_up=amounts | st.none(), take=amounts | st.none())
    def burst(self, batch: list[CallSpec], top_up: int | None, take: int | None) -> None:
        """Calls at once, with a top-up and a negative adjust racing them when drawn."""
        room = self.room
        customer = self.model.customer_id
        with ThreadPoolExecutor(max_workers=len(batch) + 2) as pool:
            top_up_done = pool.submit(self.api.top_up, customer, top_up) if top_up else None
            take_done = pool.submit(self.api.adjust, customer, -take) if take else None
            results = list(pool.map(lambda spec: _run_call(self.api, customer, spec), batch))
        alone = len(batch) == 1 and top_up is None and take is None
        for result in results:
            self._record_call(result, room if alone else None)
        if top_up_done is not None and top_up:
            self._moved(top_up_done.result(), "topup", top_up)
            self.model.topups_nano += top_up
        if take_done is not None and take:
            taken = take_done.result()
            if isinstance(taken, CoreError):  # refused when the room was short at that moment
                assert taken == CoreError(grpc.StatusCode.INVALID_ARGUMENT, "invalid_request", "amount_usd")
            else:
                self._moved(taken, "adjust", -take)
                self.model.adjusts_nano -= take

    def _record_call(self, result: CallResult, room: int | None) -> None:
        """Check one call's answers against the price and the room rule, and book it."""
        spec, authorized = result.spec, result.authorized
        assert not isinstance(authorized, CoreError), authorized
        if not authorized.allowed:
            assert authorized.denial.code == "customer_wallet_empty", authorized
            assert room is None or room < cost_nano(spec.input_tokens, 1), (room, spec)
            return
        bound = authorized.max_output_tokens
        assert 1 <= bound <= spec.output_tokens and authorized.output_limited == (bound < spec.output_tokens)
        assert authorized.hold_nano_usd == cost_nano(spec.input_tokens, bound), authorized
        if room is not None:  # alone: the largest output bound the room pays for
            assert authorized.hold_nano_usd <= room, (authorized, room)
            assert bound == spec.output_tokens or cost_nano(spec.input_tokens, bound + 1) > room
        call = Call(authorized.request_id, authorized.hold_nano_usd, abandoned=not spec.settle)
        self.model.calls[call.request_id] = call
        if result.settled is not None:
            book_settle(call, spec, result.settled)

    def _abandoned(self) -> list[Call]:
        return [c for c in self.model.calls.values() if c.abandoned and c.first_settle is None]

    @rule(pick=st.integers(0, 10**6), spec=calls)
    def settle_abandoned(self, pick: int, spec: CallSpec) -> None:
        """A settle that comes late: before the expiry it settles, after it corrects."""
        abandoned = self._abandoned()
        if not abandoned:
            return
        call = abandoned[pick % len(abandoned)]
        given_back = self.model.given_back(call.request_id)
        book_settle(call, spec, _settle(self.api, call.request_id, spec), given_back)

    @rule(pick=st.integers(0, 10**6), spec=calls)
    def settle_again(self, pick: int, spec: CallSpec) -> None:
        """A repeated settle (an edge retry) replays the first answer and moves nothing."""
        settled = [c for c in self.model.calls.values() if c.first_settle is not None]
        if not settled:
            return
        call = settled[pick % len(settled)]
        again = _settle(self.api, call.request_id, spec)
        assert not isinstance(again, CoreError) and again.replayed, again
        assert (again.posted_nano_usd, again.late) == call.first_settle, (again, call)

    @precondition(lambda self: PROFILE == "large")
    @rule()
    def let_holds_expire(self) -> None:
        """Wait (bounded) for every abandoned hold to be posted at its reserved amount (at once when
        there is none, or they already are)."""
        wait_until(
            lambda: consistent_wallet(self.api, self.model.customer_id)[0].held_nano_usd == 0,
            HOLD_TTL_S + 10,
            "abandoned holds to expire",
            interval_s=0.2,
        )

    @invariant()
    def wallet_invariants_hold(self) -> None:
        check_wallet(self.api, self.model)


@pytest.fixture(scope="module", params=BACKENDS)
def short_hold_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own whose holds expire after HOLD_TTL_S (the property test lets some expire)."""
    data_dir: pathlib.Path = tmp_path_factory.mktemp(f"wallet-props-{request.param}")
    stack = Stack(request.param, data_dir, None, extra_env={"RINGSIDE_HOLD_TTL_S": str(HOLD_TTL_S)})
    yield stack.start()
    stack.destroy()


def _refund_and_late_settle(api: CoreApi, model: WalletModel, refund_first: bool) -> None:
    """On an expired call: a refund of its debit and its late settle, in either order."""
    expired = [c for c in model.calls.values() if c.expired and c.first_settle is None]
    if not expired:
        return
    call = expired[0]
    _, transactions = consistent_wallet(api, model.customer_id)
    debit = next(tx for tx in transactions if tx.type == "debit" and tx.request_id == call.request_id)
    spec = CallSpec(1, 1, 1, 1, "completed", True)
    steps = ["refund", "settle"] if refund_first else ["settle", "refund"]
    for step in steps:
        if step == "settle":
            book_settle(call, spec, _settle(api, call.request_id, spec), model.given_back(call.request_id))
            continue
        response = api.refund(model.customer_id, debit.id, 0)
        left = model.refund_left(debit.id)
        if isinstance(response, CoreError):
            assert response.code == "invalid_request" and left == 0, response
        else:
            assert response.transaction.amount_nano_usd == left, (response, left)
            model.refunds_nano[debit.id] = model.refunds_nano.get(debit.id, 0) + left


@pytest.mark.timeout(3600 if PROFILE == "large" else 300)
def test_wallet_invariants_under_random_interleavings(short_hold_stack: Stack) -> None:
    api = CoreApi(short_hold_stack)
    finished: list[WalletModel] = []
    try:
        run_state_machine_as_test(lambda: WalletMachine(api, finished), settings=PROFILES[PROFILE])
        # Every abandoned hold is posted once at its reserved amount, and a late settle or a
        # refund of that posting, in either order, never gives back more than it took.
        wait_until(lambda: short_hold_stack.audit().open_holds == 0, HOLD_TTL_S * 4, "every hold to expire")
        for index, model in enumerate(finished):
            check_wallet(api, model)
            _refund_and_late_settle(api, model, refund_first=index % 2 == 0)
            check_wallet(api, model)
    finally:
        api.close()
