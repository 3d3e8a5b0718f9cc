"""The core's side of retention: purge, in one commit, every kind that has outlived its setting
(core/domain/retention.py). The worker's `ringside-retention` schedule calls it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from core.domain.assistants import AssistantObjectPurge
from core.domain.responses import StoredResponsePurge
from core.domain.retention import (
    DAY_S,
    EventPurge,
    IdempotencyPurge,
    RequestLogPurge,
    StoreQueryPurge,
    UnattributedUsagePurge,
    UsagePurge,
)
from core.domain.webhooks import AttemptPurge, OutboxPurge
from core.services.core import Core
from core.store import retention as store

# Customers whose old usage records one commit deletes: a bounded commit, so the first purge after
# an upgrade (years of records) does not hold the group commit for long.
USAGE_PURGE_BATCH = 200
# After its first purge a core looks this many days before the cutoff for customers with records
# left: the hourly schedule may have been paused, the worker down, for up to a month.
USAGE_PURGE_WINDOW_DAYS = 31


@dataclass(frozen=True, slots=True)
class PurgedBefore:
    """What was purged: everything of each kind created (relayed, for the outbox) before these times."""

    events: int
    delivery_attempts: int
    outbox: int
    idempotency_keys: int
    responses: int
    requests: int = 0


async def purge(core: Core) -> PurgedBefore:
    now, kept = core.now(), core.retention
    before = PurgedBefore(
        events=now - kept.events_s,
        delivery_attempts=now - kept.delivery_attempts_s,
        outbox=now - kept.outbox_s,
        idempotency_keys=now - kept.idempotency_keys_s,
        responses=now - kept.responses_s,
        requests=(now - kept.requests_s) // DAY_S * DAY_S,
    )
    await core.writer.write(
        [
            OutboxPurge(before.outbox),
            AttemptPurge(before.delivery_attempts),
            EventPurge(before.events),
            IdempotencyPurge(before.idempotency_keys),
            StoredResponsePurge(before.responses),
            AssistantObjectPurge(now - kept.assistants_s),
            StoreQueryPurge(now - kept.rag_queries_s),
        ]
    )
    await purge_requests(core, before.requests)
    return before


async def purge_requests(core: Core, before: int) -> None:
    """Delete usage records and request log rows created before `before` (a UTC midnight): the usage
    records' sums stay in the daily aggregates, written with them, so /v1/usage totals stay as
    they were. One commit per USAGE_PURGE_BATCH customers."""
    before_day = before // DAY_S
    since_day = 0 if core.usage_purged_before_day is None else core.usage_purged_before_day - USAGE_PURGE_WINDOW_DAYS

    def read() -> tuple[list[tuple[str, bool, str]], list[str]]:
        with core.engine.connect() as connection:
            return store.usage_to_purge(connection, since_day, before_day), store.accounts(connection)

    customers, accounts = await asyncio.get_running_loop().run_in_executor(None, read)
    purges: list[object] = [
        UsagePurge(account, livemode, customer, before)
        if customer
        else UnattributedUsagePurge(account, livemode, before)
        for account, livemode, customer in customers
    ]
    purges += [RequestLogPurge(account, livemode, before) for account in accounts for livemode in (True, False)]
    for start in range(0, len(purges), USAGE_PURGE_BATCH):
        await core.writer.write(purges[start : start + USAGE_PURGE_BATCH])
    core.usage_purged_before_day = before_day
