"""A batch forwarded to its provider's batch API (API.md "Batch money"), the first half: whether it
can be, then admitting it whole and handing it to the provider.

A batch is forwarded when it is live, of chat lines, and every line resolves to one model of one
provider whose providers-file entry names a `batch_api`; otherwise Ringside runs its lines itself.
Each line is authorized at the catalog's prices less the provider's `batch_discount_pct` (the hold
keeps that price, and its settle is priced by it), its output bound clamped by the room rule; a line
that does not fit goes to the error file with its code and is not sent. The admitted lines are
uploaded with the provider's model name and the clamped bound, the batch created, and the
provider's ids journaled; workers/batch/polled.py polls it, settles each line and releases the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from temporalio import activity

from ringside.core.v1 import batches_pb2 as pb
from ringside.core.v1 import common_pb2, metering_pb2
from ringside_server.batches.lines import Line
from ringside_server.batches.results import LineResult, file_line
from ringside_server.errors import RingsideError
from ringside_server.ids import new_request_id
from ringside_server.metering.call import MeteredCall
from ringside_server.metering.gateway import Gateway
from ringside_server.metering.request import Caller
from ringside_server.metering.settlement import price_of
from ringside_server.openai.types import chat
from ringside_server.providers.catalog.load import CatalogModel
from ringside_server.providers.openai_compat import OpenAICompatProvider
from workers.batch.calls import MAX_WAIT_S, MIN_WAIT_S, RATE_LIMITED, denied
from workers.batch.journal import Journal
from workers.batch.upstream import UpstreamBatches

FORWARDED_ENDPOINTS = ("/v1/chat/completions",)
LogLine = Callable[[Line, LineResult, float], None]


@dataclass(frozen=True, slots=True)
class Planned:
    line: Line
    call: MeteredCall
    model: CatalogModel


@dataclass(frozen=True, slots=True)
class Plan:
    provider: OpenAICompatProvider
    discount_pct: int
    lines: list[Planned]


def upstream_of(gateway: Gateway, provider_id: str) -> tuple[OpenAICompatProvider, int] | None:
    """The provider's connection and batch discount when its batch API can take a batch."""
    entry = gateway.refs.providers.get(provider_id)
    provider = gateway.providers.get(provider_id)
    if entry is None or entry.connection.batch_api != "openai":
        return None
    if not isinstance(provider, OpenAICompatProvider) or not provider.has_batch_api:
        return None
    return provider, entry.connection.batch_discount_pct


async def plan(gateway: Gateway, caller: Caller, batch: pb.Batch, lines: list[Line]) -> Plan | None:
    """The batch's lines and their one provider when it is forwarded; None: Ringside runs them (a line
    refused before anything is held, like any other difference, keeps the batch in Ringside, where
    that line goes to the error file as it would there)."""
    if not batch.livemode or batch.endpoint not in FORWARDED_ENDPOINTS or not lines:
        return None
    planned: list[Planned] = []
    target: tuple[OpenAICompatProvider, int] | None = None
    for line in lines:
        try:
            call = await MeteredCall.prepare(gateway, caller, chat.metered_request(orjson.dumps(line.body), False))
        except RingsideError:
            return None
        if len(call.models) != 1:
            return None
        model = call.models[0]
        upstream = upstream_of(gateway, model.provider)
        if upstream is None or (target is not None and upstream[0] is not target[0]):
            return None
        target = upstream
        planned.append(Planned(line, call, model))
    assert target is not None
    return Plan(target[0], target[1], planned)


def batch_price(model: CatalogModel, discount_pct: int) -> common_pb2.Price:
    """The catalog's prices less the discount, rounded up (nano-USD per 1M tokens)."""
    price = price_of(model)
    for descriptor in price.DESCRIPTOR.fields:
        full = getattr(price, descriptor.name)
        setattr(price, descriptor.name, -(-full * (100 - discount_pct) // 100))
    return price


def upstream_line(planned: Planned, max_output_tokens: int, endpoint: str) -> dict[str, Any]:
    """The line as the provider gets it: its model name, its output bound clamped by the room rule,
    its line number as custom_id (the results are matched back by it)."""
    body = dict(planned.line.body)
    body["model"] = planned.model.name
    bound = "max_tokens" if "max_tokens" in body else "max_completion_tokens"
    body[bound] = max_output_tokens
    return {"custom_id": str(planned.line.number), "method": "POST", "url": endpoint, "body": body}


async def _authorize(
    gateway: Gateway, request: metering_pb2.AuthorizeRequest, stopping: Callable[[], bool]
) -> metering_pb2.AuthorizeResponse | None:
    """The core's answer; a rate limit is waited out (None: the batch stopped meanwhile)."""
    while True:
        decision = await gateway.core.authorize(request)
        if decision.allowed or decision.denial.code not in RATE_LIMITED:
            return decision
        denial = decision.denial
        wait_s = (denial.retry_after_ms / 1000) or float(denial.retry_after_seconds) or 1.0
        await asyncio.sleep(min(MAX_WAIT_S, max(MIN_WAIT_S, wait_s)))
        if stopping():
            return None


async def submit(
    gateway: Gateway,
    journal: Journal,
    batch: pb.Batch,
    planned: Plan,
    log_line: LogLine,
    stopping: Callable[[], bool],
    started: float,
) -> bool:
    """Admit each line (journaled before its hold exists), then upload and create the provider's
    batch and journal its ids. False when no line was admitted (nothing was sent)."""
    sent: list[dict[str, Any]] = []
    models: dict[str, str] = {}
    for item in planned.lines:
        line, model = item.line, item.model
        if line.number in journal.results:
            continue
        activity.heartbeat(line.number)  # the run's heartbeat timeout: admitting 50,000 lines takes a while
        request = item.call.authorize_request(model, item.call.request.input_tokens_bound(model))
        request.price.CopyFrom(batch_price(model, planned.discount_pct))
        request.request_id = new_request_id()
        await journal.admit(line.number, request.request_id, line.custom_id)
        decision = await _authorize(gateway, request, stopping)
        if decision is None:
            return bool(sent)
        if not decision.allowed:
            result = denied(decision.denial)
            await journal.result(line.number, "error", file_line(line.custom_id, result))
            log_line(line, result, started)
            continue
        sent.append(upstream_line(item, decision.max_output_tokens, batch.endpoint))
        models[str(line.number)] = model.ref
    if not sent:
        return False
    activity.heartbeat(len(planned.lines))
    upstream = UpstreamBatches(planned.provider)
    file_id = await upstream.upload(b"".join(orjson.dumps(line) + b"\n" for line in sent))
    created = await upstream.create(file_id, batch.endpoint, batch.id)
    await journal.forwarded(
        {"provider": planned.provider.id, "batch_id": created["id"], "file_id": file_id, "models": models}
    )
    return True
