"""Workflow families on their own task queues (issue 25): a worker started for some families polls
only their queues, the schedules start each family's workflows on its queue, and the Temporal
connection settings (TLS, mTLS, API key) build what temporalio is given."""

from __future__ import annotations

import asyncio
import pathlib
import time

import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from ringside_server.core_client import CoreClient
from ringside_server.netpolicy import AddressPolicy
from ringside_server.observability.metrics import WorkerMetrics
from ringside_server.settings import Settings
from ringside_server.temporal_connection import TemporalConnection
from tests.harness import free_port
from workers import task_queues
from workers.webhooks.http import delivery_session
from workers.worker import family_workers, schedules

POLLERS_DEADLINE_S = 30.0


async def pollers(client: Client, queue: str) -> int:
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    return len((await client.workflow_service.describe_task_queue(request)).pollers)


async def test_a_worker_for_one_family_polls_only_its_queue(temporal: WorkflowEnvironment) -> None:
    settings = Settings()
    # No call reaches this core: the test watches who polls which queue, not what runs.
    core = CoreClient(f"127.0.0.1:{free_port()}", "rsint_" + "x" * 16)
    session = delivery_session(AddressPolicy.parse(""))
    workers = family_workers(temporal.client, ["billing"], core, settings, session, WorkerMetrics.create())
    try:
        async with workers[0]:
            deadline = time.monotonic() + POLLERS_DEADLINE_S
            while not await pollers(temporal.client, task_queues.BILLING):
                assert time.monotonic() < deadline, "no worker polled the billing queue"
                await asyncio.sleep(0.1)
            assert await pollers(temporal.client, task_queues.MAINTENANCE) == 0
            assert await pollers(temporal.client, task_queues.WEBHOOKS) == 0
    finally:
        await session.close()
        await core.close()


def test_schedules_start_each_family_on_its_queue() -> None:
    queues = {}
    for schedule_id, schedule in schedules(Settings()).items():
        assert isinstance(schedule.action, ScheduleActionStartWorkflow)
        queues[schedule_id] = schedule.action.task_queue
    assert queues == {
        "ringside-ledger-audit": task_queues.MAINTENANCE,
        "ringside-retention": task_queues.MAINTENANCE,
        "ringside-billing-rollover": task_queues.BILLING,
        "ringside-stripe-usage-sync": task_queues.BILLING,
    }


def test_worker_families_are_checked() -> None:
    assert task_queues.worker_families(" billing ,webhooks,billing") == ["billing", "webhooks"]
    for wrong in ("", "billing,ingest", ","):
        with pytest.raises(ValueError, match="RINGSIDE_WORKER_FAMILIES"):
            task_queues.worker_families(wrong)


def test_the_dev_server_is_plain_text_and_a_cluster_gets_tls(tmp_path: pathlib.Path) -> None:
    assert TemporalConnection.from_settings(Settings()).tls_config() is False
    # Temporal Cloud: an API key alone means TLS on the system's roots.
    cloud = Settings(temporal_address="ns.acct.tmprl.cloud:7233", temporal_api_key="key-" + "k" * 20)
    assert TemporalConnection.from_settings(cloud).tls_config() is True
    assert "key-" not in repr(TemporalConnection.from_settings(cloud))
    # Self-hosted with mTLS: the files are read and handed over as they are.
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    for name, path in files.items():
        path.write_bytes(f"-----{name}-----".encode())
    mtls = Settings(
        temporal_address="temporal.internal:7233",
        temporal_tls_ca_file=files["ca"],
        temporal_tls_cert_file=files["cert"],
        temporal_tls_key_file=files["key"],
        temporal_tls_server_name="temporal-frontend",
    )
    config = TemporalConnection.from_settings(mtls).tls_config()
    assert isinstance(config, TLSConfig)
    assert (config.server_root_ca_cert, config.client_cert, config.client_private_key, config.domain) == (
        b"-----ca-----",
        b"-----cert-----",
        b"-----key-----",
        "temporal-frontend",
    )
    half = Settings(temporal_tls_cert_file=files["cert"])
    with pytest.raises(ValueError, match="go together"):
        TemporalConnection.from_settings(half).tls_config()


async def test_the_connection_reaches_a_plain_server_and_tls_is_really_used(temporal: WorkflowEnvironment) -> None:
    address = temporal.client.service_client.config.target_host
    plain = TemporalConnection(address=address, namespace=temporal.client.namespace)
    client = await plain.connect()
    assert await client.service_client.check_health()
    # The dev server speaks no TLS: a TLS connection to it must fail, so the setting is not ignored.
    with pytest.raises(RuntimeError):
        await TemporalConnection(address=address, tls=True).connect()
