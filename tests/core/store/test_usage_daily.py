"""core/store/usage_daily.py and the request-row purge (issue 27, retention): the daily aggregates
equal the usage records summed again (a late settle's correction included), /v1/usage answers the
same totals and groups before and after the retention purge deletes the old records, billing
periods and a restarted core's request counts too, and a second purge changes nothing (SQLite and
PostgreSQL)."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Table, func, select

from core.domain.calls import CallRequest
from core.domain.metering import Admission
from core.domain.requests import RequestLogEntry
from core.server import open_core
from core.services import accounts, customers, retention, usage
from core.services.core import Core, Principal
from core.services.metering import SettleCall, authorize, expire_due, settle
from core.store import billing, usage_daily
from core.store.loader import load_state
from core.store.tables import REQUEST_LOG, USAGE, USAGE_DAILY
from ringside_server.money import Price, Usage
from ringside_server.settings import Settings
from tests.harness import create_postgres_database, drop_postgres_database

PRICE = Price(input=150_000_000, output=600_000_000)
DAY = 86_400
NOW = 1_796_000_000 // DAY * DAY + 13 * 3600  # a fixed afternoon, UTC
# (days ago, seconds into that day) of each call; 100 and 95 days ago are past the 90-day retention
TIMES = [(100, 3600), (100, 80_000), (95, 40_000), (60, 100), (2, 50_000), (0, 7200)]
RANGES = {
    "all": (NOW - 120 * DAY, NOW + 1),
    "old days": (NOW // DAY * DAY - 100 * DAY, NOW // DAY * DAY - 50 * DAY),
    "to a recent afternoon": (NOW // DAY * DAY - 100 * DAY, NOW - 2 * DAY + 3600),
}


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[str]:
    url = f"sqlite:///{tmp_path}/ringside.db" if request.param == "sqlite" else create_postgres_database()
    try:
        yield url
    finally:
        if request.param == "postgres":
            drop_postgres_database(url)


class Clock:
    def __init__(self) -> None:
        self.at = float(NOW - 101 * DAY)

    def __call__(self) -> float:
        return self.at


async def _open(tmp_path: pathlib.Path, url: str, clock: Clock) -> Core:
    core = await open_core(Settings(data_dir=tmp_path, database_url=url, log_level="WARNING", hold_ttl_s=60))
    core.clock = clock
    core.meter.clock = clock
    return core


def _call(secret: str, customer_ref: str, model: str) -> CallRequest:
    return CallRequest(
        api_key=secret,
        customer_ref=customer_ref,
        user="",
        model_ref=model,
        provider="openai",
        price=PRICE,
        input_tokens_bound=40,
        requested_output_tokens=32,
        model_max_output_tokens=16_384,
    )


async def _calls(core: Core, secret: str, principal: Principal, clock: Clock) -> None:
    """Calls on each day of TIMES: two customers and unattributed ones, two models, a failure
    (not a request) and a hold that expires and is then settled late (a correction)."""
    refs = [
        (await customers.create(core, principal, customers.CustomerInput(external_id=name)))[0].id
        for name in ("a", "b")
    ]
    for number, (days_ago, second) in enumerate(TIMES):
        clock.at = float(NOW // DAY * DAY - days_ago * DAY + second)
        for index, (ref, model) in enumerate(
            [(refs[0], "fc:openai/gpt-4o-mini"), (refs[1], "fc:openai/gpt-4o"), ("", "fc:openai/gpt-4o-mini")]
        ):
            admitted = await authorize(core, _call(secret, ref, model))
            assert isinstance(admitted, Admission), admitted
            outcome = "failed" if (number + index) % 4 == 3 else "completed"
            tokens = Usage(input_tokens=5 + number + index, output_tokens=3 * number + 1)
            await settle(core, SettleCall(admitted.hold.id, tokens, outcome, False, "m"))
            at = int(clock.at)
            entry = RequestLogEntry(
                admitted.hold.id,
                principal.account_id,
                True,
                ref or None,
                "chat",
                model,
                model,
                200,
                "",
                5,
                at,
                at * 1000,
            )
            await core.writer.write([entry])
        late = await authorize(core, _call(secret, refs[0], "fc:openai/gpt-4o"))
        assert isinstance(late, Admission)
        clock.at += 120  # past the hold's TTL: posted at its estimate, then corrected by its settle
        assert await expire_due(core) >= 1
        await settle(
            core, SettleCall(late.hold.id, Usage(input_tokens=7, output_tokens=number), "completed", False, "m")
        )


async def _reports(core: Core, principal: Principal) -> dict[str, object]:
    """Every answer whose range starts and ends at UTC midnights or on days whose records stay."""
    found: dict[str, object] = {}
    for name, (since, until) in RANGES.items():
        for group_by in ("", "day", "model", "customer"):
            report = await usage.get_usage(core, principal, "", since, until, group_by, 100, "")
            found[f"{name} {group_by}"] = (report.totals, report.groups, report.has_more)
        ranked = await usage.get_usage(core, principal, "", since, until, "customer", 1, "", "billable_usd", "desc")
        second = await usage.get_usage(
            core, principal, "", since, until, "customer", 1, ranked.groups[0][0], "billable_usd", "desc"
        )
        found[f"{name} ranked"] = (ranked.groups, second.groups, second.has_more)
        page = await usage.get_usage(core, principal, "", since, until, "day", 1, "")
        after = await usage.get_usage(core, principal, "", since, until, "day", 2, page.groups[0][0])
        found[f"{name} day pages"] = (page.groups, after.groups, after.has_more)
    customer_ids = sorted(c.id for c in core.state.customers.values())
    with core.engine.connect() as connection:
        periods = sorted(p for (p,) in connection.execute(select(USAGE_DAILY.c.period_start).distinct()))
        found["periods"] = [
            billing.usage_sums(connection, customer_ids, period, [principal.account_id]) for period in (None, *periods)
        ]
    one = await usage.get_usage(core, principal, customer_ids[0], NOW - 120 * DAY, NOW + 1, "day", 100, "")
    found["one customer"] = (one.totals, one.groups)
    return found


def _summed_records(core: Core, since: int, until: int) -> usage.Totals:
    """The range's totals from the usage records alone (API.md "Usage": failed calls are no requests)."""
    with core.engine.connect() as connection:
        rows = connection.execute(select(USAGE).where(USAGE.c.created >= since, USAGE.c.created < until)).all()
    return usage.Totals(
        sum(r.cost_nano for r in rows),
        sum(r.posted_nano for r in rows),
        sum(1 for r in rows if r.status not in ("failed", "lease_expired")),
        sum(r.input_tokens for r in rows),
        sum(r.output_tokens for r in rows),
    )


