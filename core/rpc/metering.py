"""MeteringService: the per-call path (Authorize, Settle) and leases."""

from __future__ import annotations

import asyncio
import logging
import math
import re

from core.domain import governance
from core.domain.calls import CallRequest
from core.domain.entities import Denial, LeaseAdmission, Outcome
from core.domain.ratelimit import Status
from core.domain.requests import MAX_ENTRIES
from core.domain.settlement import FinishedCall
from core.rpc.auth import Authenticator
from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.rpc.requests import entry_from
from core.services import leases, metering
from core.services.core import Core
from core.services.ownership import NotOwner, route_hold
from core.store.partition_fence import PartitionFenced
from ringside.core.v1 import common_pb2, metering_pb2, metering_pb2_grpc
from ringside_server.core_routing import NOT_OWNER_CODE
from ringside_server.errors import RingsideError
from ringside_server.money_proto import estimate_price_from, price_from, usage_from

REQUEST_ID = re.compile(r"^req_[0-9A-Za-z]{8,60}$")
LEASE_ID = re.compile(r"^lse_[0-9A-Za-z]{8,60}$")
MAX_REPORTS_PER_CALL = 200  # SettleLeaseReports: leases per call
log = logging.getLogger("ringside.core")

_OUTCOMES: dict[int, Outcome] = {
    metering_pb2.SETTLE_OUTCOME_COMPLETED: "completed",
    metering_pb2.SETTLE_OUTCOME_ABORTED: "aborted",
    metering_pb2.SETTLE_OUTCOME_FAILED: "failed",
}


def _call_request(call: metering_pb2.AuthorizeRequest) -> CallRequest:
    return CallRequest(
        api_key=call.api_key,
        customer_ref=call.customer_ref[:MAX_PROTO_STRING],
        user=call.user[:MAX_PROTO_STRING],
        model_ref=call.model_ref[:MAX_PROTO_STRING],
        provider=call.provider[:MAX_PROTO_STRING],
        price=price_from(call.price),
        input_tokens_bound=max(0, call.input_tokens_bound),
        requested_output_tokens=max(0, call.requested_output_tokens),
        model_max_output_tokens=max(0, call.model_max_output_tokens),
        choices=max(1, call.choices),
        client_ip=call.client_ip[:64],
        client_token_id=call.client_token_id[:64],
        client_token_rpm=max(0, call.client_token_rpm),
        client_token=call.client_token[:10_000],
        estimate_price=estimate_price_from(call),
        key_id=call.key_id[:64],
        request_id=call.request_id[:64] if REQUEST_ID.match(call.request_id) else "",
    )


def _denial(denial: Denial) -> metering_pb2.Denial:
    return metering_pb2.Denial(
        code=denial.code,
        message=denial.message,
        param=denial.param or "",
        retry_after_seconds=denial.retry_after_seconds,
        should_retry=denial.should_retry,
        retry_after_ms=denial.retry_after_ms,
    )


def _rate_status(status: Status) -> metering_pb2.RateLimitStatus:
    return metering_pb2.RateLimitStatus(
        requests_limit=status.requests_limit or 0,
        requests_remaining=status.requests_remaining,
        requests_reset_ms=math.ceil(status.requests_reset_s * 1000),
        tokens_limit=status.tokens_limit or 0,
        tokens_remaining=status.tokens_remaining,
        tokens_reset_ms=math.ceil(status.tokens_reset_s * 1000),
    )


def _finished_call(call: metering_pb2.LeaseCall) -> FinishedCall:
    outcome = _OUTCOMES.get(call.outcome)
    if outcome is None:
        raise RingsideError("invalid_request", "every call needs an outcome.", "calls")
    return FinishedCall(
        request_id=call.request_id[:64],
        model_ref=call.model_ref[:300],
        provider=call.provider[:100],
        price=price_from(call.price),
        estimate_nano=max(0, call.estimate_nano_usd),
        usage=usage_from(call.usage),
        status=outcome,
        usage_estimated=call.usage_estimated,
        upstream_model=call.upstream_model[:300],
    )


