"""The rag role's holds (issue 16's metering, issue 25's takeovers): every metered call it makes —
an ingest attempt's embedding, a migration's batch, a media read — is admitted as a call of the
attaching key (the migrating key) to the store's owner (`authorize_embedding`) and settled with what
it used through a core's takeover (`settle_retried`). One a core still refuses after those retries
is not left to expire at its whole reserve (DECISIONS 25): the hold travels in the attempt's
heartbeat — `(next chunk, hold id, input tokens, upstream model, output tokens, audio input
tokens)`, ids and counts only — and the next attempt settles it at that usage before it admits
anything (`settle_previous`). The hold's id is chosen here and heartbeated before the Authorize is
sent (`AuthorizeRequest.request_id`): an Authorize cut off by a core's death is resent under it by
the routing, and one whose answer never came back is still settled by the next attempt (a hold that
was never placed is `not_found`: nothing to settle)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from ringside.core.v1 import common_pb2, metering_pb2
from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.ids import new_request_id
from ringside_server.metering.settlement import SettleOutcome, price_of, settle_retried
from ringside_server.providers.catalog.load import CatalogModel
from workers.rag_ingest.shared import LeftHold, left_hold


class Refused(Exception):
    """The core refused the call (budget, wallet, block, rate limit): `code` is its denial's."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code


async def authorize_embedding(
    core: CoreClient,
    *,
    key_id: str,
    customer_id: str,
    model: CatalogModel,
    input_tokens_bound: int,
    output_tokens: int = 0,
    hold_id: str = "",
) -> str:
    """A metered call of the rag role admitted (a hold placed) as `key_id`'s, attributed to
    `customer_id`, under `hold_id` (`new_hold_id`; a resent Authorize returns the same hold): its
    hold id. Raises Refused."""
    decision = await core.internal(
        core.metering.Authorize,
        metering_pb2.AuthorizeRequest(
            request_id=hold_id or new_hold_id(),
            key_id=key_id,
            customer_ref=customer_id,
            model_ref=model.ref,
            provider=model.provider,
            price=price_of(model),
            input_tokens_bound=input_tokens_bound,
            requested_output_tokens=output_tokens,
            model_max_output_tokens=model.max_output_tokens,
            choices=1,
        ),
    )
    if not decision.allowed:
        raise Refused(decision.denial.code, decision.denial.message)
    return str(decision.request_id)


def new_hold_id() -> str:
    """The id a hold is placed under, chosen before it is asked for (`req_…`)."""
    return new_request_id()


def resumes_after(details: Sequence[Any]) -> int:
    """The chunks a previous attempt wrote (its heartbeat's; same point ids: idempotent)."""
    return int(details[0]) if details else 0


def heartbeat(next_chunk: int, hold_id: str = "", tokens: int = 0, upstream_model: str = "") -> None:
    """What a retry resumes after, and the attempt's hold with what was embedded under it (none
    once settled)."""
    activity.heartbeat(next_chunk, hold_id, tokens, upstream_model)


async def settle_hold(
    core: CoreClient, hold_id: str, upstream_model: str, usage: common_pb2.TokenCounts, outcome: SettleOutcome
) -> None:
    """Settles a hold with what was used under it, riding out a core away for a few seconds (a
    takeover); raises when the core stays unreachable (the hold is still open)."""
    try:
        await settle_retried(
            core,
            metering_pb2.SettleRequest(request_id=hold_id, usage=usage, outcome=outcome, upstream_model=upstream_model),
        )
    except RingsideError as error:
        if error.code != "not_found":
            raise
        # never placed: its Authorize was cut off before the core wrote it (or was refused)


async def settle_previous(core: CoreClient, details: Sequence[Any]) -> None:
    """A previous attempt's hold (its heartbeat's), settled with what it used under it before this
    attempt admits anything (idempotent: a hold that attempt settled itself is a replay). Raises
    while the core stays unreachable: this attempt is retried."""
    left = left_hold(details)
    if left is not None:
        await settle_left(core, left)


async def settle_left(core: CoreClient, left: LeftHold) -> None:
    """A hold an attempt left open, settled at what was used under it (idempotent); raises while
    the core stays unreachable."""
    usage = common_pb2.TokenCounts(
        input_tokens=left.input_tokens, output_tokens=left.output_tokens, audio_input_tokens=left.audio_input_tokens
    )
    await settle_hold(core, left.hold_id, left.upstream_model, usage, metering_pb2.SETTLE_OUTCOME_FAILED)


