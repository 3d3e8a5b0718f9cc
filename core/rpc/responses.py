"""ResponsesService."""

from __future__ import annotations

from core.domain.responses import StoredResponse
from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.services import responses
from ringside.core.v1 import responses_pb2, responses_pb2_grpc


def stored_to(response: StoredResponse) -> responses_pb2.StoredResponse:
    return responses_pb2.StoredResponse(
        id=response.id,
        customer_id=response.customer_id,
        response_json=response.response_json,
        input_json=response.input_json,
        previous_response_id=response.previous_response_id,
        created=response.created,
    )


class ResponsesServicer(Base, responses_pb2_grpc.ResponsesServiceServicer):
    @rpc
    async def StoreResponse(
        self, request: responses_pb2.StoreResponseRequest, context: Context
    ) -> responses_pb2.StoreResponseResponse:
        given = request.response
        response = StoredResponse(
            id=given.id,
            account_id="",
            livemode=False,
            customer_id="",
            previous_response_id=given.previous_response_id,
            response_json=given.response_json,
            input_json=given.input_json,
            created=given.created,
        )
        await responses.keep(
            self.core,
            self.auth.principal(context),
            response,
            request.customer_ref[:MAX_PROTO_STRING],
            request.user[:MAX_PROTO_STRING],
        )
        return responses_pb2.StoreResponseResponse()

    @rpc
    async def GetResponse(
        self, request: responses_pb2.GetResponseRequest, context: Context
    ) -> responses_pb2.GetResponseResponse:
        found, chain = await responses.get(
            self.core,
            self.auth.principal(context),
            request.id,
            request.customer_ref[:MAX_PROTO_STRING],
            request.with_chain,
        )
        return responses_pb2.GetResponseResponse(response=stored_to(found), chain=[stored_to(r) for r in chain])

    @rpc
    async def DeleteResponse(
        self, request: responses_pb2.DeleteResponseRequest, context: Context
    ) -> responses_pb2.DeleteResponseResponse:
        deleted = await responses.delete(
            self.core, self.auth.principal(context), request.id, request.customer_ref[:MAX_PROTO_STRING]
        )
        return responses_pb2.DeleteResponseResponse(id=deleted)
