"""The batch activities, run by the worker: `batch_run_lines` runs the input file's lines at bounded
concurrency (RINGSIDE_BATCH_CONCURRENCY), each a metered call of the batch's key, journaling each
admission and result; `batch_finish` writes the output and error files from the journal into the
file store and reports the outcome to the core (which records the files and emits `batch.*`)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import pathlib
import time
from collections.abc import AsyncIterator, Iterator

import orjson
from temporalio import activity

from ringside.core.v1 import batches_pb2 as pb
from ringside.core.v1 import common_pb2, metering_pb2, requests_pb2
from ringside_server.batches.lines import Line, count_lines, read_lines
from ringside_server.batches.results import LineResult, error_code, file_line, refused
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.file_store import FileStore
from ringside_server.ids import new_request_id, new_sortable_id
from ringside_server.metering.gateway import Gateway
from ringside_server.metering.request import Caller
from ringside_server.metering.settlement import FAILED
from ringside_server.request_log import LISTED_REFUSALS, RequestRecorder
from workers.batch import forward
from workers.batch.calls import run_line
from workers.batch.forward import LogLine
from workers.batch.journal import Journal
from workers.batch.polled import PolledBatches
from workers.batch.shared import BatchInput, FinishInput, RunOutcome

log = logging.getLogger("ringside.worker.batch")
READ_CHUNK = 100  # lines read from the input file per hop to a thread
WATCH_EVERY_S = 0.5  # how often the run reads its batch's status (cancel) and reports its counts
FINAL = ("completed", "failed", "expired", "cancelled")
LOST = (
    "The worker running this batch stopped after this request was billed and before its answer was "
    "written; it was not run again, so it is billed once."
)
EXPIRED = "This request could not be executed before the completion window expired."


def result_file_id(batch_id: str, kind: str) -> str:
    """Deterministic, so a retried finish rewrites the same file rather than leaving another."""
    return f"file-{batch_id.removeprefix('batch_')}{kind}"


def _error_line(custom_id: str, code: str, message: str) -> bytes:
    """A line that never ran, in OpenAI's format: no response, the reason in `error`."""
    line = {
        "id": new_sortable_id("batch_req"),
        "custom_id": custom_id,
        "response": None,
        "error": {"code": code, "message": message},
    }
    return orjson.dumps(line) + b"\n"


async def _expired(run: _Run, line: Line) -> None:
    await run.journal.result(line.number, "error", _error_line(line.custom_id, "batch_expired", EXPIRED))


class _Run:
    """One attempt at a batch's lines: what it shares between its line tasks and its watcher."""

    def __init__(self, journal: Journal, job: pb.BatchJobResponse) -> None:
        self.journal = journal
        self.job = job
        self.stop = ""  # "cancelled" or "expired" once the batch must start no more lines

    def stopping(self) -> bool:
        return bool(self.stop)