def carrying_hold(error: Exception, details: Sequence[Any]) -> Exception:
    """`error`, as the attempt's failure, carrying the hold it leaves open (its heartbeat's
    details): Temporal hands a last attempt's failure to its workflow, which settles that hold
    (`LeftHold`) instead of leaving it to expire at its reserve. None open: `error` itself."""
    if left_hold(details) is None:
        return error
    return ApplicationError(
        str(error),
        *details,
        type=type(error).__name__,
        non_retryable=bool(getattr(error, "non_retryable", False)),
    )


class OpenHold:
    """An attempt's one open hold at a time (a migration's batch, a media read), kept in its
    heartbeat until it is settled. `resume` is the heartbeat's first element, an ingest's next chunk
    (a migration resumes from its index and heartbeats 0)."""

    def __init__(self, core: CoreClient, resume: int = 0) -> None:
        self._core = core
        self.resume = resume
        self.hold_id = ""
        self.upstream_model = ""
        self.usage = common_pb2.TokenCounts()

    def details(self) -> tuple[int, str, int, str, int, int]:
        usage = self.usage
        return (
            self.resume,
            self.hold_id,
            usage.input_tokens,
            self.upstream_model,
            usage.output_tokens,
            usage.audio_input_tokens,
        )

    def beat(self) -> None:
        if activity.in_activity():
            activity.heartbeat(*self.details())

    async def admit(
        self,
        *,
        key_id: str,
        customer_id: str,
        model: CatalogModel,
        input_tokens_bound: int,
        output_tokens: int = 0,
    ) -> None:
        """A new hold, once the one still open is settled (raises while it cannot be). Its id is in
        the heartbeat before it is asked for: an answer cut off leaves it for the next attempt."""
        await self.settle_open()
        self.hold_id, self.upstream_model, self.usage = new_hold_id(), model.name, common_pb2.TokenCounts()
        self.beat()
        try:
            await authorize_embedding(
                self._core,
                key_id=key_id,
                customer_id=customer_id,
                model=model,
                input_tokens_bound=input_tokens_bound,
                output_tokens=output_tokens,
                hold_id=self.hold_id,
            )
        except Refused:
            self.hold_id, self.upstream_model = "", ""  # refused: no hold was placed
            self.beat()
            raise

    def used(self, usage: common_pb2.TokenCounts) -> None:
        """What the call used (known once it answered): what the hold is settled with."""
        self.usage = usage
        self.beat()

    async def settle(self, outcome: SettleOutcome) -> None:
        """Settles the open hold (none: nothing to do); raises while the core stays unreachable,
        the hold still open (and in the heartbeat)."""
        if not self.hold_id:
            return
        await settle_hold(self._core, self.hold_id, self.upstream_model, self.usage, outcome)
        self.hold_id, self.upstream_model, self.usage = "", "", common_pb2.TokenCounts()
        self.beat()

    async def settle_open(self) -> None:
        """A hold a settle could not record before (its call ran: at what it used)."""
        await self.settle(metering_pb2.SETTLE_OUTCOME_COMPLETED)

    async def settle_leaving(self, outcome: SettleOutcome) -> None:
        """On the way out of a call: one the core could not record stays open, for the next try or
        the next attempt."""
        with contextlib.suppress(RingsideError):
            await self.settle(outcome)


class IngestHolds:
    def __init__(self, core: CoreClient) -> None:
        self._core = core

    async def admit(
        self, attached: pb.StoreFile, store: pb.VectorStore, model: CatalogModel, bound: int, hold_id: str
    ) -> str:
        """The embedding admitted as a call of the attaching key, attributed to the store's owner,
        under `hold_id` (heartbeated before: `new_hold_id`): its hold id. Raises Refused."""
        return await authorize_embedding(
            self._core,
            key_id=attached.key_id,
            customer_id=store.customer_id,
            model=model,
            input_tokens_bound=bound,
            hold_id=hold_id,
        )

    async def settle(self, hold_id: str, upstream_model: str, tokens: int, outcome: SettleOutcome) -> None:
        """Settles a hold with what was embedded under it (`settle_hold`)."""
        await settle_hold(self._core, hold_id, upstream_model, common_pb2.TokenCounts(input_tokens=tokens), outcome)

    async def settle_leaving(self, hold_id: str, model: CatalogModel, tokens: int, outcome: SettleOutcome) -> None:
        """Settles the hold of an attempt on its way out; one the core could not record stays in the
        heartbeat for the next attempt (or, with none, expires)."""
        with contextlib.suppress(RingsideError):
            await self.settle(hold_id, model.name, tokens, outcome)

    async def settle_previous(self, details: Sequence[Any]) -> None:
        """A previous attempt's hold, settled before this attempt admits its own (`settle_previous`)."""
        await settle_previous(self._core, details)
