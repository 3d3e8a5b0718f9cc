"""`ringside up` as a user runs it: one command, every role, the quickstart with the test key, a
clean stop on SIGTERM, and a restart that keeps the account."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

from tests.harness import free_port, wait_until

# A bound only (the wait ends at the first 200): `ringside up` starts five roles one after another, which
# took over 30 s on a loaded 2-core machine (two suite processes, tests/harness.py START_TIMEOUT_S).
HEALTHY_DEADLINE_S = 120.0
STOP_DEADLINE_S = 30.0
CLI_DEADLINE_S = 30.0
POLL_EVERY_S = 0.2
PORT_ATTEMPTS = 50
TEMPORAL_UI_OFFSET = 1000  # `ringside up` puts the Temporal UI on the Temporal port + 1000
MODEL = "fc:openai/gpt-4o-mini"
MESSAGES: list[Any] = [{"role": "user", "content": "Say hello."}]


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_temporal_port() -> int:
    """A port P with P + 1000 free too (Temporal's frontend and its UI)."""
    for _ in range(PORT_ATTEMPTS):
        port = free_port()
        if port + TEMPORAL_UI_OFFSET <= 65535 and _port_is_free(port + TEMPORAL_UI_OFFSET):
            return port
    raise RuntimeError(f"no free port P with P+{TEMPORAL_UI_OFFSET} free after {PORT_ATTEMPTS} tries")


def up_env(data_dir: Path, http_port: int, grpc_port: int, temporal_port: int, rag_port: int = 0) -> dict[str, str]:
    """The caller's environment minus provider keys and any Ringside setting, plus this run's."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("RINGSIDE_") and name not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")
    }
    env.update(
        {
            "RINGSIDE_DATA_DIR": str(data_dir),
            "RINGSIDE_BIND_HOST": "127.0.0.1",
            "RINGSIDE_HTTP_PORT": str(http_port),
            "RINGSIDE_GRPC_PORT": str(grpc_port),
            "RINGSIDE_TEMPORAL_PORT": str(temporal_port),
            "RINGSIDE_RAG_PORT": str(rag_port or free_port()),
        }
    )
    return env


def _alive(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _descendants(root: int) -> list[int]:
    """Live (non-zombie) descendants of a process (each role runs in a process group of its own)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ")".
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


@dataclass
class Up:
    """One `ringside up`, leader of its own process group."""

    process: subprocess.Popen[bytes]
    env: dict[str, str]
    data_dir: Path
    http_port: int
    log_path: Path

    @classmethod
    def start(
        cls,
        data_dir: Path,
        log_path: Path,
        ports: tuple[int, int, int, int] | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> Up:
        http_port, grpc_port, temporal_port, rag_port = ports or (
            free_port(),
            free_port(),
            free_temporal_port(),
            free_port(),
        )
        env = {**up_env(data_dir, http_port, grpc_port, temporal_port, rag_port), **(extra_env or {})}
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "ringside_cli", "up"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return cls(process, env, data_dir, http_port, log_path)

    @property
    def ports(self) -> tuple[int, int, int, int]:
        return (
            self.http_port,
            int(self.env["RINGSIDE_GRPC_PORT"]),
            int(self.env["RINGSIDE_TEMPORAL_PORT"]),
            int(self.env["RINGSIDE_RAG_PORT"]),
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_healthy(self) -> dict[str, Any]:
        deadline = time.monotonic() + HEALTHY_DEADLINE_S
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"ringside up exited with {self.process.returncode}:\n{self.log_tail()}")
            status, body = http("GET", f"{self.base_url}/healthz")
            if status == 200:
                return body
            last = f"{status} {body}"
            time.sleep(POLL_EVERY_S)
        pytest.fail(f"/healthz not 200 within {HEALTHY_DEADLINE_S:.0f} s (last: {last}):\n{self.log_tail()}")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """SIGTERM the leader, as a service manager would (SIGINT: a terminal's Ctrl-C); its exit code."""
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"ringside up still running {STOP_DEADLINE_S:.0f} s after SIGTERM:\n{self.log_tail()}")

    def kill(self) -> None:
        """Teardown: nothing of this run may outlive the test, whatever happened."""
        for pid in [*_descendants(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_DEADLINE_S)


def http(method: str, url: str, body: dict[str, Any] | None = None, api_key: str | None = None) -> tuple[int, Any]:
    """(status, parsed JSON) of one request; (0, reason) when nothing answered."""
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        return 0, str(error)


def credentials(data_dir: Path) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((data_dir / "credentials.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    work = tmp_path_factory.mktemp("ringside-up")
    running = Up.start(work / "data", work / "up.log")
    try:
        running.wait_healthy()
        yield running
    finally:
        running.kill()


def test_healthz_reports_every_role_ready(up: Up) -> None:
    status, body = http("GET", f"{up.base_url}/healthz")

    assert status == 200, body
    assert body["status"] == "ok"
    assert body["roles"] == {"core": "ready", "edge": "ready", "worker": "ready", "rag": "ready"}
    assert body["waiting_for"] == []


def test_first_start_says_where_the_keys_are_without_printing_them(up: Up) -> None:
    printed = up.log_path.read_text()
    saved = credentials(up.data_dir)
    assert saved["api_key"] not in printed and saved["test_api_key"] not in printed
    assert "sk_live_" not in printed and "sk_test_" not in printed
    assert f"saved in {(up.data_dir / 'credentials.json').resolve()}" in printed


def test_the_banner_names_the_temporal_ui_and_the_ui_answers(up: Up) -> None:
    ui_port = int(up.env["RINGSIDE_TEMPORAL_PORT"]) + TEMPORAL_UI_OFFSET
    assert f"Temporal UI: http://127.0.0.1:{ui_port}" in up.log_path.read_text()
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/", timeout=5) as page:
        assert page.status == 200
    assert (up.data_dir / "logs" / "temporal.log").stat().st_size > 0  # Temporal speaks to its log only


def test_credentials_file_is_private_and_complete(up: Up) -> None:
    path = up.data_dir / "credentials.json"

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = credentials(up.data_dir)
    assert saved["api_key"].startswith("sk_live_")
    assert saved["test_api_key"].startswith("sk_test_")
    assert saved["account_id"].startswith("acct_")


def test_quickstart_with_the_test_key_meters_the_customer(up: Up) -> None:
    test_key = credentials(up.data_dir)["test_api_key"]

    status, customer = http(
        "POST", f"{up.base_url}/v1/customers", {"external_id": "user_42", "budget_usd": 25}, api_key=test_key
    )
    assert status == 201, customer
    assert customer["external_id"] == "user_42"

    client = OpenAI(base_url=f"{up.base_url}/v1", api_key=test_key, max_retries=0)
    try:
        completion = client.chat.completions.create(
            model=MODEL, messages=MESSAGES, extra_headers={"FC-Customer": "ext:user_42"}
        )
    finally:
        client.close()
    assert completion.choices[0].message.content
    assert completion.usage is not None
    assert completion.usage.total_tokens > 0

    # Calls are reported to the core in batches right after they answer (the lease path): poll.
    def recorded() -> dict[str, Any] | None:
        status, current = http("GET", f"{up.base_url}/v1/customers/ext:user_42", api_key=test_key)
        assert status == 200, current
        return current if current["request_count_mtd"] >= 1 else None

    metered = wait_until(recorded, 10, "the call to be recorded")
    assert metered["id"] == customer["id"]
    assert metered["spend_usd_mtd"] > 0
    assert metered["request_count_mtd"] == 1


def test_live_key_without_a_provider_is_503_model_unavailable(up: Up) -> None:
    client = OpenAI(base_url=f"{up.base_url}/v1", api_key=credentials(up.data_dir)["api_key"], max_retries=0)
    try:
        with pytest.raises(openai.APIStatusError) as raised:
            client.chat.completions.create(model=MODEL, messages=MESSAGES)
    finally:
        client.close()

    assert raised.value.status_code == 503
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["code"] == "model_unavailable"


def test_the_local_embedding_model_answers_the_test_key_offline(up: Up) -> None:
    """The rag role `ringside up` started serves fc:local/all-minilm-l6-v2: the real model (384
    dimensions), not the test model (16), with no provider configured."""
    client = OpenAI(base_url=f"{up.base_url}/v1", api_key=credentials(up.data_dir)["test_api_key"], max_retries=0)
    try:
        answer = client.embeddings.create(model="fc:local/all-minilm-l6-v2", input=["refund policy", "return rules"])
    finally:
        client.close()

    assert [len(item.embedding) for item in answer.data] == [384, 384]
    assert answer.usage.prompt_tokens > 0


def test_status_lists_the_rag_role(up: Up) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ringside_cli", "status", "--json"],
        env=up.env,
        capture_output=True,
        timeout=CLI_DEADLINE_S,
        check=False,
    )

    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert json.loads(result.stdout.decode())["roles"]["rag"] == "ready"


def test_cli_creates_a_customer_with_the_saved_test_key(up: Up) -> None:
    """`ringside customers create` acts as the key `ringside up` saved, the test key by default."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ringside_cli",
            "customers",
            "create",
            "--external-id",
            "x",
            "--budget-usd",
            "3",
            "--json",
        ],
        env=up.env,
        capture_output=True,
        timeout=CLI_DEADLINE_S,
        check=False,
    )

    assert result.returncode == 0, result.stderr.decode(errors="replace")
    printed = json.loads(result.stdout.decode())
    assert printed["object"] == "customer" and printed["id"].startswith("cus_")
    assert printed["external_id"] == "x" and printed["livemode"] is False and printed["budget_usd"] == 3


def test_sigterm_stops_every_role_and_a_restart_keeps_the_account(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = Up.start(data_dir, tmp_path / "first.log")
    try:
        first.wait_healthy()
        saved = (data_dir / "credentials.json").read_bytes()
        test_key = json.loads(saved)["test_api_key"]
        status, customer = http("POST", f"{first.base_url}/v1/customers", {"external_id": "kept"}, api_key=test_key)
        assert status == 201, customer
        roles = _descendants(first.process.pid)
        assert len(roles) >= 5, f"expected the five roles under ringside up, found {roles}"

        assert first.stop() == 0, first.log_tail()
        assert not [pid for pid in roles if Path(f"/proc/{pid}").exists() and _alive(pid)], first.log_tail()
    finally:
        first.kill()

    second = Up.start(data_dir, tmp_path / "second.log", ports=first.ports)
    try:
        second.wait_healthy()
        assert (data_dir / "credentials.json").read_bytes() == saved
        assert "Created account" not in second.log_tail()
        status, found = http("GET", f"{second.base_url}/v1/customers/ext:kept", api_key=test_key)
        assert status == 200, found
        assert found["id"] == customer["id"]
        # the edge's request line for that read is written once its answer is sent: wait for it, so
        # that only what the stop itself prints comes after `before`
        deadline = time.monotonic() + 10
        while "GET /v1/customers/" not in second.log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        before = len(second.log_path.read_text())
        assert second.stop(signal.SIGINT) == 0, second.log_tail()  # Ctrl-C
        said = second.log_path.read_text()[before:].splitlines()
        # one line per role, in stop order, and none of the roles' (or Temporal's) shutdown chatter
        assert [line.split()[2] for line in said] == ["edge", "worker", "rag", "core", "temporal"], said
        assert all(line.startswith("ringside up: ") and " stopped in " in line for line in said), said
    finally:
        second.kill()


def test_a_port_already_in_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    http_port, grpc_port, temporal_port = free_port(), free_port(), free_temporal_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", temporal_port))
        squatter.listen()
        result = subprocess.run(
            [sys.executable, "-m", "ringside_cli", "up"],
            env=up_env(tmp_path / "data", http_port, grpc_port, temporal_port),
            capture_output=True,
            text=True,
            timeout=CLI_DEADLINE_S,
        )
    assert result.returncode != 0
    assert "already in use" in result.stderr and str(temporal_port) in result.stderr
    assert not (tmp_path / "data" / "credentials.json").exists()  # no role was started


def test_roles_that_would_share_a_port_are_refused(tmp_path: Path) -> None:
    http_port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "ringside_cli", "up"],
        env=up_env(tmp_path / "data", http_port, free_port(), http_port - TEMPORAL_UI_OFFSET),
        capture_output=True,
        text=True,
        timeout=CLI_DEADLINE_S,
    )
    assert result.returncode != 0
    assert "share a port" in result.stderr and str(http_port) in result.stderr
