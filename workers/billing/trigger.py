"""`ringside billing rollover|sync`: run a billing schedule's action now (as "Trigger" in the UI)."""

from __future__ import annotations

import sys

from temporalio.service import RPCError

from ringside_server.settings import Settings
from ringside_server.temporal_connection import TemporalConnection
from workers.billing.shared import ROLLOVER_SCHEDULE_ID, SYNC_SCHEDULE_ID

SCHEDULES = {"rollover": ROLLOVER_SCHEDULE_ID, "sync": SYNC_SCHEDULE_ID}


async def trigger(settings: Settings, which: str) -> int:
    schedule_id = SCHEDULES[which]
    try:
        client = await TemporalConnection.from_settings(settings).connect()
        await client.get_schedule_handle(schedule_id).trigger()
    except (RuntimeError, RPCError) as error:
        print(
            f"could not trigger {schedule_id}: {error} (is the worker running? it creates the schedule)",
            file=sys.stderr,
        )
        return 1
    print(f"triggered {schedule_id}: see its runs in the Temporal UI, or GET /v1/billing/stripe/syncs")
    return 0
