"""SlotsService."""

from __future__ import annotations

from core.domain.entities import Slot
from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.services import slots
from ringside.core.v1 import slots_pb2, slots_pb2_grpc


def slot_to(slot: Slot) -> slots_pb2.Slot:
    return slots_pb2.Slot(id=slot.id, livemode=slot.livemode, name=slot.name, model=slot.model, created=slot.created)


class SlotsServicer(Base, slots_pb2_grpc.SlotsServiceServicer):
    @rpc
    async def CreateSlot(self, request: slots_pb2.CreateSlotRequest, context: Context) -> slots_pb2.CreateSlotResponse:
        slot = await slots.create(
            self.core, self.auth.principal(context), request.name[:MAX_PROTO_STRING], request.model[:MAX_PROTO_STRING]
        )
        return slots_pb2.CreateSlotResponse(slot=slot_to(slot))

    @rpc
    async def ListSlots(self, request: slots_pb2.ListSlotsRequest, context: Context) -> slots_pb2.ListSlotsResponse:
        items, has_more = slots.list_slots(
            self.core,
            self.auth.principal(context),
            request.page.limit,
            request.page.starting_after[:200],
            request.page.ending_before[:200],
        )
        return slots_pb2.ListSlotsResponse(slots=[slot_to(s) for s in items], has_more=has_more)

    @rpc
    async def DeleteSlot(self, request: slots_pb2.DeleteSlotRequest, context: Context) -> slots_pb2.DeleteSlotResponse:
        slot = await slots.delete(self.core, self.auth.principal(context), request.id[:MAX_PROTO_STRING])
        return slots_pb2.DeleteSlotResponse(id=slot.id)

    @rpc
    async def ResolveSlot(
        self, request: slots_pb2.ResolveSlotRequest, context: Context
    ) -> slots_pb2.ResolveSlotResponse:
        self.auth.internal(context)
        model, bare_provider = slots.resolve(self.core, request.api_key, request.name[:200], request.key_id[:64])
        return slots_pb2.ResolveSlotResponse(model=model, bare_model_provider=bare_provider)
