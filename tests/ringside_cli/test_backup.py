"""`ringside backup` under load and `ringside restore` into an empty data dir (and empty database):
the restored ledger balances and the customers, keys and usage are there (issue 27, item 5)."""

from __future__ import annotations

import contextlib
import pathlib
import sqlite3
import subprocess
import sys
import threading
from typing import Any

import pytest

from tests.e2e.rag_ingest_stack import start_temporal
from tests.harness import Stack, create_postgres_database, stop_process, wait_until

CHAT = {"model": "fc:openai/gpt-4o-mini", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
THREADS = 4
MAX_CALLS_PER_THREAD = 200  # a bound: the load stops as soon as the backup is taken
CALLS_BEFORE_BACKUP = 20
METERED_TABLES = ("holds", "transfers", "usage_records")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ringside_cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def _load(stack: Stack, stop: threading.Event, statuses: list[int]) -> None:
    for _ in range(MAX_CALLS_PER_THREAD):
        if stop.is_set():
            return
        answer = stack.call("POST", "/v1/chat/completions", stack.test_key, CHAT, headers={"FC-Customer": "ext:saved"})
        statuses.append(answer.status)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_backup_taken_under_load_restores_to_a_balanced_ledger(backend: str, tmp_path: pathlib.Path) -> None:
    source = Stack(backend, tmp_path / "source", None).start()
    restored: Stack | None = None
    try:
        created = source.call("POST", "/v1/customers", source.test_key, {"external_id": "saved", "budget_usd": 50})
        assert created.status == 201, created.body
        hook = {"url": "https://example.com/saved", "events": ["*"]}
        assert source.call("POST", "/v1/webhooks", source.test_key, hook).status == 201
        stop, statuses = threading.Event(), list[int]()
        threads = [threading.Thread(target=_load, args=(source, stop, statuses)) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        try:
            wait_until(lambda: len(statuses) >= CALLS_BEFORE_BACKUP, 60, "calls before the backup")
            taken = _cli(source.env, "backup", str(tmp_path / "backup"))
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert taken.returncode == 0, taken.stdout + taken.stderr
        assert set(statuses) == {200}
        assert (tmp_path / "backup" / "manifest.json").is_file()
        assert oct((tmp_path / "backup" / "credentials.json").stat().st_mode & 0o777) == "0o600"
        assert not (tmp_path / "backup" / "secret_key").exists()  # only with --include-secret-key
        answered_before_backup = len(statuses)
        secret_key = (source.data_dir / "secret_key").read_text().strip()
        sealed = source.query("SELECT secret FROM webhook_endpoints")
        assert all(str(row[0]).startswith("sealed:v1:") for row in sealed)
    finally:
        source.destroy()

    database_url = create_postgres_database() if backend == "postgres" else ""
    # the operator gives the key that seals the stored secrets again, apart from the backup
    restored = Stack(backend, tmp_path / "restored", None, database_url=database_url)
    restored.extra_env["RINGSIDE_SECRET_KEY"] = secret_key
    try:
        done = _cli(restored.env, "restore", str(tmp_path / "backup"))
        assert done.returncode == 0, done.stdout + done.stderr
        again = _cli(restored.env, "restore", str(tmp_path / "backup"))
        assert again.returncode != 0 and "already holds" in again.stderr  # never over a live installation
        restored.start()
        audit = restored.audit()
        assert audit.ok and audit.imbalance_nano_usd == 0, audit
        customer: dict[str, Any] = restored.call("GET", "/v1/customers/ext:saved", restored.test_key).json()
        # every call counted in the backup had been answered by then; calls still in flight were held
        assert 1 <= customer["request_count_mtd"] <= answered_before_backup + THREADS
        answer = restored.call(
            "POST", "/v1/chat/completions", restored.test_key, CHAT, headers={"FC-Customer": "ext:saved"}
        )
        assert answer.status == 200, answer.body
        rotated = restored.call("GET", "/v1/webhooks", restored.test_key).json()["data"][0]["id"]
        assert restored.call("POST", f"/v1/webhooks/{rotated}/rotate_secret", restored.test_key, {}).status == 200
    finally:
        restored.destroy()


def test_a_backup_with_its_secret_key_restores_without_the_key_given_again(tmp_path: pathlib.Path) -> None:
    source = Stack("sqlite", tmp_path / "source", None).start()
    try:
        hook = {"url": "https://example.com/saved", "events": ["*"]}
        assert source.call("POST", "/v1/webhooks", source.test_key, hook).status == 201
        taken = _cli(source.env, "backup", "--include-secret-key", str(tmp_path / "backup"))
        assert taken.returncode == 0, taken.stdout + taken.stderr
        assert oct((tmp_path / "backup" / "secret_key").stat().st_mode & 0o777) == "0o600"
    finally:
        source.destroy()
    restored = Stack("sqlite", tmp_path / "restored", None)
    try:
        assert _cli(restored.env, "restore", str(tmp_path / "backup")).returncode == 0
        restored.start()
        assert restored.call("GET", "/v1/webhooks", restored.test_key).json()["data"]
    finally:
        restored.destroy()


def test_a_restore_refuses_a_tampered_backup(tmp_path: pathlib.Path) -> None:
    source = Stack("sqlite", tmp_path / "source", None).start()
    try:
        assert _cli(source.env, "backup", str(tmp_path / "backup")).returncode == 0
        assert _cli(source.env, "backup", str(tmp_path / "backup")).returncode != 0  # never over another backup
    finally:
        source.destroy()
    with (tmp_path / "backup" / "ringside.db").open("ab") as database:
        database.write(b"\0")
    target = Stack("sqlite", tmp_path / "restored", None)
    refused = _cli(target.env, "restore", str(tmp_path / "backup"))
    assert refused.returncode != 0 and "checksum" in refused.stderr
    assert not (tmp_path / "restored" / "ringside.db").exists()


def _counts(database: pathlib.Path) -> dict[str, int]:
    """The metering rows a call leaves: holds, ledger transfers, usage records."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return {t: connection.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in METERED_TABLES}


def _hits(stack: Stack, store_id: str) -> list[tuple[str, str]]:
    found = stack.call("POST", f"/v1/vector_stores/{store_id}/search", stack.live_key, {"query": "refund delay"})
    assert found.status == 200, found.body
    return [(hit["file_id"], hit["content"][0]["text"]) for hit in found.json()["data"]]


def test_files_and_parses_are_backed_up_and_the_index_rebuilt_unbilled(tmp_path: pathlib.Path) -> None:
    """Uploaded files and cached parses are in the backup; after a restore the rag role rebuilds the
    index from the parses (no hold, no transfer, no usage row), and the search finds the same chunks."""
    temporal, port = start_temporal(tmp_path)  # one dev server for both: Temporal's state is not backed up
    env = {"RINGSIDE_TEMPORAL_ADDRESS": f"127.0.0.1:{port}"}
    source = Stack("sqlite", tmp_path / "source", None, extra_env=dict(env), with_rag=True).start()
    content = b"# Handbook\n\nRefunds take five days.\n"
    try:
        uploaded = source.call(
            "POST",
            "/v1/files",
            source.live_key,
            raw=b"".join(
                [
                    b'--b0undary\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n',
                    b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="handbook.md"\r\n\r\n',
                    content,
                    b"\r\n--b0undary--\r\n",
                ]
            ),
            headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
        )
        assert uploaded.status == 200, uploaded.body
        file_id = uploaded.json()["id"]
        store_id = source.call("POST", "/v1/vector_stores", source.live_key, {"name": "handbook"}).json()["id"]
        attached = source.call("POST", f"/v1/vector_stores/{store_id}/files", source.live_key, {"file_id": file_id})
        assert attached.status == 200, attached.body
        path = f"/v1/vector_stores/{store_id}/files/{file_id}"
        wait_until(
            lambda: source.call("GET", path, source.live_key).json()["status"] != "in_progress", 120, "the ingest"
        )
        assert source.call("GET", path, source.live_key).json()["status"] == "completed"
        hits = _hits(source, store_id)
        assert hits and hits[0][0] == file_id
        taken = _cli(source.env, "backup", "--include-secret-key", str(tmp_path / "backup"))
        assert taken.returncode == 0, taken.stdout + taken.stderr
        assert "1 uploaded files, 1 cached parses" in taken.stdout
        assert not (tmp_path / "backup" / "rag" / "index").exists()
    finally:
        source.destroy()

    restored = Stack("sqlite", tmp_path / "restored", None, extra_env=dict(env), with_rag=True)
    try:
        done = _cli(restored.env, "restore", str(tmp_path / "backup"))
        assert done.returncode == 0, done.stdout + done.stderr
        marker = restored.data_dir / "rag" / "parses" / "rebuild-index"
        assert marker.is_file()
        restored.start()
        wait_until(lambda: not marker.exists(), 120, "the index rebuilt")
        # the rebuild is not billed: the metering rows are the backup's, none more
        assert _counts(restored.data_dir / "ringside.db") == _counts(tmp_path / "backup" / "ringside.db")
        assert _hits(restored, store_id) == hits
        downloaded = restored.call("GET", f"/v1/files/{file_id}/content", restored.live_key)
        assert downloaded.status == 200 and downloaded.body == content
    finally:
        restored.destroy()
        stop_process(temporal)
