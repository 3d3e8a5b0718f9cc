"""UsageService."""

from __future__ import annotations

from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.services import usage
from ringside.core.v1 import usage_pb2, usage_pb2_grpc


def _usage_totals(totals: usage.Totals) -> usage_pb2.UsageTotals:
    return usage_pb2.UsageTotals(
        cost_nano_usd=totals.cost_nano,
        billable_nano_usd=totals.billable_nano,
        request_count=totals.request_count,
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
    )


class UsageServicer(Base, usage_pb2_grpc.UsageServiceServicer):
    @rpc
    async def GetUsage(self, request: usage_pb2.GetUsageRequest, context: Context) -> usage_pb2.GetUsageResponse:
        report = await usage.get_usage(
            self.core,
            self.auth.principal(context),
            request.customer_ref[:MAX_PROTO_STRING],
            max(0, request.since),
            max(0, request.until),
            request.group_by[:20],
            request.limit,
            request.starting_after,
            request.order_by[:20],
            request.order[:10],
        )
        return usage_pb2.GetUsageResponse(
            totals=_usage_totals(report.totals),
            groups=[usage_pb2.UsageGroup(key=key, totals=_usage_totals(totals)) for key, totals in report.groups],
            has_more=report.has_more,
            since=report.since,
            until=report.until,
        )