def _model_policy(core: Core, request: metering_pb2.ModelPolicyRequest) -> metering_pb2.ModelPolicyResponse:
    if core.ownership.serving is not None:  # another core's key: "not owner", never "every model"
        if request.key_id:
            core.meter.key_by_id(request.key_id[:64])
        elif request.api_key:
            core.meter.authenticate(request.api_key)
    lists = governance.caller_lists(
        core.state,
        request.api_key,
        request.client_token[:10_000],
        request.customer_ref[:MAX_PROTO_STRING],
        request.user[:MAX_PROTO_STRING],
        core.clock(),
        request.key_only,
        request.key_id[:64],
    )
    return metering_pb2.ModelPolicyResponse(lists=[common_pb2.ModelList(entries=entries) for entries in lists])


def _policy_or_none(core: Core, request: metering_pb2.ModelPolicyRequest) -> metering_pb2.ModelPolicyResponse | None:
    """ModelPolicy's answer for a grant or a report to carry (the edge then asks no ModelPolicy of
    its own); None when it cannot be read here: the edge asks ModelPolicy, which says why."""
    try:
        return _model_policy(core, request)
    except RingsideError:
        return None


def _policy_request(call: metering_pb2.AuthorizeRequest) -> metering_pb2.ModelPolicyRequest:
    """The ModelPolicy question of the caller of `call` (as the edge asks it before admitting one)."""
    return metering_pb2.ModelPolicyRequest(
        api_key=call.api_key,
        client_token=call.client_token,
        customer_ref=call.customer_ref,
        user=call.user,
        key_id=call.key_id,
    )


