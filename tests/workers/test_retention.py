"""The retention purge (issue 27, item 3): the `ringside-retention` schedule's workflow asks a real
core to purge what outlived its setting — old events and idempotency keys go, recent ones stay —
and the schedule is kept by the worker like the others."""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from datetime import timedelta

from temporalio.client import ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from ringside_server.core_client import CoreClient
from ringside_server.settings import Settings
from tests.workers.test_ledger_audit import CoreProcess, core, core_process  # noqa: F401 (fixtures)
from workers.retention.activities import RetentionActivities
from workers.retention.shared import SCHEDULE_ID, WORKFLOW_NAME, PurgeInput, PurgeResult
from workers.retention.workflows import RetentionPurgeWorkflow
from workers.worker import ensure_schedules, schedules

DAY = 86_400


def _rows(process: CoreProcess, sql: str, *params: object) -> list[tuple[object, ...]]:
    database = sqlite3.connect(process.data_dir / "ringside.db", timeout=30)
    with contextlib.closing(database), database:
        found = database.execute(sql, params).fetchall()
    return found


async def test_the_purge_workflow_drops_what_outlived_its_setting(
    temporal: WorkflowEnvironment,
    core: CoreClient,  # noqa: F811
    core_process: CoreProcess,  # noqa: F811
) -> None:
    now = int(time.time())
    for event_id, age_days in (("evt_retention_old", 40), ("evt_retention_recent", 10)):
        _rows(
            core_process,
            "INSERT INTO events (id, account_id, livemode, type, customer_id, trigger_key, body, created) "
            "VALUES (?, 'acct_r', 1, 'wallet.low', NULL, '', '{}', ?)",
            event_id,
            now - age_days * DAY,
        )
    for key, age_s in (("old-key", 3 * DAY), ("recent-key", 3600)):
        _rows(
            core_process,
            "INSERT INTO idempotency_keys (account_id, livemode, route, key, request_hash, status, body, created) "
            "VALUES ('acct_r', 1, 'POST /v1/customers', ?, 'h', 200, x'7b7d', ?)",
            key,
            now - age_s,
        )
    task_queue = f"retention-{uuid.uuid4()}"
    async with Worker(
        temporal.client,
        task_queue=task_queue,
        workflows=[RetentionPurgeWorkflow],
        activities=[RetentionActivities(core).purge_expired],
    ):
        result = await temporal.client.execute_workflow(
            RetentionPurgeWorkflow.run, PurgeInput(reason="test"), id=f"purge-{uuid.uuid4()}", task_queue=task_queue
        )
    assert isinstance(result, PurgeResult)
    assert abs(result.events_before - (now - 35 * DAY)) < 60  # the defaults
    assert abs(result.idempotency_keys_before - (now - 48 * 3600)) < 60
    events = {row[0] for row in _rows(core_process, "SELECT id FROM events WHERE account_id = 'acct_r'")}
    keys = {row[0] for row in _rows(core_process, "SELECT key FROM idempotency_keys WHERE account_id = 'acct_r'")}
    assert events == {"evt_retention_recent"} and keys == {"recent-key"}


async def test_the_worker_keeps_the_retention_schedule(temporal: WorkflowEnvironment) -> None:
    client = temporal.client
    await ensure_schedules(client, Settings())
    try:
        description = await client.get_schedule_handle(SCHEDULE_ID).describe()
        action = description.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == WORKFLOW_NAME
        assert [interval.every for interval in description.schedule.spec.intervals] == [timedelta(hours=1)]
    finally:
        for schedule_id in schedules(Settings()):
            await client.get_schedule_handle(schedule_id).delete()
