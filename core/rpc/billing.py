"""BillingService: closed periods, Stripe settings, the Stripe sync's plan/commit and its runs."""

from __future__ import annotations

from core.domain.billing import PeriodRecord, StripeSettings, SyncRun, redact
from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.rpc.fanout import ask_peers, local_only, merge_cursor_pages
from core.services import periods, stripe_sync
from core.services.stripe_sync import Outcome
from ringside.core.v1 import billing_pb2, billing_pb2_grpc

MAX_CURSOR = 200
CLOSE_PERIODS = "/ringside.core.v1.BillingService/ClosePeriods"
PLAN_STRIPE_SYNC = "/ringside.core.v1.BillingService/PlanStripeSync"
COMMIT_STRIPE_SYNC = "/ringside.core.v1.BillingService/CommitStripeSync"


def period_to(p: PeriodRecord) -> billing_pb2.Period:
    return billing_pb2.Period(
        id=p.id,
        customer_id=p.customer_id,
        livemode=p.livemode,
        period_start=p.period_start,
        period_end=p.period_end,
        cost_nano_usd=p.cost_nano,
        billable_nano_usd=p.billable_nano,
        request_count=p.request_count,
        input_tokens=p.input_tokens,
        output_tokens=p.output_tokens,
        closed_at=p.closed_at,
    )


def settings_to(s: StripeSettings) -> billing_pb2.StripeSettings:
    return billing_pb2.StripeSettings(
        secret_key=redact(s.secret_key),
        meter_event_name=s.meter_event_name,
        value=s.value_kind,
        updated=s.updated,
        livemode=s.livemode,
    )


def run_to(r: SyncRun) -> billing_pb2.StripeSync:
    return billing_pb2.StripeSync(
        id=r.id,
        run_id=r.run_id,
        status=r.status,
        events_pushed=r.events_pushed,
        units_pushed=r.units_pushed,
        duplicates=r.duplicates,
        failed=r.failed,
        errors_json=r.errors_json,
        started=r.started,
        finished=r.finished,
        livemode=r.livemode,
    )


class BillingServicer(Base, billing_pb2_grpc.BillingServiceServicer):
    @rpc
    async def ClosePeriods(
        self, request: billing_pb2.ClosePeriodsRequest, context: Context
    ) -> billing_pb2.ClosePeriodsResponse:
        self.auth.internal(context)
        result = await periods.close_periods(self.core, request.limit)
        answer = billing_pb2.ClosePeriodsResponse(
            closed=result.closed, waiting=result.waiting, has_more=result.has_more
        )
        if not local_only(self.core, context):  # several active cores: each closes its own accounts'
            others = await ask_peers(
                self.core, context, CLOSE_PERIODS, request, billing_pb2.ClosePeriodsResponse.FromString
            )
            for other in others:
                answer.closed += other.closed
                answer.waiting += other.waiting
                answer.has_more = answer.has_more or other.has_more
        return answer

    @rpc
    async def ListPeriods(
        self, request: billing_pb2.ListPeriodsRequest, context: Context
    ) -> billing_pb2.ListPeriodsResponse:
        items, has_more = await periods.list_periods(
            self.core,
            self.auth.principal(context),
            request.customer_id[:MAX_PROTO_STRING],
            request.page.limit,
            request.page.starting_after[:MAX_CURSOR],
            request.page.ending_before[:MAX_CURSOR],
        )
        return billing_pb2.ListPeriodsResponse(periods=[period_to(p) for p in items], has_more=has_more)

    @rpc
    async def PutStripeSettings(
        self, request: billing_pb2.PutStripeSettingsRequest, context: Context
    ) -> billing_pb2.PutStripeSettingsResponse:
        given = request.settings
        settings = await stripe_sync.put_settings(
            self.core,
            self.auth.principal(context),
            given.secret_key[:MAX_PROTO_STRING],
            given.meter_event_name[:MAX_PROTO_STRING],
            given.value[:MAX_PROTO_STRING],
        )
        return billing_pb2.PutStripeSettingsResponse(settings=settings_to(settings))

    @rpc
    async def GetStripeSettings(
        self, request: billing_pb2.GetStripeSettingsRequest, context: Context
    ) -> billing_pb2.GetStripeSettingsResponse:
        settings = await stripe_sync.get_settings(self.core, self.auth.principal(context))
        return billing_pb2.GetStripeSettingsResponse(settings=settings_to(settings))

    @rpc
    async def PlanStripeSync(
        self, request: billing_pb2.PlanStripeSyncRequest, context: Context
    ) -> billing_pb2.PlanStripeSyncResponse:
        self.auth.internal(context)
        pushes, last, has_more = await stripe_sync.plan(
            self.core, request.run_id, request.after_customer_id[:MAX_CURSOR], request.limit
        )
        answer = billing_pb2.PlanStripeSyncResponse(
            pushes=[
                billing_pb2.StripePush(
                    customer_id=p.customer.id,
                    stripe_customer_id=p.customer.stripe_customer_id,
                    identifier=p.cursor.pending_identifier,
                    value=p.cursor.pending_units,
                    timestamp=p.cursor.pending_at,
                    event_name=p.settings.meter_event_name,
                    secret_key=p.settings.secret_key,
                    account_id=p.customer.account_id,
                    livemode=p.customer.livemode,
                )
                for p in pushes
            ],
            last_customer_id=last,
            has_more=has_more,
        )
        if local_only(self.core, context):
            return answer
        # Several active cores: each plans its own customers after the cursor; the merged batch
        # stops where every core has planned (a push planned beyond it is planned again, the same
        # one — its identifier kept — by the next batch).
        others = await ask_peers(
            self.core, context, PLAN_STRIPE_SYNC, request, billing_pb2.PlanStripeSyncResponse.FromString
        )
        pages = [(list(a.pushes), a.last_customer_id, a.has_more) for a in (answer, *others)]
        merged, last, more = merge_cursor_pages(pages, lambda p: p.customer_id, request.limit)
        return billing_pb2.PlanStripeSyncResponse(pushes=merged, last_customer_id=last, has_more=more)

    @rpc
    async def CommitStripeSync(
        self, request: billing_pb2.CommitStripeSyncRequest, context: Context
    ) -> billing_pb2.CommitStripeSyncResponse:
        self.auth.internal(context)
        outcomes = [
            Outcome(
                o.customer_id[:MAX_CURSOR], o.identifier[:MAX_CURSOR], o.outcome[:20], o.code[:100], o.message[:500]
            )
            for o in request.outcomes
        ]
        committed = await stripe_sync.commit(self.core, request.run_id, outcomes, request.finish)
        if not local_only(self.core, context):  # several active cores: each commits its customers'
            others = await ask_peers(
                self.core, context, COMMIT_STRIPE_SYNC, request, billing_pb2.CommitStripeSyncResponse.FromString
            )
            committed += sum(other.committed for other in others)
        return billing_pb2.CommitStripeSyncResponse(committed=committed)

    @rpc
    async def ListStripeSyncs(
        self, request: billing_pb2.ListStripeSyncsRequest, context: Context
    ) -> billing_pb2.ListStripeSyncsResponse:
        runs, has_more, lag, failing = await stripe_sync.list_syncs(
            self.core,
            self.auth.principal(context),
            request.page.limit,
            request.page.starting_after[:MAX_CURSOR],
            request.page.ending_before[:MAX_CURSOR],
        )
        return billing_pb2.ListStripeSyncsResponse(
            syncs=[run_to(r) for r in runs], has_more=has_more, lag_seconds=lag, failing_customers=failing
        )
