"""A batch forwarded to its provider's batch API, the second half (workers/batch/forward.py made it):
`batch_poll` reads the provider's batch, forwards a cancel, keeps the lines' holds alive (the hold TTL
never expires a running batch) and reports counts; the workflow sleeps on a durable timer between
polls. `batch_collect` downloads the provider's result files once its batch ended, settles each line
from its `response.body.usage` (at the batch price its hold keeps), releases every line without an
answer and journals Ringside's own output and error lines; `batch_finish` writes the files."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import orjson
from temporalio import activity

from ringside.core.v1 import batches_pb2 as pb
from ringside.core.v1 import common_pb2, metering_pb2
from ringside_server.batches.lines import Line
from ringside_server.batches.results import LineResult, file_line
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.metering.gateway import Gateway
from ringside_server.metering.settlement import COMPLETED, FAILED
from ringside_server.openai.usage import token_counts
from ringside_server.providers.openai_compat import OpenAICompatProvider
from workers.batch.forward import LogLine
from workers.batch.journal import Journal
from workers.batch.shared import BatchInput, PollOutcome, RunOutcome
from workers.batch.upstream import UpstreamBatches

RUNNING = ("validating", "in_progress", "finalizing")
EXPIRED = "This request could not be executed before the completion window expired."
ErrorLine = Callable[[str, str, str], bytes]


class PolledBatches:
    def __init__(
        self,
        core: CoreClient,
        gateway: Gateway,
        journal_of: Callable[[str], Journal],
        log_line: Callable[[pb.BatchJobResponse], LogLine],
        error_line: ErrorLine,
        poll_s: float,
    ) -> None:
        self._core = core
        self._gateway = gateway
        self._journal_of = journal_of
        self._log_line = log_line
        self._error_line = error_line
        self._poll_s = poll_s

    async def _opened(self, batch_id: str) -> tuple[Journal, dict[str, Any], UpstreamBatches]:
        journal = await asyncio.to_thread(self._journal_of, batch_id)
        upstream = journal.upstream
        if upstream is None:
            raise RingsideError("internal_error", f"{batch_id} was not forwarded.")
        provider = self._gateway.providers.get(str(upstream["provider"]))
        if not isinstance(provider, OpenAICompatProvider):
            # its provider left the configuration meanwhile: retried until it is back
            raise RingsideError("service_unavailable", f"provider {upstream['provider']} is not configured.")
        return journal, upstream, UpstreamBatches(provider)

    async def _job(self, batch_id: str) -> pb.BatchJobResponse:
        return await self._core.internal(self._core.batches.GetBatchJob, pb.BatchJobRequest(batch_id=batch_id))

    @activity.defn(name="batch_poll")
    async def poll(self, request: BatchInput) -> PollOutcome:
        activity.heartbeat()
        journal, upstream, client = await self._opened(request.batch_id)
        found = await client.retrieve(str(upstream["batch_id"]))
        status = str(found.get("status"))
        job = await self._job(request.batch_id)
        if status in RUNNING and job.batch.status == "cancelling" and found.get("cancelling_at") is None:
            await client.cancel(str(upstream["batch_id"]))
        if status in RUNNING or status == "cancelling":
            for request_id, _ in list(journal.admitted.values()):
                activity.heartbeat()
                with contextlib.suppress(RingsideError):  # an expired hold is posted, then corrected
                    await self._core.internal(
                        self._core.metering.ExtendHold, metering_pb2.ExtendHoldRequest(request_id=request_id)
                    )
            counts = found.get("request_counts") or {}
            with contextlib.suppress(RingsideError):
                await self._core.internal(
                    self._core.batches.ReportBatchProgress,
                    pb.ReportBatchProgressRequest(
                        batch_id=request.batch_id,
                        completed=int(counts.get("completed") or 0),
                        failed=int(counts.get("failed") or 0) + journal.count("error"),
                    ),
                )
        return PollOutcome(status, self._poll_s)

    @activity.defn(name="batch_collect")
    async def collect(self, request: BatchInput) -> RunOutcome:
        activity.heartbeat()
        journal, upstream, client = await self._opened(request.batch_id)
        found = await client.retrieve(str(upstream["batch_id"]))
        job = await self._job(request.batch_id)
        log_line = self._log_line(job)
        models: dict[str, str] = upstream.get("models") or {}
        for file_id in (found.get("output_file_id"), found.get("error_file_id")):
            for raw in (await client.content(file_id)).splitlines():
                answered = orjson.loads(raw) if raw.strip() else None
                activity.heartbeat()
                if isinstance(answered, dict):
                    await self._settle_line(journal, answered, models, log_line)
        status = str(found.get("status"))
        for number, (request_id, custom_id) in sorted(journal.admitted.items()):
            activity.heartbeat()
            # never answered (cancelled before it was sent, expired, the batch failed): released
            await self._settle(request_id, common_pb2.TokenCounts(), FAILED, "")
            if status == "expired":
                await journal.result(number, "error", self._error_line(custom_id, "batch_expired", EXPIRED))
            else:
                journal.admitted.pop(number, None)
        if status == "failed":
            errors = (found.get("errors") or {}).get("data") or [{}]
            message = str(errors[0].get("message") or "The provider's batch failed.")
            return RunOutcome("failed", str(errors[0].get("code") or "upstream_error"), message)
        return RunOutcome(status if status in ("cancelled", "expired") else "completed")

    async def _settle(
        self, request_id: str, usage: common_pb2.TokenCounts, outcome: metering_pb2.SettleOutcome, model: str
    ) -> None:
        settle = metering_pb2.SettleRequest(request_id=request_id, usage=usage, outcome=outcome, upstream_model=model)
        await self._core.settle(settle)  # once: a retried collect's second settle is replayed

    async def _settle_line(
        self, journal: Journal, answered: dict[str, Any], models: dict[str, str], log_line: LogLine
    ) -> None:
        key = str(answered.get("custom_id"))
        if not key.isdigit() or int(key) not in journal.admitted:
            return  # not one of ours, or journaled by an earlier attempt
        number = int(key)
        request_id, custom_id = journal.admitted[number]
        response = answered.get("response")
        if not isinstance(response, dict):  # never ran upstream: its error as the provider gave it
            error = answered.get("error") or {}
            await self._settle(request_id, common_pb2.TokenCounts(), FAILED, "")
            code, message = str(error.get("code") or "upstream_error"), str(error.get("message") or "")
            await journal.result(number, "error", self._error_line(custom_id, code, message))
            return
        status = int(response.get("status_code") or 500)
        given = response.get("body")
        body: dict[str, Any] = given if isinstance(given, dict) else {}
        ok = status == 200
        usage = token_counts(body.get("usage")) if ok else common_pb2.TokenCounts()
        await self._settle(request_id, usage, COMPLETED if ok else FAILED, str(body.get("model") or "")[:300])
        result = LineResult(status, request_id, orjson.dumps(body), models.get(key, "") if ok else "")
        await journal.result(number, "output" if ok else "error", file_line(custom_id, result))
        log_line(Line(number, custom_id, {"model": models.get(key, "")}), result, time.time())