class BatchActivities:
    def __init__(
        self,
        core: CoreClient,
        gateway: Gateway,
        recorder: RequestRecorder,
        data_dir: pathlib.Path,
        concurrency: int,
        files: FileStore,
        poll_s: float = 30.0,
    ) -> None:
        self._core = core
        self._gateway = gateway
        self._recorder = recorder  # each line's row of the request log (GET /v1/requests)
        self._files = files
        self._journals = data_dir / "batches"
        self._concurrency = concurrency
        # a batch forwarded to its provider's batch API: polled, then collected
        self.polled = PolledBatches(core, gateway, self._journal_at, self._logger, _error_line, poll_s)

    def _journal_path(self, batch_id: str) -> pathlib.Path:
        return self._journals / f"{batch_id}.jsonl"

    def _journal_at(self, batch_id: str) -> Journal:
        """The batch's journal as written so far (blocking: read on a thread)."""
        return Journal.open(self._journal_path(batch_id))

    async def _job(self, batch_id: str) -> pb.BatchJobResponse:
        return await self._core.internal(self._core.batches.GetBatchJob, pb.BatchJobRequest(batch_id=batch_id))

    @activity.defn(name="batch_run_lines")
    async def run(self, request: BatchInput) -> RunOutcome:
        job = await self._job(request.batch_id)
        batch = job.batch
        if batch.status in FINAL:
            return RunOutcome("finished")
        journal = await asyncio.to_thread(Journal.open, self._journal_path(batch.id))
        if journal.upstream is not None:  # the provider has it: polled from here
            return RunOutcome("forwarded")
        await self._resolve_open_lines(journal)
        async with contextlib.AsyncExitStack() as stack:  # an S3 file's local copy, for the run's span
            try:
                path = await stack.enter_async_context(self._files.local_copy(batch.input_file_id))
                if batch.status == "validating":  # OpenAI's first step: the whole input read through first
                    await asyncio.to_thread(count_lines, path, batch.endpoint, self._max_line_bytes)
                lines = await asyncio.to_thread(lambda: read_lines(path, batch.endpoint, self._max_line_bytes))
                first = await asyncio.to_thread(_chunk, lines)
            except FileNotFoundError:
                return RunOutcome("failed", "input_file_missing", "The input file was deleted before the batch ran.")
            except RingsideError as error:  # validated at create; a changed file is refused the same way
                return RunOutcome("failed", "invalid_input", error.message)
            if batch.status == "validating":  # valid: `in_progress` from now
                start = pb.BatchJobRequest(batch_id=batch.id)
                job.batch.CopyFrom((await self._core.internal(self._core.batches.StartBatch, start)).batch)
                batch = job.batch
            run = _Run(journal, job)
            if batch.status == "cancelling":  # cancelled before its workflow began: no line starts
                run.stop = "cancelled"
            elif time.time() >= batch.expires_at:
                run.stop = "expired"
            caller = Caller(api_key="", live=batch.livemode, customer_ref=batch.customer_id, key_id=job.key_id)
            if not run.stop and await forward.plan(self._gateway, caller, batch, first[:1]) is not None:
                first += await asyncio.to_thread(list, lines)  # every line must go to that provider
                planned = await forward.plan(self._gateway, caller, batch, first)
                if planned is not None:
                    started = time.time()
                    sent = await forward.submit(
                        self._gateway, journal, batch, planned, self._logger(job), run.stopping, started
                    )
                    return RunOutcome("forwarded" if sent else "completed")
            watcher = asyncio.create_task(self._watch(run))
            try:
                await self._run_lines(run, caller, _chained(first, lines))
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
        await self._report(run)
        return RunOutcome(run.stop or "completed")

    @property
    def _max_line_bytes(self) -> int:
        return self._gateway.settings.body_max_model_bytes

    async def _resolve_open_lines(self, journal: Journal) -> None:
        """Lines an earlier attempt began and never finished (the worker was killed): each is settled
        now, once. Its hold still open → settled as failed with nothing used, and the line runs again;
        never held (killed before the core answered), or settled at nothing (a worker stopping
        cancels its calls) → it runs again; settled at a cost (its answer lost after it was billed) →
        an error result naming its request, so it is not billed twice."""
        for number, (request_id, custom_id) in sorted(journal.admitted.items()):
            answer = await self._settle_unfinished(request_id)
            if answer is not None and answer.replayed and answer.cost_nano_usd > 0:
                lost = RingsideError("internal_error", LOST)
                await journal.result(number, "error", file_line(custom_id, refused(lost, request_id)))
            else:
                journal.admitted.pop(number, None)

    async def _settle_unfinished(self, request_id: str) -> metering_pb2.SettleResponse | None:
        """Settles an attempt whose outcome is unknown as failed with nothing used (its open hold
        released); the first settle's result when it had one (`replayed`); None when it never held."""
        try:
            return await self._core.settle(
                metering_pb2.SettleRequest(request_id=request_id, usage=common_pb2.TokenCounts(), outcome=FAILED)
            )
        except RingsideError as error:
            if error.code != "not_found":
                raise  # the core is away: the run is retried
            return None

    async def _run_lines(self, run: _Run, caller: Caller, lines: AsyncIterator[Line]) -> None:
        slots = asyncio.Semaphore(self._concurrency)
        running: set[asyncio.Task[None]] = set()
        try:
            async for line in lines:
                if line.number in run.journal.results:
                    continue  # an earlier attempt's
                await slots.acquire()
                if run.stop == "expired":
                    slots.release()
                    await _expired(run, line)
                    continue
                if run.stop:
                    slots.release()
                    break
                task = asyncio.create_task(self._line(run, caller, line))
                task.add_done_callback(lambda _: slots.release())
                running.add(task)
                task.add_done_callback(running.discard)
            if running:
                await asyncio.gather(*running)
        except BaseException:
            for task in running:  # a cancelled attempt (worker stopping): each line settles as it ends
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise

    async def _line(self, run: _Run, caller: Caller, line: Line) -> None:
        async def request_id_for_attempt() -> str:
            earlier = run.journal.admitted.get(line.number)
            if earlier is not None:  # an attempt whose Authorize may have landed unanswered (the core away)
                await self._settle_unfinished(earlier[0])
            request_id = new_request_id()
            await run.journal.admit(line.number, request_id, line.custom_id)  # before the hold exists
            return request_id

        started = time.time()
        endpoint = run.job.batch.endpoint
        result = await run_line(self._gateway, caller, endpoint, line.body, request_id_for_attempt, run.stopping)
        if result is None:  # stopped while it waited for a rate limit's window: it never ran
            if run.stop == "expired":
                await _expired(run, line)
            return
        self._logger(run.job)(line, result, started)
        await run.journal.result(
            line.number, "output" if result.answered else "error", file_line(line.custom_id, result)
        )
        activity.heartbeat(len(run.journal.results))

    def _logger(self, job: pb.BatchJobResponse) -> LogLine:
        return lambda line, result, started: self._log(job, line, result, started)

    def _log(self, job: pb.BatchJobResponse, line: Line, result: LineResult, started: float) -> None:
        """The line's row in the request log, as the edge writes one per call: served, failed
        upstream, or refused for budget, wallet, block, allowed models (not a bad body)."""
        code = error_code(result)
        if code and not result.request_id and code not in LISTED_REFUSALS:
            return
        now, user, model = time.time(), line.body.get("user"), line.body.get("model")
        self._recorder.add(
            requests_pb2.RequestEntry(
                request_id=result.request_id or new_request_id(),
                key_id=job.key_id,
                customer_ref=job.batch.customer_id,
                user=user if isinstance(user, str) else "",
                route=job.batch.endpoint,
                model=str(model)[:300],
                resolved_model=result.resolved_model,
                status=result.status,
                error_code=code,
                latency_ms=round((now - started) * 1000),
                created=int(now),
                created_ms=int(now * 1000),
            )
        )

    async def _watch(self, run: _Run) -> None:
        """Reads the batch's status (a cancel), checks its window, reports counts, heartbeats."""
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            activity.heartbeat(len(run.journal.results))
            with contextlib.suppress(RingsideError):
                current = await self._report(run)
                if current.status == "cancelling":
                    run.stop = "cancelled"
            if not run.stop and time.time() >= run.job.batch.expires_at:
                run.stop = "expired"

    async def _report(self, run: _Run) -> pb.Batch:
        answer = await self._core.internal(
            self._core.batches.ReportBatchProgress,
            pb.ReportBatchProgressRequest(
                batch_id=run.job.batch.id, completed=run.journal.count("output"), failed=run.journal.count("error")
            ),
        )
        return answer.batch

    @activity.defn(name="batch_finish")
    async def finish(self, finished: FinishInput) -> None:
        request, outcome = finished.request, finished.outcome
        journal = await asyncio.to_thread(Journal.open, self._journal_path(request.batch_id))
        files: dict[str, pb.BatchResultFile] = {}
        if outcome.status != "failed":
            for kind in ("output", "error"):
                lines = journal.lines_of(kind)
                if kind == "error" and not lines:
                    continue
                file_id = result_file_id(request.batch_id, kind)
                written = await self._files.write(file_id, _chunks(lines), 1 << 40)
                files[kind] = pb.BatchResultFile(id=file_id, bytes=written.size_bytes, sha256=written.sha256)
        errors = [{"code": outcome.error_code, "message": outcome.error_message, "param": None, "line": None}]
        finished_batch = await self._core.internal(
            self._core.batches.FinishBatch,
            pb.FinishBatchRequest(
                batch_id=request.batch_id,
                status=outcome.status,
                completed=journal.count("output"),
                failed=journal.count("error"),
                output_file=files.get("output"),
                error_file=files.get("error"),
                errors_json=orjson.dumps(errors).decode() if outcome.error_code else "",
            ),
        )
        kept = {finished_batch.batch.output_file_id, finished_batch.batch.error_file_id}
        for result in files.values():
            if result.id not in kept:  # its owner was deleted or erased meanwhile: its answers go
                await self._files.delete(result.id)
        with contextlib.suppress(FileNotFoundError):  # its results are in the files now
            await asyncio.to_thread(self._journal_path(request.batch_id).unlink)


def _chunk(lines: Iterator[Line]) -> list[Line]:
    return list(itertools.islice(lines, READ_CHUNK))


async def _chained(first: list[Line], rest: Iterator[Line]) -> AsyncIterator[Line]:
    """The input's lines, read a chunk at a time on a thread (a 200 MiB file never blocks the loop)."""
    chunk = first
    while chunk:
        for line in chunk:
            yield line
        chunk = await asyncio.to_thread(_chunk, rest)


async def _chunks(lines: list[bytes]) -> AsyncIterator[bytes]:
    for line in lines:
        yield line
