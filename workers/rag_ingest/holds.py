"""An ingest attempt's hold (issue 16's metering, issue 25's takeovers): admitted as a call of the
attaching key to the store's owner, settled with the tokens embedded under it — through a core's
takeover (`settle_retried`), and by the next attempt when this one could not (the hold travels in
the attempt's heartbeat: `(next chunk, hold id, tokens, upstream model)`). Left open, a hold would
be posted at its whole reserve when it expires, after the next attempt paid for the rest again."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from temporalio import activity

from ringside.core.v1 import common_pb2, metering_pb2
from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.metering.settlement import SettleOutcome, price_of, settle_retried
from ringside_server.providers.catalog.load import CatalogModel


class Refused(Exception):
    """The core refused the embedding (budget, wallet, block, rate limit): the message says why."""


def resumes_after(details: Sequence[Any]) -> int:
    """The chunks a previous attempt wrote (its heartbeat's; same point ids: idempotent)."""
    return int(details[0]) if details else 0


def heartbeat(next_chunk: int, hold_id: str = "", tokens: int = 0, upstream_model: str = "") -> None:
    """What a retry resumes after, and the attempt's hold with what was embedded under it (none
    once settled)."""
    activity.heartbeat(next_chunk, hold_id, tokens, upstream_model)


class IngestHolds:
    def __init__(self, core: CoreClient) -> None:
        self._core = core

    async def admit(self, attached: pb.StoreFile, store: pb.VectorStore, model: CatalogModel, bound: int) -> str:
        """The embedding admitted as a call of the attaching key, attributed to the store's owner:
        its hold id. Raises Refused."""
        decision = await self._core.internal(
            self._core.metering.Authorize,
            metering_pb2.AuthorizeRequest(
                key_id=attached.key_id,
                customer_ref=store.customer_id,
                model_ref=model.ref,
                provider=model.provider,
                price=price_of(model),
                input_tokens_bound=bound,
                model_max_output_tokens=model.max_output_tokens,
                choices=1,
            ),
        )
        if not decision.allowed:
            refusal = decision.denial
            raise Refused(f"The embedding was refused: {refusal.message} ({refusal.code})")
        return decision.request_id

    async def settle(self, hold_id: str, upstream_model: str, tokens: int, outcome: SettleOutcome) -> None:
        """Settles a hold with what was embedded under it, riding out a core away for a few seconds
        (a takeover); raises when the core stays unreachable (the hold is still open)."""
        await settle_retried(
            self._core,
            metering_pb2.SettleRequest(
                request_id=hold_id,
                usage=common_pb2.TokenCounts(input_tokens=tokens),
                outcome=outcome,
                upstream_model=upstream_model,
            ),
        )

    async def settle_leaving(self, hold_id: str, model: CatalogModel, tokens: int, outcome: SettleOutcome) -> None:
        """Settles the hold of an attempt on its way out; one the core could not record stays in the
        heartbeat for the next attempt (or, with none, expires)."""
        with contextlib.suppress(RingsideError):
            await self.settle(hold_id, model.name, tokens, outcome)

    async def settle_previous(self, details: Sequence[Any]) -> None:
        """A previous attempt's hold, settled with the tokens it embedded under it before this attempt
        admits its own (idempotent: a hold that attempt settled itself is a replay). Raises while the
        core stays unreachable: this attempt is retried."""
        if len(details) >= 4 and details[1]:
            await self.settle(str(details[1]), str(details[3]), int(details[2]), metering_pb2.SETTLE_OUTCOME_FAILED)
