"""OpenAI's Files and Batch APIs as the fake OpenAI speaks them (openai-openapi's `OpenAIFile`,
`Batch`, `BatchRequestInput` / `BatchRequestOutput`): upload a file, read, delete it and its content;
create a batch over a `batch` file, retrieve, list and cancel it.

A batch runs in the fake's process through OpenAI's lifecycle: `validating` (a bad input file:
`failed` with `errors.data` naming each bad line), `in_progress` while its lines are answered one by
one as their endpoint answers them (fault markers apply: a line whose last user text starts with
`[[fake:status=500]]` goes to the error file with its status), `finalizing`, then `completed`; a
cancel makes it `cancelling`, then `cancelled` with the lines answered so far. Each step, and each
line, waits `batch_step_ms` (FakeConfig), so a test can watch or cancel a batch midway. The batch's
`usage` sums its lines' usage, as OpenAI's does for batches created after 2025-09-07."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from aiohttp import web

from tests.fakes import openai_wire as wire

# The endpoints OpenAI's CreateBatchRequest allows.
ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions", "/v1/moderations")
WINDOW_S = 24 * 3600
T = TypeVar("T")
# One line's answer as its endpoint gives it: (url, body) → (status, JSON body).
LineAnswer = Callable[[str, Any], tuple[int, dict[str, Any]]]


@dataclass
class FakeFile:
    meta: dict[str, Any]
    content: bytes


@dataclass
class FakeBatch:
    object: dict[str, Any]
    output: list[bytes] = field(default_factory=list)
    errors: list[bytes] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


@dataclass
class BatchesState:
    answer: LineAnswer
    authorized: Callable[[web.Request], bool]
    step_s: float
    files: dict[str, FakeFile] = field(default_factory=dict)
    batches: dict[str, FakeBatch] = field(default_factory=dict)


STATE = web.AppKey("fake_batches", BatchesState)


def _new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(value), content_type="application/json")


def _refuse(status: int, message: str, param: str | None = None) -> web.Response:
    return web.Response(
        status=status, body=wire.error_body(status, message, param=param), content_type="application/json"
    )


def _store(state: BatchesState, filename: str, purpose: str, content: bytes) -> dict[str, Any]:
    meta = {
        "id": _new_id("file-"),
        "object": "file",
        "bytes": len(content),
        "created_at": int(time.time()),
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "expires_at": None,
        "status_details": None,
    }
    state.files[meta["id"]] = FakeFile(meta, content)
    return meta


async def upload_file(request: web.Request) -> web.Response:
    """`POST /v1/files` (multipart: `file`, `purpose`)."""
    state = request.app[STATE]
    fields: dict[str, Any] = {}
    reader = await request.multipart()
    async for part in reader:
        if part.name == "file":
            fields["file"] = (getattr(part, "filename", None) or "file", await part.read())  # type: ignore[union-attr]
        elif part.name:
            fields[part.name] = (await part.read()).decode()  # type: ignore[union-attr]
    if "file" not in fields:
        return _refuse(400, "Missing required parameter: 'file'.", "file")
    if not fields.get("purpose"):
        return _refuse(400, "Missing required parameter: 'purpose'.", "purpose")
    filename, content = fields["file"]
    return _json(_store(state, filename, fields["purpose"], content))


def _found(table: dict[str, T], key: str, missing: str, param: str) -> T | web.Response:
    found = table.get(key)
    return _refuse(404, missing, param) if found is None else found


def _file(request: web.Request) -> FakeFile | web.Response:
    file_id = request.match_info["file_id"]
    return _found(request.app[STATE].files, file_id, f"No such File object: {file_id}", "id")


async def get_file(request: web.Request) -> web.Response:
    found = _file(request)
    return found if isinstance(found, web.Response) else _json(found.meta)


async def file_content(request: web.Request) -> web.Response:
    found = _file(request)
    if isinstance(found, web.Response):
        return found
    return web.Response(body=found.content, content_type="application/octet-stream")


async def delete_file(request: web.Request) -> web.Response:
    found = _file(request)
    if isinstance(found, web.Response):
        return found
    del request.app[STATE].files[found.meta["id"]]
    return _json({"id": found.meta["id"], "object": "file", "deleted": True})


def _batch_object(body: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    return {
        "id": _new_id("batch_"),
        "object": "batch",
        "endpoint": body["endpoint"],
        "model": None,
        "errors": None,
        "input_file_id": body["input_file_id"],
        "completion_window": body["completion_window"],
        "status": "validating",
        "output_file_id": None,
        "error_file_id": None,
        "created_at": now,
        "in_progress_at": None,
        "expires_at": now + WINDOW_S,
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "usage": {
            "input_tokens": 0,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 0,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 0,
        },
        "metadata": body.get("metadata"),
    }


async def create_batch(request: web.Request) -> web.Response:
    """`POST /v1/batches`: recorded `validating`; its lines run in the background."""
    state = request.app[STATE]
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return _refuse(400, "We could not parse the JSON body of your request.")
    if not isinstance(body, dict):
        return _refuse(400, "The body must be a JSON object.")
    for name in ("input_file_id", "endpoint", "completion_window"):
        if not isinstance(body.get(name), str):
            return _refuse(400, f"Missing required parameter: '{name}'.", name)
    if body["endpoint"] not in ENDPOINTS:
        return _refuse(400, f"Invalid value for 'endpoint': {body['endpoint']}.", "endpoint")
    if body["completion_window"] != "24h":
        return _refuse(400, "Invalid value for 'completion_window': only '24h' is supported.", "completion_window")
    stored = state.files.get(body["input_file_id"])
    if stored is None:
        return _refuse(404, f"No such File object: {body['input_file_id']}", "input_file_id")
    if stored.meta["purpose"] != "batch":
        return _refuse(400, "The input file must have purpose 'batch'.", "input_file_id")
    batch = FakeBatch(_batch_object(body))
    state.batches[batch.object["id"]] = batch
    batch.task = asyncio.get_running_loop().create_task(_run(state, batch, stored.content))
    return _json(batch.object)


def _problems(content: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The input's requests, and OpenAI's `BatchError` for each bad line."""
    lines: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for number, raw in enumerate(content.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            errors.append(
                {
                    "code": "invalid_json_line",
                    "message": "This line is not parseable as valid JSON.",
                    "param": None,
                    "line": number,
                }
            )
            continue
        ok = isinstance(line, dict) and isinstance(line.get("custom_id"), str) and isinstance(line.get("body"), dict)
        if not ok or line.get("method") != "POST" or line.get("url") != endpoint:
            message = f"Each line must be a POST to {endpoint} with a custom_id and a body."
            errors.append({"code": "invalid_request", "message": message, "param": None, "line": number})
            continue
        lines.append(line)
    return lines, errors


async def _run(state: BatchesState, batch: FakeBatch, content: bytes) -> None:
    current = batch.object
    await asyncio.sleep(state.step_s)
    lines, errors = _problems(content, current["endpoint"])
    if errors or not lines:
        errors = errors or [
            {"code": "empty_file", "message": "The input file holds no requests.", "param": None, "line": None}
        ]
        current.update(status="failed", failed_at=int(time.time()), errors={"object": "list", "data": errors})
        return
    current.update(
        status="in_progress" if current["status"] == "validating" else current["status"],
        in_progress_at=int(time.time()),
        model=lines[0]["body"].get("model"),
    )
    current["request_counts"]["total"] = len(lines)
    for line in lines:
        if current["status"] == "cancelling":
            break
        await asyncio.sleep(state.step_s)
        status, body = state.answer(current["endpoint"], line["body"])
        _record(batch, line["custom_id"], status, body)
    current.update(finalizing_at=int(time.time()))
    if current["status"] != "cancelling":
        current["status"] = "finalizing"
    await asyncio.sleep(state.step_s)
    for kind, found in (("output_file_id", batch.output), ("error_file_id", batch.errors)):
        if found:
            name = f"{current['id']}_{kind.removesuffix('_file_id')}.jsonl"
            current[kind] = _store(state, name, "batch_output", b"".join(found))["id"]
    final = "cancelled" if current["status"] == "cancelling" else "completed"
    current.update({"status": final, f"{final}_at": int(time.time())})


def _record(batch: FakeBatch, custom_id: str, status: int, body: dict[str, Any]) -> None:
    """One line's answer in OpenAI's `BatchRequestOutput`, to the output or the error file."""
    result = {
        "id": _new_id("batch_req_"),
        "custom_id": custom_id,
        "response": {"status_code": status, "request_id": secrets.token_hex(16), "body": body},
        "error": None,
    }
    counts = batch.object["request_counts"]
    if status == 200:
        batch.output.append(orjson.dumps(result) + b"\n")
        counts["completed"] += 1
    else:
        batch.errors.append(orjson.dumps(result) + b"\n")
        counts["failed"] += 1
    usage, total = body.get("usage") if status == 200 else None, batch.object["usage"]
    if isinstance(usage, dict):
        input_tokens = int(usage.get("prompt_tokens", usage.get("input_tokens", 0)))
        output_tokens = int(usage.get("completion_tokens", usage.get("output_tokens", 0)))
        total["input_tokens"] += input_tokens
        total["output_tokens"] += output_tokens
        total["total_tokens"] += input_tokens + output_tokens


def _batch(request: web.Request) -> FakeBatch | web.Response:
    batch_id = request.match_info["batch_id"]
    return _found(request.app[STATE].batches, batch_id, f"No batch found with id '{batch_id}'.", "batch_id")


async def get_batch(request: web.Request) -> web.Response:
    found = _batch(request)
    return found if isinstance(found, web.Response) else _json(found.object)


async def cancel_batch(request: web.Request) -> web.Response:
    """`POST /v1/batches/{id}/cancel`: `cancelling` (the line in flight finishes), then `cancelled`."""
    found = _batch(request)
    if isinstance(found, web.Response):
        return found
    current = found.object
    if current["status"] in ("completed", "failed", "expired"):
        return _refuse(400, f"Cannot cancel a batch with status '{current['status']}'.")
    if current["status"] in ("validating", "in_progress", "finalizing"):
        current.update(status="cancelling", cancelling_at=int(time.time()))
    return _json(current)


async def list_batches(request: web.Request) -> web.Response:
    """`GET /v1/batches?limit&after`: newest first."""
    newest = [batch.object for batch in reversed(request.app[STATE].batches.values())]
    after = request.query.get("after")
    if after:
        ids = [batch["id"] for batch in newest]
        newest = newest[ids.index(after) + 1 :] if after in ids else []
    limit = int(request.query.get("limit", "20"))
    page = newest[:limit]
    return _json(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(newest) > limit,
        }
    )


Handler = Callable[[web.Request], Awaitable[web.Response]]


def _authorized_only(handler: Handler) -> Handler:
    async def checked(request: web.Request) -> web.Response:
        if not request.app[STATE].authorized(request):
            return _refuse(401, "Incorrect API key provided.")
        return await handler(request)

    return checked


def add_routes(
    app: web.Application, answer: LineAnswer, authorized: Callable[[web.Request], bool], step_ms: float
) -> None:
    """The Files and Batch routes on the fake's app; `answer` answers one line of a batch."""
    app[STATE] = BatchesState(answer, authorized, step_ms / 1000)
    for method, path, handler in (
        ("POST", "/v1/files", upload_file),
        ("GET", "/v1/files/{file_id}", get_file),
        ("DELETE", "/v1/files/{file_id}", delete_file),
        ("GET", "/v1/files/{file_id}/content", file_content),
        ("POST", "/v1/batches", create_batch),
        ("GET", "/v1/batches", list_batches),
        ("GET", "/v1/batches/{batch_id}", get_batch),
        ("POST", "/v1/batches/{batch_id}/cancel", cancel_batch),
    ):
        app.router.add_route(method, path, _authorized_only(handler))