class LeasesServicerMixin:
    core: Core
    auth: Authenticator

    @rpc
    async def AcquireLease(
        self, request: metering_pb2.AcquireLeaseRequest, context: Context
    ) -> metering_pb2.AcquireLeaseResponse:
        self.auth.internal(context)
        return await self._grant(request)

    async def _grant(self, request: metering_pb2.AcquireLeaseRequest) -> metering_pb2.AcquireLeaseResponse:
        if request.lease_id and not LEASE_ID.match(request.lease_id):
            raise RingsideError("invalid_request", "lease_id must be lse_ and 8 to 60 letters or digits.", "lease_id")
        decision = await leases.acquire_lease(self.core, _call_request(request.call), request.calls, request.lease_id)
        if decision is None:
            return metering_pb2.AcquireLeaseResponse(granted=False)
        if isinstance(decision, Denial):
            return metering_pb2.AcquireLeaseResponse(granted=False, denial=_denial(decision))
        lease = decision.hold
        account = self.core.state.accounts[lease.account_id]
        policy = _policy_or_none(self.core, _policy_request(request.call))
        return metering_pb2.AcquireLeaseResponse(
            granted=True,
            lease_id=lease.id,
            amount_nano_usd=lease.amount_nano,
            account_id=lease.account_id,
            livemode=lease.livemode,
            customer_id=lease.customer_id or "",
            markup_bp=lease.markup_bp,
            default_max_output_tokens=account.default_max_output_tokens or 0,
            expires_at=lease.expires_at,
            rate_limits=_rate_status(decision.rate_status),
            calls=decision.lease_calls,
            tokens=decision.lease_tokens,
            admit_for_ms=math.floor(self.core.meter.lease_window_s * 1000),
            policy=policy,
        )

    @rpc
    async def SettleLeaseCalls(
        self, request: metering_pb2.SettleLeaseCallsRequest, context: Context
    ) -> metering_pb2.SettleLeaseCallsResponse:
        self.auth.internal(context)
        return await self._settle_report(request)

    @rpc
    async def SettleLeaseReports(
        self, request: metering_pb2.SettleLeaseReportsRequest, context: Context
    ) -> metering_pb2.SettleLeaseReportsResponse:
        self.auth.internal(context)
        if len(request.reports) > MAX_REPORTS_PER_CALL:
            raise RingsideError("invalid_request", f"At most {MAX_REPORTS_PER_CALL} reports per call.", "reports")
        if len({report.lease_id for report in request.reports}) < len(request.reports):
            raise RingsideError("invalid_request", "One report per lease in a call.", "reports")
        # Side by side, as the edge's rounds sent them before: their writes share group commits.
        results = await asyncio.gather(*(self._settle_one(report) for report in request.reports))
        return metering_pb2.SettleLeaseReportsResponse(results=results)

    async def _settle_one(self, report: metering_pb2.SettleLeaseCallsRequest) -> metering_pb2.LeaseReportResult:
        """One report of a SettleLeaseReports call, answered on its own: its failure fails no other."""
        try:
            load = self.core.customer_load
            if load is not None and not load.finished:  # a lazy start: this lease's customer first
                await load.before("SettleLeaseCalls", report)
            return metering_pb2.LeaseReportResult(answer=await self._settle_report(report))
        except (NotOwner, PartitionFenced) as error:  # the edge sends it alone, routed to its owner
            return metering_pb2.LeaseReportResult(error_code=NOT_OWNER_CODE, error_message=error.message)
        except RingsideError as error:
            return metering_pb2.LeaseReportResult(error_code=error.code, error_message=error.message)
        except Exception:
            log.exception("lease report %s failed", report.lease_id[:64])
            return metering_pb2.LeaseReportResult(error_code="internal_error", error_message="The report failed.")

    async def _settle_report(
        self, request: metering_pb2.SettleLeaseCallsRequest
    ) -> metering_pb2.SettleLeaseCallsResponse:
        lease_id = request.lease_id[:64]
        route_hold(self.core.ownership, self.core.engine, self.core.state.holds.get(lease_id), lease_id)
        calls = [_finished_call(call) for call in request.calls[: leases.MAX_LEASE_CALLS_PER_REPORT + 1]]
        now = self.core.now()
        admitted = [
            LeaseAdmission(
                request_id=call.request_id[:64],
                lease_id=lease_id,
                model_ref=call.model_ref[:300],
                provider=call.provider[:100],
                estimate_nano=max(0, call.estimate_nano_usd),
                created=int(now),
            )
            for call in request.admitted[: leases.MAX_LEASE_CALLS_PER_REPORT + 1]
        ]
        entries = [entry_from(given) for given in request.entries[: MAX_ENTRIES + 1]]
        api_key_valid = bool(request.confirm_api_key) and leases.key_authenticates(
            self.core, request.confirm_api_key[:MAX_PROTO_STRING]
        )
        recorded, closed, entries_recorded = await leases.settle_lease_calls(
            self.core, lease_id, calls, request.close, admitted, request.retired, entries
        )
        response = metering_pb2.SettleLeaseCallsResponse(
            recorded=recorded, closed=closed, entries_recorded=entries_recorded, api_key_valid=api_key_valid
        )
        if request.HasField("successor"):
            # after the report is recorded: the successor is decided on the room the report left
            try:
                if not request.successor.lease_id:  # a report may be sent twice: only an id makes that safe
                    raise RingsideError("invalid_request", "A successor needs its lease_id.", "successor.lease_id")
                response.successor.CopyFrom(await self._grant(request.successor))
            except RingsideError:
                response.successor.granted = False  # the report stands; the edge asks AcquireLease
        if request.HasField("policy"):
            policy = _policy_or_none(self.core, request.policy)
            if policy is not None:
                response.policy.CopyFrom(policy)
        return response


