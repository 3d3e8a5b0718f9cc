"""The edge's request log and its lease reports against a real core (gRPC over a socket, SQLite): the
entry of a call admitted under a lease rides that lease's report — no RecordRequests call, one core
commit for the report and the entry — and an entry no report takes still goes within FLUSH_EVERY_S.
A report also confirms its lease's API key: the edge's trust in it renewed from when it was asked, or
ended when the core finds it revoked."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import grpc
import pytest
from sqlalchemy import text

from core.services import accounts
from core.services.core import Principal
from edge_http.verified_keys import VERIFIED_KEY_TTL_S, VerifiedKeys
from ringside.core.v1 import common_pb2, metering_pb2, requests_pb2
from ringside_server import request_log
from ringside_server.metering.lease import Ticket
from ringside_server.metering.leases import LeaseManager
from ringside_server.request_log import FLUSH_EVERY_S, HOLD_S, RequestRecorder
from tests.workers.billing_core import MODEL_REF, PRICE, InProcessCore

WINDOW_S = 30.0  # no lease retires while a test runs: its reports go when the test sends them


class Counted:
    """A stub's method that counts its calls (the real call goes through)."""

    def __init__(self, method: Any, calls: Counter[str], name: str) -> None:
        self.method, self.calls, self.name = method, calls, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls[self.name] += 1
        return self.method(*args, **kwargs)


def counting(core: InProcessCore, *names: str) -> Counter[str]:
    """The calls of these MeteringService methods through `core.client`, counted by name."""
    calls: Counter[str] = Counter()
    metering = core.client.metering
    for name in names:
        setattr(metering, name, Counted(getattr(metering, name), calls, name))
    return calls


def _counting(core: InProcessCore) -> Counter[str]:
    calls: Counter[str] = Counter()
    client = core.client
    client.requests.RecordRequests = Counted(client.requests.RecordRequests, calls, "RecordRequests")
    client.metering.SettleLeaseCalls = Counted(client.metering.SettleLeaseCalls, calls, "SettleLeaseCalls")
    return calls


def _call(api_key: str) -> metering_pb2.AuthorizeRequest:
    return metering_pb2.AuthorizeRequest(
        api_key=api_key,
        model_ref=MODEL_REF,
        provider="openai",
        price=PRICE,
        input_tokens_bound=100,
        requested_output_tokens=50,
        model_max_output_tokens=16_384,
    )


def _finished() -> metering_pb2.LeaseCall:
    return metering_pb2.LeaseCall(
        model_ref=MODEL_REF,
        provider="openai",
        price=PRICE,
        usage=common_pb2.TokenCounts(input_tokens=30, output_tokens=20),
        outcome=metering_pb2.SETTLE_OUTCOME_COMPLETED,
        upstream_model="gpt-4o-mini",
    )


def _entry(request_id: str, api_key: str) -> requests_pb2.RequestEntry:
    now = time.time()
    return requests_pb2.RequestEntry(
        request_id=request_id,
        api_key=api_key,
        route="/v1/chat/completions",
        model=MODEL_REF,
        resolved_model=MODEL_REF,
        status=200,
        latency_ms=5,
        created=int(now),
        created_ms=int(now * 1000),
    )


def _logged(core: InProcessCore) -> dict[str, str]:
    with core.core.engine.connect() as connection:
        rows = connection.execute(text("SELECT request_id, account_id FROM request_log")).all()
    return {str(row[0]): str(row[1]) for row in rows}


async def test_a_leased_calls_entry_rides_the_lease_report(core: InProcessCore) -> None:
    calls = _counting(core)
    recorder = RequestRecorder(core.client)
    manager = LeaseManager(core.client, "edge-test", WINDOW_S, request_log=recorder)
    answered = []
    for _ in range(3):
        ticket = await manager.admit(_call(core.live_key))
        assert isinstance(ticket, Ticket), ticket
        manager.finish(ticket, _finished())
        recorder.add(_entry(ticket.request_id, core.live_key), ticket.lease.id)  # as the edge does once answered
        answered.append(ticket.request_id)
    commits = core.core.writer.commits

    await manager.flush()  # the lease's report: its admissions, its finished calls, their entries

    assert calls == Counter({"SettleLeaseCalls": 1})
    assert core.core.writer.commits == commits + 1
    (account_id,) = core.core.state.accounts  # the one account, whose key made the calls
    assert _logged(core) == dict.fromkeys(answered, account_id)
    await recorder.flush()  # nothing is left to send
    assert calls == Counter({"SettleLeaseCalls": 1})


