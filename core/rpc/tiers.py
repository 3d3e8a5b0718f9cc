"""TiersService."""

from __future__ import annotations

from core.domain.entities import Tier
from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.rpc.convert import model_list_from
from core.services import tiers
from core.services.tiers import TierFields
from ringside.core.v1 import common_pb2, tiers_pb2, tiers_pb2_grpc
from ringside_server.errors import RingsideError

FIELDS = ("name", "budget_nano", "rate_limit_rpm", "rate_limit_tpm", "markup_bp", "allowed_models")


def tier_to(tier: Tier) -> tiers_pb2.Tier:
    message = tiers_pb2.Tier(id=tier.id, livemode=tier.livemode, name=tier.name, created=tier.created)
    for field, value in (
        ("budget_nano_usd", tier.budget_nano),
        ("rate_limit_rpm", tier.rate_limit_rpm),
        ("rate_limit_tpm", tier.rate_limit_tpm),
        ("markup_bp", tier.markup_bp),
    ):
        if value is not None:
            setattr(message, field, value)
    if tier.allowed_models is not None:
        message.allowed_models.CopyFrom(common_pb2.ModelList(entries=tier.allowed_models))
    return message


def _fields(message: tiers_pb2.TierFields, update: bool) -> TierFields:
    unknown = set(message.fields) - set(FIELDS)
    if unknown:
        raise RingsideError("invalid_request", f"Unknown tier fields: {sorted(unknown)[:5]}.", "fields")

    def optional(name: str) -> int | None:
        return getattr(message, name) if message.HasField(name) else None

    return TierFields(
        name=message.name[:MAX_PROTO_STRING],
        budget_nano=optional("budget_nano_usd"),
        rate_limit_rpm=optional("rate_limit_rpm"),
        rate_limit_tpm=optional("rate_limit_tpm"),
        markup_bp=optional("markup_bp"),
        allowed_models=model_list_from(message.allowed_models) if message.HasField("allowed_models") else None,
        present=frozenset(message.fields) if update else frozenset(FIELDS),
    )


class TiersServicer(Base, tiers_pb2_grpc.TiersServiceServicer):
    @rpc
    async def CreateTier(self, request: tiers_pb2.CreateTierRequest, context: Context) -> tiers_pb2.CreateTierResponse:
        tier = await tiers.create(self.core, self.auth.principal(context), _fields(request.tier, update=False))
        return tiers_pb2.CreateTierResponse(tier=tier_to(tier))

    @rpc
    async def GetTier(self, request: tiers_pb2.GetTierRequest, context: Context) -> tiers_pb2.GetTierResponse:
        tier = tiers.get(self.core, self.auth.principal(context), request.id[:MAX_PROTO_STRING])
        return tiers_pb2.GetTierResponse(tier=tier_to(tier))

    @rpc
    async def ListTiers(self, request: tiers_pb2.ListTiersRequest, context: Context) -> tiers_pb2.ListTiersResponse:
        items, has_more = tiers.list_tiers(
            self.core,
            self.auth.principal(context),
            request.page.limit,
            request.page.starting_after[:200],
            request.page.ending_before[:200],
        )
        return tiers_pb2.ListTiersResponse(tiers=[tier_to(t) for t in items], has_more=has_more)

    @rpc
    async def UpdateTier(self, request: tiers_pb2.UpdateTierRequest, context: Context) -> tiers_pb2.UpdateTierResponse:
        tier = await tiers.update(
            self.core, self.auth.principal(context), request.id[:MAX_PROTO_STRING], _fields(request.tier, update=True)
        )
        return tiers_pb2.UpdateTierResponse(tier=tier_to(tier))

    @rpc
    async def DeleteTier(self, request: tiers_pb2.DeleteTierRequest, context: Context) -> tiers_pb2.DeleteTierResponse:
        tier = await tiers.delete(self.core, self.auth.principal(context), request.id[:MAX_PROTO_STRING])
        return tiers_pb2.DeleteTierResponse(id=tier.id)
