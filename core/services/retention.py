"""The core's side of retention: purge, in one commit, every kind that has outlived its setting
(core/domain/retention.py). The worker's `ringside-retention` schedule calls it."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.assistants import AssistantObjectPurge
from core.domain.responses import StoredResponsePurge
from core.domain.retention import EventPurge, IdempotencyPurge, StoreQueryPurge
from core.domain.webhooks import AttemptPurge, OutboxPurge
from core.services.core import Core


@dataclass(frozen=True, slots=True)
class PurgedBefore:
    """What was purged: everything of each kind created (relayed, for the outbox) before these times."""

    events: int
    delivery_attempts: int
    outbox: int
    idempotency_keys: int
    responses: int


async def purge(core: Core) -> PurgedBefore:
    now, kept = core.now(), core.retention
    before = PurgedBefore(
        events=now - kept.events_s,
        delivery_attempts=now - kept.delivery_attempts_s,
        outbox=now - kept.outbox_s,
        idempotency_keys=now - kept.idempotency_keys_s,
        responses=now - kept.responses_s,
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
    return before