class MeteringServicer(LeasesServicerMixin, Base, metering_pb2_grpc.MeteringServiceServicer):
    @rpc
    async def Authorize(
        self, request: metering_pb2.AuthorizeRequest, context: Context
    ) -> metering_pb2.AuthorizeResponse:
        self.auth.internal(context)
        decision = await metering.authorize(self.core, _call_request(request))
        if isinstance(decision, Denial):
            return metering_pb2.AuthorizeResponse(allowed=False, denial=_denial(decision))
        hold = decision.hold
        response = metering_pb2.AuthorizeResponse(
            allowed=True,
            request_id=hold.id,
            account_id=hold.account_id,
            livemode=hold.livemode,
            customer_id=hold.customer_id or "",
            hold_nano_usd=hold.amount_nano,
            max_output_tokens=decision.max_output_tokens,
            output_limited=decision.output_limited,
            hold_expires_at=hold.expires_at,
            rate_limits=_rate_status(decision.rate_status),
        )
        if decision.customer is not None and decision.customer.wallet_enabled:
            response.wallet_balance_nano_usd = decision.customer.wallet_balance_nano
        return response

    @rpc
    async def Settle(self, request: metering_pb2.SettleRequest, context: Context) -> metering_pb2.SettleResponse:
        self.auth.internal(context)
        hold_id = request.request_id[:64]
        route_hold(self.core.ownership, self.core.engine, self.core.state.holds.get(hold_id), hold_id)
        outcome = _OUTCOMES.get(request.outcome)
        if outcome is None:
            raise RingsideError("invalid_request", "outcome is required.", "outcome")
        result = await metering.settle(
            self.core,
            metering.SettleCall(
                request.request_id,
                usage_from(request.usage),
                outcome,
                request.usage_estimated,
                request.upstream_model[:300],
            ),
        )
        response = metering_pb2.SettleResponse(
            cost_nano_usd=result.cost_nano,
            billable_nano_usd=result.billable_nano,
            posted_nano_usd=result.posted_nano,
            unbilled_nano_usd=result.unbilled_nano,
            replayed=result.replayed,
            late=result.late,
        )
        if result.wallet_balance_nano is not None:
            response.wallet_balance_nano_usd = result.wallet_balance_nano
        return response

    @rpc
    async def CountRequest(
        self, request: metering_pb2.CountRequestRequest, context: Context
    ) -> metering_pb2.CountRequestResponse:
        self.auth.internal(context)
        counted_as = self.auth.counted_as(request.authorization[:10_000])
        customer_ref = request.customer_ref[:MAX_PROTO_STRING] if request.customer_rpm else None
        if request.request_id and not REQUEST_ID.match(request.request_id):
            raise RingsideError(
                "invalid_request", "request_id must be req_ and 8 to 60 letters or digits.", "request_id"
            )
        decision = await metering.count_request(
            self.core, counted_as, request.client_ip[:64], customer_ref, request.request_id
        )
        if isinstance(decision, Denial):
            return metering_pb2.CountRequestResponse(denial=_denial(decision))
        return metering_pb2.CountRequestResponse(rate_limits=_rate_status(decision))

    @rpc
    async def LendIpBlock(
        self, request: metering_pb2.LendIpBlockRequest, context: Context
    ) -> metering_pb2.LendIpBlockResponse:
        self.auth.internal(context)
        if self.core.ip_blocks is None:
            raise RingsideError("invalid_request", "This core lends no IP blocks (one active core, or no IP limit).")
        answer: metering_pb2.LendIpBlockResponse = await self.core.ip_blocks.lend(request)
        return answer

    @rpc
    async def ModelPolicy(
        self, request: metering_pb2.ModelPolicyRequest, context: Context
    ) -> metering_pb2.ModelPolicyResponse:
        self.auth.internal(context)
        return _model_policy(self.core, request)

    @rpc
    async def ExtendHold(
        self, request: metering_pb2.ExtendHoldRequest, context: Context
    ) -> metering_pb2.ExtendHoldResponse:
        self.auth.internal(context)
        hold_id = request.request_id[:64]
        route_hold(self.core.ownership, self.core.engine, self.core.state.holds.get(hold_id), hold_id)
        return metering_pb2.ExtendHoldResponse(hold_expires_at=await metering.extend(self.core, request.request_id))
