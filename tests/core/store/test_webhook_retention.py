"""What webhooks keep: relayed outbox entries past a week and attempts past 30 days are purged;
unrelayed entries and events stay, on SQLite and PostgreSQL."""

from __future__ import annotations

import pathlib

import pytest
from sqlalchemy import func, select

from core.domain.webhooks import AttemptPurge, DeliveryAttempt, OutboxEntry, OutboxPurge, OutboxRelayed, new_event
from core.store.engine import make_engine
from core.store.migrate import upgrade
from core.store.tables import DELIVERY_ATTEMPTS, EVENTS, OUTBOX
from core.store.writer import GroupCommitWriter
from tests.harness import create_postgres_database, drop_postgres_database

NOW = 1_800_000_000
DAY = 86_400


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_purges_keep_what_is_pending_and_recent(backend: str, tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path}/r.db" if backend == "sqlite" else create_postgres_database()
    engine = make_engine(url)
    writer = GroupCommitWriter(engine)
    try:
        upgrade(engine)
        writer.start()
        event, entry = new_event("acct_1", True, "wallet.low", {}, NOW - 10 * DAY)
        assert isinstance(entry, OutboxEntry)
        recent = OutboxEntry("obx_recent", entry.event_id, "", NOW - DAY)
        pending = OutboxEntry("obx_pending", entry.event_id, "", NOW - 10 * DAY)
        attempts = [
            DeliveryAttempt(f"wha_{age}", "we_1", entry.event_id, "wallet.low", 1, NOW - age * DAY, True)
            for age in (1, 29, 31, 60)
        ]
        await writer.write([event, entry, recent, pending, *attempts])
        await writer.write([OutboxRelayed(entry.id, NOW - 8 * DAY), OutboxRelayed(recent.id, NOW - DAY)])
        await writer.write([OutboxPurge(NOW - 7 * DAY), AttemptPurge(NOW - 30 * DAY)])
        with engine.connect() as connection:
            outbox = sorted(connection.execute(select(OUTBOX.c.id)).scalars())
            kept = sorted(connection.execute(select(DELIVERY_ATTEMPTS.c.id)).scalars())
            events = connection.execute(select(func.count()).select_from(EVENTS)).scalar_one()
        assert outbox == ["obx_pending", "obx_recent"]
        assert kept == ["wha_1", "wha_29"]
        assert events == 1
    finally:
        await writer.close()
        engine.dispose()
        if backend == "postgres":
            drop_postgres_database(url)
