"""The calls that list across accounts, answered by every live core (issue 25, docs/scaling.md
"Partitions over active cores").

With `RINGSIDE_CORE_SHARE=fair` each core holds its own accounts' objects only, so a call that lists
work or objects across accounts (the pending batches, ingests, migrations; the indexed stores; the
period closes and Stripe syncs; the operator's accounts; the rag sweep's check) is sent by the core
that receives it to every other live core — the addresses of the partition map, read from the
database at the call — with `x-ringside-local: 1`, and each answers from its own memory; the
receiving core merges. The callers (edge, workers, rag role) are unchanged.

Why there and not in the client: the merge rules are the core's (limits, order, cursors, the
coverage of a liveness answer), the partition map is the core's to read, and a call that lists is
never a claim — the workflows started from a pending list have deterministic ids, so an item
listed twice while its partition changes hands (by the giver before it drops it, by the taker after
it loads it) is started once, and one listed by neither is listed by the next poll. The answers
that delete or page (`LiveRagObjects`, `IndexedStores`, `ListAccounts`, the billing calls) are
refused whole (503, retried by their caller) when a core does not answer; `LiveRagObjects` is also
refused unless the answering cores together served every partition when they answered, so a
partition between two owners never makes a live object look dead.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import grpc

from core.rpc.auth import INTERNAL_KEY
from core.services.core import Core
from core.store import core_addresses
from ringside_server.core_routing import CUT_OFF
from ringside_server.errors import RingsideError

log = logging.getLogger("ringside.core.fanout")

LOCAL_KEY = "x-ringside-local"  # a core's fan-out: answer from this core's memory only
FORWARDED = ("authorization", INTERNAL_KEY)  # the caller's credentials, passed on as they came
PEER_TIMEOUT_S = 10.0
MAX_PEERS = 64  # addresses asked per call (a partition map names at most one core per partition)
Response = TypeVar("Response")


def local_only(core: Core, context: grpc.aio.ServicerContext) -> bool:
    """True when this core answers from its own memory: one active core, or another core's fan-out."""
    if core.ownership.serving is None:
        return True
    return any(key == LOCAL_KEY and value == "1" for key, value in context.invocation_metadata() or ())


async def peer_addresses(core: Core) -> list[str]:
    """The other live cores: the addresses holding a partition now, this core's left out."""
    owners = await asyncio.get_running_loop().run_in_executor(None, core_addresses.partition_map, core.engine)
    return sorted(set(owners.values()) - {core.ownership.address})[:MAX_PEERS]


def _channel(core: Core, address: str) -> grpc.aio.Channel:
    channel: grpc.aio.Channel | None = core.peer_channels.get(address)
    if channel is None:
        channel = core.peer_channels[address] = grpc.aio.insecure_channel(address)
    return channel


async def ask_peers(
    core: Core,
    context: grpc.aio.ServicerContext,
    method: str,
    request: Any,
    response_type: Callable[[bytes], Response],
    *,
    partial_ok: bool = False,
) -> list[Response]:
    """Sends `request` to `method` (its full path) on every other live core, as local-only calls
    with the caller's credentials → their answers. A core that fails: with `partial_ok` (a pending
    list, polled again) its answer is left out; else the whole call is refused (503)."""
    metadata = [(k, v) for k, v in context.invocation_metadata() or () if k in FORWARDED and isinstance(v, str)]
    metadata.append((LOCAL_KEY, "1"))
    remaining = context.time_remaining()
    timeout = min(PEER_TIMEOUT_S, remaining) if remaining is not None else PEER_TIMEOUT_S
    addresses = await peer_addresses(core)

    async def one(address: str) -> Response:
        call: Callable[..., Awaitable[Response]] = _channel(core, address).unary_unary(
            method, request_serializer=type(request).SerializeToString, response_deserializer=response_type
        )
        return await call(request, metadata=metadata, timeout=timeout)

    answers = await asyncio.gather(*(one(a) for a in addresses), return_exceptions=True)
    found: list[Response] = []
    for address, answer in zip(addresses, answers, strict=True):
        if isinstance(answer, grpc.aio.AioRpcError):
            if partial_ok and (answer.code() in CUT_OFF or answer.code() == grpc.StatusCode.DEADLINE_EXCEEDED):
                log.warning("%s: the core at %s did not answer (%s); its part waits", method, address, answer.code())
                continue
            log.warning("%s: the core at %s answered %s", method, address, answer.code())
            raise RingsideError("service_unavailable", "Another core did not answer; retry the request.")
        if isinstance(answer, BaseException):
            raise answer
        found.append(answer)
    return found


def interleave(lists: Sequence[Sequence[Any]], key: Callable[[Any], Any], limit: int) -> list[Any]:
    """Each core's pending list (its oldest first) → at most `limit` of them, taken from each core
    in turn (so no core's work waits behind another's), an item listed by two cores — its
    partition changing hands — once."""
    seen: set[Any] = set()
    merged: list[Any] = []
    for row in itertools.zip_longest(*lists):
        for item in row:
            if item is None or key(item) in seen:
                continue
            seen.add(key(item))
            merged.append(item)
    return merged[:limit]


def merge_pages(
    pages: Sequence[tuple[Sequence[Any], bool]], key: Callable[[Any], str], limit: int, before: bool
) -> tuple[list[Any], bool]:
    """Each core's page of one list sorted by id, newest (largest) first, with its has_more →
    the page of the union. `before` (an `ending_before` page): the last `limit` items."""
    union = sorted({key(item): item for items, _ in pages for item in items}.items(), reverse=True)
    items = [item for _, item in union]
    more = len(items) > limit or any(more for _, more in pages)
    return (items[-limit:] if before else items[:limit]), more


def merge_cursor_pages(
    pages: Sequence[tuple[Sequence[Any], str, bool]], key: Callable[[Any], str], limit: int
) -> tuple[list[Any], str, bool]:
    """Each core's batch of a walk by ascending id (items, its last id, has_more) → the merged
    batch, its last id and has_more. Only what every core has walked past is complete: the cut is
    the smallest last id of a core with more, and items beyond it (some core may list smaller ones
    next time) are left for the next call, which starts after the cut."""
    cut = min((last for _, last, more in pages if more), default=None)
    union = sorted({key(item): item for items, _, _ in pages for item in items}.items())
    kept = [item for item_key, item in union if cut is None or item_key <= cut]
    more = cut is not None
    if len(kept) > limit:
        kept, more = kept[:limit], True
    last = key(kept[-1]) if kept else (cut or max((last for _, last, _ in pages), default=""))
    return kept, last, more


def merge_live(mine: Any, others: Sequence[Any], partitions: int) -> Any:
    """Every core's LiveRagObjects answer → one: an id live when any core says so; refused (503)
    unless the answering cores together served every partition when they answered."""
    covered = set(mine.served_partitions)
    for other in others:
        covered.update(other.served_partitions)
    if len(covered & set(range(partitions))) < partitions:
        raise RingsideError("service_unavailable", "A partition is changing hands; the check is refused, retry later.")
    merged = type(mine)()
    merged.file_ids.extend(sorted({i for a in (mine, *others) for i in a.file_ids}))
    merged.store_ids.extend(sorted({i for a in (mine, *others) for i in a.store_ids}))
    merged.sha256s.extend(sorted({i for a in (mine, *others) for i in a.sha256s}))
    pairs = sorted({(p.store_id, p.file_id) for a in (mine, *others) for p in a.attachments})
    for store_id, file_id in pairs:
        merged.attachments.add(store_id=store_id, file_id=file_id)
    return merged
