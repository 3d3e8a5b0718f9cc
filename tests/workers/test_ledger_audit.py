"""The ledger audit on a real Temporal dev server against a real core process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from ringside.core.v1 import common_pb2, metering_pb2, system_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.settings import Settings
from tests.harness import free_port
from workers.audit.activities import AuditActivities
from workers.audit.shared import SCHEDULE_ID, TASK_QUEUE, WORKFLOW_NAME, AuditInput, AuditResult
from workers.audit.workflows import LedgerAuditWorkflow
from workers.worker import ensure_schedules, schedules

READY_DEADLINE_S = 30.0
AUDIT_DEADLINE_S = 30.0
STOP_DEADLINE_S = 30.0
POLL_EVERY_S = 0.2
MODEL_PRICE = common_pb2.Price(input_nano_usd_per_mtok=150_000_000, output_nano_usd_per_mtok=600_000_000)


@dataclass
class CoreProcess:
    """`python -m ringside core` on its own data dir and port, in its own process group."""

    process: subprocess.Popen[bytes]
    data_dir: Path
    address: str
    internal_token: str
    log_path: Path

    @classmethod
    def start(cls, work: Path) -> CoreProcess:
        port = free_port()
        token = "rsint_test_" + secrets.token_urlsafe(16)
        env = {name: value for name, value in os.environ.items() if not name.startswith("RINGSIDE_")}
        env.update(
            {
                "RINGSIDE_DATA_DIR": str(work / "data"),
                "RINGSIDE_BIND_HOST": "127.0.0.1",
                "RINGSIDE_GRPC_PORT": str(port),
                "RINGSIDE_INTERNAL_TOKEN": token,
            }
        )
        log_path = work / "core.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "ringside_cli", "core"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return cls(process, work / "data", f"127.0.0.1:{port}", token, log_path)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    async def connect(self) -> CoreClient:
        """A client, once the core answers an internal call (which also proves the token)."""
        client = CoreClient(self.address, self.internal_token)
        deadline = time.monotonic() + READY_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                await client.close()
                pytest.fail(f"core exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                await client.internal(client.system.GetStatus, system_pb2.GetStatusRequest(), timeout_s=1.0)
                return client
            except RingsideError:
                await asyncio.sleep(POLL_EVERY_S)
        await client.close()
        pytest.fail(f"core not answering within {READY_DEADLINE_S:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL of the whole group if it lingers: nothing outlives the test."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_DEADLINE_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_DEADLINE_S)


@pytest.fixture(scope="module")
def core_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoreProcess]:
    process = CoreProcess.start(tmp_path_factory.mktemp("core"))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def core(core_process: CoreProcess) -> AsyncIterator[CoreClient]:
    client = await core_process.connect()
    try:
        yield client
    finally:
        await client.close()


async def meter_one_call(core: CoreClient, data_dir: Path) -> None:
    """What the edge does for one call of the test key: hold, then settle the actual usage."""
    test_key = json.loads((data_dir / "credentials.json").read_text())["test_api_key"]
    decision = await core.authorize(
        metering_pb2.AuthorizeRequest(
            api_key=test_key,
            model_ref="fc:openai/gpt-4o-mini",
            provider="openai",
            price=MODEL_PRICE,
            input_tokens_bound=100,
            model_max_output_tokens=1000,
        )
    )
    assert decision.allowed, decision.denial
    settled = await core.settle(
        metering_pb2.SettleRequest(
            request_id=decision.request_id,
            usage=common_pb2.TokenCounts(input_tokens=10, output_tokens=20),
            outcome=metering_pb2.SETTLE_OUTCOME_COMPLETED,
        )
    )
    assert settled.posted_nano_usd > 0


async def run_audit(client: Client, core: CoreClient) -> AuditResult:
    """Run one audit on a fresh task queue. A failing activity is retried for a long while by
    design; here its first failure ends the test with the activity's own message."""
    task_queue = f"audit-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[LedgerAuditWorkflow],
        activities=[AuditActivities(core).verify_ledger],
    ):
        handle = await client.start_workflow(
            LedgerAuditWorkflow.run, AuditInput(reason="test"), id=f"audit-{uuid.uuid4()}", task_queue=task_queue
        )
        return await _result_or_first_activity_failure(handle)


