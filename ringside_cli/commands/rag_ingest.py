"""`ringside rag ingest PATH… --store vs_… [--customer ext:…]`: upload files and attach them to a
vector store, a few at a time, with a progress bar, then wait for their ingest and print a summary.

Resumable: what was uploaded and attached is kept in a state file (default
`.ringside-ingest-<store>.json` in the current directory) by path, size and modification time, so
running the same command again uploads only what is new or changed and waits for the rest."""

from __future__ import annotations

import json
import pathlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Annotated, Any

import typer
from rich.progress import Progress

from ringside_cli.api import Api, ApiError
from ringside_cli.commands.common import ApiKeyOption, BaseUrlOption, ModeOption, Target, api
from ringside_cli.output import fail, out

MAX_CONCURRENCY = 16
POLL_EVERY_S = 0.5


class IngestState:
    """path → {size, mtime, file_id, status}, written after every change (a crash loses nothing)."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self.entries: dict[str, dict[str, Any]] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    def done(self, file: pathlib.Path) -> dict[str, Any] | None:
        """The entry of an unchanged file already attached; None when it must be (re)sent."""
        entry = self.entries.get(str(file))
        stat = file.stat()
        if entry and entry.get("size") == stat.st_size and entry.get("mtime") == stat.st_mtime_ns:
            return entry
        return None

    def put(self, file: pathlib.Path, **fields: Any) -> None:
        stat = file.stat()
        with self._lock:
            self.entries[str(file)] = {"size": stat.st_size, "mtime": stat.st_mtime_ns, **fields}
            partial = self.path.with_name(self.path.name + ".partial")
            partial.write_text(json.dumps(self.entries, indent=1))
            partial.replace(self.path)


def _files(paths: list[pathlib.Path]) -> list[pathlib.Path]:
    """The files named, directories walked (hidden files skipped), each once, in order."""
    found: dict[pathlib.Path, None] = {}
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
                    found[child.resolve()] = None
        elif path.is_file():
            found[path.resolve()] = None
        else:
            raise typer.BadParameter(f"{path}: no such file or directory")
    return list(found)


def _send(client: Api, store: str, file: pathlib.Path, headers: dict[str, str], state: IngestState) -> None:
    uploaded = client.upload(file, "assistants", headers)
    state.put(file, file_id=uploaded["id"], status="uploaded")
    client.call("POST", f"/v1/vector_stores/{store}/files", {"file_id": uploaded["id"]}, headers=headers)
    state.put(file, file_id=uploaded["id"], status="in_progress")


def ingest(
    paths: Annotated[list[pathlib.Path], typer.Argument(help="files or directories to ingest")],
    store: Annotated[str, typer.Option("--store", help="the vector store (vs_…)")],
    customer: Annotated[
        str | None, typer.Option("--customer", help="act as this customer (cus_… or ext:…): its store, its files")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=MAX_CONCURRENCY, help="uploads at once")] = 4,
    wait: Annotated[bool, typer.Option(help="wait for every file's ingest to finish")] = True,
    timeout: Annotated[float, typer.Option(min=1, help="seconds to wait for the ingests")] = 1800,
    state_file: Annotated[
        pathlib.Path | None, typer.Option("--state", help="the resume file (default .ringside-ingest-<store>.json)")
    ] = None,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """Upload files and attach them to a vector store; resumable, a few at a time."""
    client = api(Target(api_key, mode, base_url))
    headers = {"FC-Customer": customer} if customer else {}
    files = _files(paths)
    state = IngestState(state_file or pathlib.Path(f".ringside-ingest-{store}.json"))
    todo = [f for f in files if (state.done(f) or {}).get("status") not in ("in_progress", "completed", "failed")]
    errors: dict[pathlib.Path, str] = {}
    with Progress(transient=True) as progress:
        task = progress.add_task("uploading", total=len(todo))
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            sent = {pool.submit(_send, client, store, f, headers, state): f for f in todo}
            for future in as_completed(sent):
                error = future.exception()
                if isinstance(error, ApiError):
                    errors[sent[future]] = f"{error.code}: {error.message}"
                elif error is not None:
                    raise error
                progress.advance(task)
        waiting = [f for f in files if f not in errors and (state.done(f) or {}).get("status") == "in_progress"]
        task = progress.add_task("ingesting", total=len(waiting))
        deadline = time.monotonic() + timeout
        while wait and waiting and time.monotonic() < deadline:
            for file in list(waiting):
                file_id = state.entries[str(file)]["file_id"]
                try:
                    found = client.call("GET", f"/v1/vector_stores/{store}/files/{file_id}", headers=headers)
                except ApiError as error:
                    errors[file], found = f"{error.code}: {error.message}", None
                if found is None or found["status"] != "in_progress":
                    waiting.remove(file)
                    progress.advance(task)
                    if found is not None:
                        last = found.get("last_error") or {}
                        state.put(file, file_id=file_id, status=found["status"], error=last.get("code", ""))
            if waiting:
                time.sleep(POLL_EVERY_S)
    summary: dict[str, int] = {}
    for file in files:
        status = "error" if file in errors else (state.done(file) or {}).get("status", "pending")
        summary[status] = summary.get(status, 0) + 1
        entry = state.entries.get(str(file), {})
        if file in errors:
            fail("ingest_error", f"{file}: {errors[file]}")
        elif status == "failed":
            fail(entry.get("error") or "failed", f"{file}: its ingest failed")
    out.print(", ".join(f"{count} {status}" for status, count in sorted(summary.items())) + f" ({len(files)} files)")
    if errors or summary.get("failed") or (wait and summary.get("in_progress")):
        raise typer.Exit(1)
