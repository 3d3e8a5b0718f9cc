"""A Ringside stack with webhooks for real: a Temporal dev server, core + edge, the worker (with its
outbox relay) as its own process, and a receiver on loopback (allowed by the stack's setting)."""

from __future__ import annotations

import contextlib
import pathlib
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import psycopg

from tests.harness import (
    START_TIMEOUT_S,
    Response,
    Stack,
    free_port,
    port_open,
    start_process,
    stop_process,
    wait_until,
)
from tests.workers.webhook_receiver import Receiver

TEMPORAL_CLI = pathlib.Path(sys.executable).parent / "temporal"
DELIVERY_DEADLINE_S = 30.0
MODEL = "fc:openai/gpt-4o-mini"


@dataclass
class WebhookStack:
    stack: Stack
    receiver: Receiver
    temporal: subprocess.Popen[bytes]
    temporal_port: int
    worker: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, backend: str, work: pathlib.Path, extra_env: dict[str, str] | None = None) -> WebhookStack:
        temporal_port = free_port()
        temporal = start_process(
            [
                str(TEMPORAL_CLI),
                "server",
                "start-dev",
                "--headless",
                "--ip",
                "127.0.0.1",
                "--port",
                str(temporal_port),
                "--log-level",
                "warn",
            ],
            {},
            work / "temporal.log",
        )
        wait_until(lambda: port_open(temporal_port), START_TIMEOUT_S, "the Temporal dev server")
        extra = {
            "RINGSIDE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "RINGSIDE_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
            "RINGSIDE_WEBHOOK_RELAY_WAIT_MS": "500",
            **(extra_env or {}),
        }
        stack = Stack(backend, work / "stack", None, extra_env=extra).start()
        running = cls(stack, Receiver.start(), temporal, temporal_port)
        running.start_worker()
        return running

    def start_worker(self) -> None:
        self.worker = start_process(
            [sys.executable, "-m", "ringside_cli", "worker"], self.stack.env, self.stack.data_dir / "worker.log"
        )

    def stop_worker(self) -> None:
        stop_process(self.worker)
        self.worker = None

    def kill_core(self) -> None:
        assert self.stack.core is not None
        self.stack.core.send_signal(signal.SIGKILL)
        self.stack.core.wait()

    def restart_core(self) -> None:
        self.stack.core = start_process(
            [sys.executable, "-m", "ringside_cli", "core"], self.stack.env, self.stack.data_dir / "core.log"
        )
        wait_until(lambda: port_open(self.stack.grpc_port), START_TIMEOUT_S, "the core to restart")

    def execute(self, sql: str, *params: Any) -> None:
        """Change the core's database behind its back (tests only), committed."""
        if self.stack.backend == "postgres":
            with psycopg.connect(self.stack.database_url) as connection:
                connection.execute(sql.replace("?", "%s"), params)
            return
        with contextlib.closing(sqlite3.connect(self.stack.data_dir / "ringside.db", timeout=30)) as connection:
            connection.execute(sql, params)
            connection.commit()

    def destroy(self) -> None:
        self.stop_worker()
        self.stack.destroy()
        stop_process(self.temporal)
        self.receiver.stop()

    def endpoint(self, key: str, events: list[str]) -> dict[str, Any]:
        created = self.stack.call("POST", "/v1/webhooks", key, {"url": self.receiver.url, "events": events})
        assert created.status == 201, created.body
        return dict(created.json())

    def customer(self, key: str, **fields: Any) -> dict[str, Any]:
        created = self.stack.call("POST", "/v1/customers", key, fields)
        assert created.status in (200, 201), created.body
        return dict(created.json())

    def chat(self, key: str, customer_id: str, max_tokens: int = 10) -> Response:
        return self.stack.call(
            "POST",
            "/v1/chat/completions",
            key,
            {"model": MODEL, "max_tokens": max_tokens, "messages": [{"role": "user", "content": "hello there"}]},
            headers={"FC-Customer": customer_id},
        )

    def wait_for(self, count: int, event_type: str, customer_id: str | None = None) -> list[Any]:
        return list(
            wait_until(
                lambda: (found := self.receiver.events(event_type, customer_id)) and len(found) >= count and found,
                DELIVERY_DEADLINE_S,
                f"{count} {event_type} deliveries",
            )
        )