def _count(core: Core, table: Table, before: int) -> int:
    with core.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(table).where(table.c.created < before)).scalar_one()
        )


async def test_usage_totals_are_the_same_once_old_records_are_purged(database: str, tmp_path: pathlib.Path) -> None:
    clock = Clock()
    core = await _open(tmp_path, database, clock)
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        principal = Principal(account_id=new.account.id, livemode=True, scopes=frozenset({"api:write", "api:read"}))
        await _calls(core, new.live_key.secret, principal, clock)
        clock.at = float(NOW)
        with core.engine.connect() as connection:
            assert usage_daily.mismatches(connection, 0) == []  # the corrections included
        before = await _reports(core, principal)
        for name, (since, until) in RANGES.items():  # what the records alone say, while they are all there
            found = before[f"{name} "]
            assert isinstance(found, tuple) and found[0] == _summed_records(core, since, until)
            assert found[0].request_count > 0
        cutoff = (NOW - 90 * DAY) // DAY * DAY
        assert _count(core, USAGE, cutoff) == 3 * 4  # 100 and 95 days ago: 3 calls and 1 late one each
        assert _count(core, REQUEST_LOG, cutoff) == 3 * 3

        purged = await retention.purge(core)
        assert purged.requests == cutoff
        assert _count(core, USAGE, cutoff) == 0 and _count(core, USAGE, NOW + 1) == 3 * 4
        assert _count(core, REQUEST_LOG, cutoff) == 0 and _count(core, REQUEST_LOG, NOW + 1) == 3 * 3
        assert await _reports(core, principal) == before
        await retention.purge(core)  # twice: nothing more goes, nothing counts twice
        assert await _reports(core, principal) == before
        counts = {c.id: c.request_count for c in core.state.customers.values()}
    finally:
        await core.writer.close()
        core.engine.dispose()
    restarted = await _open(tmp_path, database, clock)
    try:  # a starting core counts the period's requests from the aggregates
        loaded = load_state(restarted.engine, NOW)  # as at NOW, the calls' period
        assert {c.id: c.request_count for c in loaded.customers.values()} == counts
        assert await _reports(restarted, principal) == before
    finally:
        await restarted.writer.close()
        restarted.engine.dispose()
