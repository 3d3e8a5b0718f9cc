"""The stack the Assistants e2e tests run (tests/e2e/test_assistants*.py): the ingest stack
(Temporal, core, rag role, edge) plus the worker that runs the runs, and what those tests share:
the model, an SDK per customer, the upstream bodies a run sent, a stream's event handler."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.lib.streaming import AssistantEventHandler
from openai.types.beta import AssistantStreamEvent
from openai.types.beta.threads.runs import RunStep, ToolCall

from tests.e2e.rag_ingest_stack import ingest_stack
from tests.harness import FakeUpstream, Stack, start_process, stop_process

MODEL = "fc:openai/gpt-4o-mini"
HANDBOOK = b"# Holidays\n\nAsk for time off two weeks ahead in the HR portal. Unused days carry over.\n"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class Running:
    """The ingest stack (Temporal, core, rag role, edge) plus the worker that runs the runs."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.worker: subprocess.Popen[bytes] | None = None

    def start_worker(self) -> None:
        self.worker = start_process(
            [sys.executable, "-m", "ringside_cli", "worker"], self.stack.env, self.stack.data_dir / "worker.log"
        )

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait()


def running_assistants(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Running]:
    """The stack and worker of the session's `running` fixture (tests/e2e/conftest.py), on SQLite."""
    env = {"OPENAI_BASE_URL": upstream.base_url, "OPENAI_API_KEY": upstream.api_key}
    with ingest_stack("sqlite", tmp_path_factory.mktemp("assistants"), env) as stack:
        both = Running(stack)
        both.start_worker()
        try:
            yield both
        finally:
            stop_process(both.worker)


def sdk_for(stack: Stack, key: str, customer: str | None = None) -> openai.OpenAI:
    headers = {"FC-Customer": customer} if customer else {}
    return openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key, max_retries=0, default_headers=headers)


def new_customer(stack: Stack, key: str, name: str) -> str:
    return str(stack.call("POST", "/v1/customers", key, {"external_id": name}).json()["id"])


def sent_bodies(upstream: FakeUpstream, marker: str) -> list[dict[str, Any]]:
    return [r["body"] for r in upstream.requests() if marker in json.dumps(r["body"]) and "messages" in r["body"]]


class Events(AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.steps: list[tuple[str, str, str]] = []  # (callback, step type, status)
        self.tool_calls: list[str] = []

    def on_event(self, event: AssistantStreamEvent) -> None:
        self.seen.append(event.event)

    def on_run_step_created(self, run_step: RunStep) -> None:
        self.steps.append(("created", run_step.type, run_step.status))

    def on_run_step_done(self, run_step: RunStep) -> None:
        self.steps.append(("done", run_step.type, run_step.status))

    def on_tool_call_created(self, tool_call: ToolCall) -> None:
        self.tool_calls.append(tool_call.type)