async def test_an_entry_no_report_takes_goes_within_the_flush_bound(
    core: InProcessCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(core)
    clock = FakeClock()
    monkeypatch.setattr(request_log, "time", clock)
    recorder = RequestRecorder(core.client)
    leased, alone = "req_leasedButNoReport01", "req_perCallEntry000001"
    clock.now = 100.001  # just after the timed loop's tick at 100.0: the worst case
    recorder.add(_entry(leased, core.live_key), "lse_neverReportsAgain01")
    recorder.add(_entry(alone, core.live_key))
    ticks = []
    for tick in range(1, 5):
        clock.now = 100.0 + tick * HOLD_S
        await recorder.flush(due_only=True)
        ticks.append((clock.now, dict(calls)))
        if len(_logged(core)) == 2:
            break
    sent_at, sent = ticks[-1]
    assert set(_logged(core)) == {leased, alone}
    assert sent == {"RecordRequests": 1}  # both in one call
    assert sent_at - 100.001 <= FLUSH_EVERY_S  # never later than the log's bound
    assert ticks[0][1] == {}  # younger than HOLD_S at the first tick: left for a report


async def test_a_report_renews_its_keys_trust_and_ends_it_once_revoked(core: InProcessCore) -> None:
    calls = _counting(core)
    keys = VerifiedKeys()
    manager = LeaseManager(core.client, "edge-test", WINDOW_S, key_confirmed=keys.confirmed)
    for _ in range(2):
        ticket = await manager.admit(_call(core.live_key))
        assert isinstance(ticket, Ticket), ticket
        manager.finish(ticket, _finished())
    before = time.monotonic()
    await manager.flush()
    after = time.monotonic()

    assert calls == Counter({"SettleLeaseCalls": 1})  # no VerifyApiKey: the report confirmed the key
    assert before + VERIFIED_KEY_TTL_S <= keys.trusted_until(core.live_key) <= after + VERIFIED_KEY_TTL_S

    (key,) = [k for k in core.core.state.keys_by_id.values() if k.livemode]
    admin = Principal(account_id=key.account_id, livemode=True, scopes=frozenset({"api:admin"}))
    await accounts.delete_key(core.core, admin, key.id)
    ticket = await manager.admit(_call(core.live_key))  # under the lease granted before (its window)
    assert isinstance(ticket, Ticket), ticket
    manager.finish(ticket, _finished())
    await manager.flush()
    assert keys.trusted_until(core.live_key) == 0.0  # refused from now on: a VerifyApiKey's answer


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return time.time()


class CutOff:
    """RecordRequests as a stopping core answers it: each of `plan` in turn — "away" (CANCELLED
    before the core received it), "lost" (recorded, then the answer lost: CANCELLED), "ok" (the
    real answer) — then "ok"."""

    def __init__(self, method: Any, plan: list[str]) -> None:
        self.method, self.plan, self.seen = method, plan, 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        step = self.plan[self.seen] if self.seen < len(self.plan) else "ok"
        self.seen += 1
        if step in ("lost", "ok"):
            answer = await self.method(*args, **kwargs)
            if step == "ok":
                return answer
        metadata = grpc.aio.Metadata()
        raise grpc.aio.AioRpcError(grpc.StatusCode.CANCELLED, metadata, metadata, "CANCELLED")


async def test_a_batch_cut_off_by_a_stopping_core_is_sent_again(
    core: InProcessCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The core stops under RecordRequests (a hand-back, a clean stop: grpc answers CANCELLED, as
    the routing passes it on once it may not or can no longer resend it): the batch is kept and
    sent after a pause — once more after a resend whose answer was lost — and every entry is
    recorded once, none dropped (before: the batch was logged and dropped)."""
    clock = FakeClock()
    monkeypatch.setattr(request_log, "time", clock)
    cut = CutOff(core.client.requests.RecordRequests, ["away", "lost"])
    core.client.requests.RecordRequests = cut
    recorder = RequestRecorder(core.client)
    ids = [f"req_cutOffByAStop{n:06d}" for n in range(3)]
    for request_id in ids:
        recorder.add(_entry(request_id, core.live_key))
    clock.now = 100.0
    await recorder.flush(due_only=True)  # away: kept
    assert (cut.seen, _logged(core)) == (1, {})
    await recorder.flush(due_only=True)  # its pause not over: not sent
    assert cut.seen == 1
    for _ in range(2):
        clock.now += 30.0  # the longest pause
        await recorder.flush(due_only=True)  # lost (recorded, kept), then answered: skipped
    assert (cut.seen, set(_logged(core))) == (3, set(ids))
    assert recorder.dropped == 0
    clock.now += 30.0
    await recorder.flush()  # nothing is left to send
    assert cut.seen == 3


async def test_a_batch_no_core_answers_is_dropped_after_the_last_pause(
    core: InProcessCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bounded: a core away for longer than the pauses add up to — its batch is dropped and
    counted, and the recorder holds nothing more."""
    clock = FakeClock()
    monkeypatch.setattr(request_log, "time", clock)
    drops: list[tuple[str, int]] = []
    cut = CutOff(core.client.requests.RecordRequests, ["away"] * 100)
    core.client.requests.RecordRequests = cut
    recorder = RequestRecorder(core.client, on_drop=lambda reason, count: drops.append((reason, count)))
    recorder.add(_entry("req_neverAnswered00001", core.live_key))
    recorder.add(_entry("req_neverAnswered00002", core.live_key))
    clock.now = 100.0
    await recorder.flush(due_only=True)
    for pause_s in request_log.RETRY_PAUSES_S:
        clock.now += pause_s
        await recorder.flush(due_only=True)
    assert cut.seen == 1 + len(request_log.RETRY_PAUSES_S)
    assert (recorder.dropped, drops) == (2, [("unanswered", 2)])
    await recorder.flush()
    assert cut.seen == 1 + len(request_log.RETRY_PAUSES_S)  # nothing kept