async def _result_or_first_activity_failure(handle: WorkflowHandle[LedgerAuditWorkflow, AuditResult]) -> AuditResult:
    result = asyncio.ensure_future(handle.result())
    deadline = time.monotonic() + AUDIT_DEADLINE_S
    try:
        while time.monotonic() < deadline:
            done, _ = await asyncio.wait({result}, timeout=POLL_EVERY_S)
            if done:
                return result.result()
            description = await handle.describe()
            for pending in description.raw_description.pending_activities:
                if pending.HasField("last_failure"):
                    await handle.terminate("test: the audit activity failed")
                    pytest.fail(f"activity {pending.activity_type.name} failed: {pending.last_failure.message}")
        await handle.terminate("test: deadline")
        pytest.fail(f"the audit did not finish within {AUDIT_DEADLINE_S:.0f} s")
    finally:
        result.cancel()


async def test_audit_of_a_metered_ledger_is_balanced(
    temporal: WorkflowEnvironment, core: CoreClient, core_process: CoreProcess
) -> None:
    await meter_one_call(core, core_process.data_dir)

    result = await run_audit(temporal.client, core)

    assert result.ok, result
    assert result.imbalance_nano_usd == 0
    assert result.transfer_count >= 2  # at least the hold and its posting
    assert result.usage_ledger_mismatches == 0
    assert result.ledger_totals_mismatches == 0
    assert result.overposted_holds == 0
    assert result.multiply_resolved_holds == 0
    assert result.open_holds == 0  # the call was settled


@pytest.fixture(scope="module")
async def broken_core(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[CoreProcess, CoreClient]]:
    """A core whose ledger holds a transfer with the same account on both sides."""
    process = CoreProcess.start(tmp_path_factory.mktemp("broken-core"))
    try:
        client = await process.connect()
        try:
            with sqlite3.connect(process.data_dir / "ringside.db") as database:
                database.execute(
                    "INSERT INTO transfers (id, account_id, livemode, debit, credit, amount_nano, kind, request_id,"
                    " pending_id, period_start, created) VALUES ('tr_broken', 'acct_x', 0, 'acct_x:test:revenue',"
                    " 'acct_x:test:revenue', 0, 'post', 'req_broken', NULL, 0, 0)"
                )
            database.close()
            yield process, client
        finally:
            await client.close()
    finally:
        process.stop()


async def test_a_broken_invariant_fails_the_audit_and_is_named(
    temporal: WorkflowEnvironment, broken_core: tuple[CoreProcess, CoreClient]
) -> None:
    with pytest.raises(WorkflowFailureError) as raised:
        await run_audit(temporal.client, broken_core[1])

    failure = raised.value.cause
    assert isinstance(failure, ApplicationError), failure
    assert failure.type == "LedgerInvariantBroken"
    assert failure.non_retryable
    assert failure.details[0]["ok"] is False
    assert failure.details[0]["invalid_transfers"] == 1


async def test_ensure_schedules_is_idempotent(temporal: WorkflowEnvironment) -> None:
    client = temporal.client
    await ensure_schedules(client, Settings())
    handle = client.get_schedule_handle(SCHEDULE_ID)
    try:
        await ensure_schedules(client, Settings())  # a second worker start must neither fail nor duplicate it

        description = await handle.describe()
        action = description.schedule.action
        assert description.id == SCHEDULE_ID
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == WORKFLOW_NAME
        assert action.task_queue == TASK_QUEUE
        assert [interval.every for interval in description.schedule.spec.intervals] == [timedelta(hours=1)]
    finally:
        for schedule_id in schedules(Settings()):
            await client.get_schedule_handle(schedule_id).delete()
