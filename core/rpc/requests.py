"""RequestsService."""

from __future__ import annotations

from core.domain.requests import RequestLogEntry, RequestQuery, RequestRow
from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.services import requests
from ringside.core.v1 import common_pb2, requests_pb2, requests_pb2_grpc


def row_to(row: RequestRow) -> requests_pb2.RequestRow:
    return requests_pb2.RequestRow(
        request_id=row.request_id,
        customer_id=row.customer_id or "",
        route=row.route,
        model=row.model,
        resolved_model=row.resolved_model,
        status=row.status,
        error_code=row.error_code,
        usage=common_pb2.TokenCounts(input_tokens=row.input_tokens, output_tokens=row.output_tokens),
        cost_nano_usd=row.cost_nano,
        billable_nano_usd=row.billable_nano,
        latency_ms=row.latency_ms,
        settled_by=row.settled_by,
        created=row.created,
    )


def entry_from(given: requests_pb2.RequestEntry) -> tuple[requests.Caller, RequestLogEntry]:
    """An edge's entry: who called (attributed by the core), and the row's fields as sent."""
    caller = requests.Caller(
        given.api_key[:MAX_PROTO_STRING],
        given.client_token[:MAX_PROTO_STRING],
        given.customer_ref[:MAX_PROTO_STRING],
        given.user[:MAX_PROTO_STRING],
        given.customer_id[:64],
        given.key_id[:64],
    )
    entry = RequestLogEntry(
        request_id=given.request_id,
        account_id="",
        livemode=False,
        customer_id=None,
        route=given.route,
        model=given.model,
        resolved_model=given.resolved_model,
        status=given.status,
        error_code=given.error_code,
        latency_ms=given.latency_ms,
        created=given.created,
        created_ms=given.created_ms,
    )
    return caller, entry


class RequestsServicer(Base, requests_pb2_grpc.RequestsServiceServicer):
    @rpc
    async def RecordRequests(
        self, request: requests_pb2.RecordRequestsRequest, context: Context
    ) -> requests_pb2.RecordRequestsResponse:
        self.auth.internal(context)
        kept = await requests.record(self.core, [entry_from(given) for given in request.entries])
        return requests_pb2.RecordRequestsResponse(recorded=kept)

    @rpc
    async def ListRequests(
        self, request: requests_pb2.ListRequestsRequest, context: Context
    ) -> requests_pb2.ListRequestsResponse:
        query = RequestQuery(
            customer_id=None,
            model=request.model,
            status=request.status,
            since=max(0, request.since),
            until=max(0, request.until),
            limit=request.page.limit,
            starting_after=request.page.starting_after,
            ending_before=request.page.ending_before,
        )
        rows, has_more = await requests.list_requests(
            self.core, self.auth.principal(context), request.customer_ref[:MAX_PROTO_STRING], query
        )
        return requests_pb2.ListRequestsResponse(requests=[row_to(row) for row in rows], has_more=has_more)

    @rpc
    async def GetRequest(
        self, request: requests_pb2.GetRequestRequest, context: Context
    ) -> requests_pb2.GetRequestResponse:
        row = await requests.get_request(self.core, self.auth.principal(context), request.request_id)
        return requests_pb2.GetRequestResponse(request=row_to(row))
