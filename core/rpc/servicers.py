"""One thin servicer per service: authenticate, convert, call the service, convert back.

Every RingsideError becomes a gRPC status with the API code in trailing metadata (errors.abort).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
import orjson

from core.domain.entities import Account, Denial
from core.domain.metering import CallRequest
from core.domain.settlement import FinishedCall
from core.rpc.auth import Authenticator
from core.rpc.convert import account_to, customer_to, key_to, price_from, usage_from
from core.rpc.errors import abort
from core.services import accounts, customers, metering, system, usage
from core.services.core import Core
from core.services.customers import CustomerChanges, CustomerInput
from ringside.core.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    customers_pb2,
    customers_pb2_grpc,
    keys_pb2,
    keys_pb2_grpc,
    metering_pb2,
    metering_pb2_grpc,
    system_pb2,
    system_pb2_grpc,
    usage_pb2,
    usage_pb2_grpc,
)
from ringside.errors import RingsideError

Context = grpc.aio.ServicerContext
R = TypeVar("R")
MAX_PROTO_STRING = 4096


def rpc(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Render RingsideError as a status; leave everything else to gRPC (INTERNAL)."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: Context) -> R:
        try:
            return await method(self, request, context)
        except RingsideError as error:
            await abort(context, error)
            raise AssertionError("unreachable") from error

    return wrapper


class _Base:
    def __init__(self, core: Core, auth: Authenticator) -> None:
        self.core = core
        self.auth = auth


def _settings(account: Account) -> accounts_pb2.AccountSettings:
    return accounts_pb2.AccountSettings(
        account_id=account.id,
        auto_create_customers=account.auto_create_customers,
        markup_bp=account.markup_bp,
        default_max_output_tokens=account.default_max_output_tokens or 0,
    )


class AccountSettingsMixin:
    core: Core
    auth: Authenticator

    @rpc
    async def GetAccountSettings(
        self, request: accounts_pb2.GetAccountSettingsRequest, context: Context
    ) -> accounts_pb2.GetAccountSettingsResponse:
        account = accounts.account_settings(self.core, self.auth.principal(context))
        return accounts_pb2.GetAccountSettingsResponse(settings=_settings(account))

    @rpc
    async def UpdateAccountSettings(
        self, request: accounts_pb2.UpdateAccountSettingsRequest, context: Context
    ) -> accounts_pb2.UpdateAccountSettingsResponse:
        account = await accounts.update_account_settings(
            self.core,
            self.auth.principal(context),
            request.auto_create_customers if request.HasField("auto_create_customers") else None,
            request.markup_bp if request.HasField("markup_bp") else None,
            request.default_max_output_tokens if request.HasField("default_max_output_tokens") else None,
        )
        return accounts_pb2.UpdateAccountSettingsResponse(settings=_settings(account))


class AccountsServicer(AccountSettingsMixin, _Base, accounts_pb2_grpc.AccountsServiceServicer):
    @rpc
    async def CreateAccount(
        self, request: accounts_pb2.CreateAccountRequest, context: Context
    ) -> accounts_pb2.CreateAccountResponse:
        new = await accounts.create_account(self.core, self.auth.principal(context), request.name)
        return accounts_pb2.CreateAccountResponse(
            account=account_to(new.account),
            live_key=key_to(new.live_key.key, new.live_key.secret),
            test_key=key_to(new.test_key.key, new.test_key.secret),
        )

    @rpc
    async def ListAccounts(
        self, request: accounts_pb2.ListAccountsRequest, context: Context
    ) -> accounts_pb2.ListAccountsResponse:
        items, has_more = accounts.list_accounts(
            self.core,
            self.auth.principal(context),
            request.page.limit,
            request.page.starting_after,
            request.page.ending_before,
        )
        return accounts_pb2.ListAccountsResponse(accounts=[account_to(a) for a in items], has_more=has_more)


class ApiKeysServicer(_Base, keys_pb2_grpc.ApiKeysServiceServicer):
    @rpc
    async def CreateApiKey(
        self, request: keys_pb2.CreateApiKeyRequest, context: Context
    ) -> keys_pb2.CreateApiKeyResponse:
        new = await accounts.create_key(
            self.core, self.auth.principal(context), request.livemode, list(request.scopes), request.name
        )
        return keys_pb2.CreateApiKeyResponse(api_key=key_to(new.key, new.secret))

    @rpc
    async def ListApiKeys(self, request: keys_pb2.ListApiKeysRequest, context: Context) -> keys_pb2.ListApiKeysResponse:
        items, has_more = accounts.list_keys(
            self.core,
            self.auth.principal(context),
            request.page.limit,
            request.page.starting_after,
            request.page.ending_before,
        )
        return keys_pb2.ListApiKeysResponse(api_keys=[key_to(k) for k in items], has_more=has_more)

    @rpc
    async def DeleteApiKey(
        self, request: keys_pb2.DeleteApiKeyRequest, context: Context
    ) -> keys_pb2.DeleteApiKeyResponse:
        key = await accounts.delete_key(self.core, self.auth.principal(context), request.id)
        return keys_pb2.DeleteApiKeyResponse(id=key.id)

    @rpc
    async def VerifyApiKey(
        self, request: keys_pb2.VerifyApiKeyRequest, context: Context
    ) -> keys_pb2.VerifyApiKeyResponse:
        self.auth.internal(context)
        key = accounts.verify_key(self.core, request.api_key)
        return keys_pb2.VerifyApiKeyResponse(
            key_id=key.id, account_id=key.account_id, livemode=key.livemode, scopes=sorted(key.scopes)
        )


def _customer_input(request: customers_pb2.CreateCustomerRequest) -> CustomerInput:
    try:
        metadata = orjson.loads(request.metadata_json) if request.metadata_json else {}
    except orjson.JSONDecodeError:
        raise RingsideError("invalid_request", "metadata must be a JSON object.", "metadata") from None
    if not isinstance(metadata, dict):
        raise RingsideError("invalid_request", "metadata must be an object.", "metadata")
    budget_set = request.WhichOneof("budget")
    return CustomerInput(
        external_id=request.external_id if request.HasField("external_id") else None,
        name=request.name,
        email=request.email,
        metadata=metadata,
        budget_nano=request.budget_nano_usd if budget_set == "budget_nano_usd" else None,
        budget_explicit=budget_set is not None,
        rate_limit_rpm=request.rate_limit_rpm if request.HasField("rate_limit_rpm") else None,
        rate_limit_tpm=request.rate_limit_tpm if request.HasField("rate_limit_tpm") else None,
        blocked=request.blocked,
        billing_anchor_day=request.billing_anchor_day or 1,
        wallet_enabled=request.wallet_enabled,
    )


class CustomersServicer(_Base, customers_pb2_grpc.CustomersServiceServicer):
    @rpc
    async def CreateCustomer(
        self, request: customers_pb2.CreateCustomerRequest, context: Context
    ) -> customers_pb2.CreateCustomerResponse:
        principal = self.auth.principal(context)
        customer, created = await customers.create(self.core, principal, _customer_input(request))
        return customers_pb2.CreateCustomerResponse(customer=customer_to(customer), created=created)

    @rpc
    async def GetCustomer(
        self, request: customers_pb2.GetCustomerRequest, context: Context
    ) -> customers_pb2.GetCustomerResponse:
        customer = customers.get(self.core, self.auth.principal(context), request.id[:MAX_PROTO_STRING])
        return customers_pb2.GetCustomerResponse(customer=customer_to(customer))

    @rpc
    async def UpdateCustomer(
        self, request: customers_pb2.UpdateCustomerRequest, context: Context
    ) -> customers_pb2.UpdateCustomerResponse:
        principal = self.auth.principal(context)
        customer = await customers.update(
            self.core, principal, request.id[:MAX_PROTO_STRING], _customer_changes(request)
        )
        return customers_pb2.UpdateCustomerResponse(customer=customer_to(customer))

    @rpc
    async def ListCustomers(
        self, request: customers_pb2.ListCustomersRequest, context: Context
    ) -> customers_pb2.ListCustomersResponse:
        items, has_more = customers.list_customers(
            self.core,
            self.auth.principal(context),
            request.limit,
            request.starting_after[:200],
            request.ending_before[:200],
            request.external_id if request.HasField("external_id") else None,
        )
        return customers_pb2.ListCustomersResponse(customers=[customer_to(c) for c in items], has_more=has_more)

    @rpc
    async def DeleteCustomer(
        self, request: customers_pb2.DeleteCustomerRequest, context: Context
    ) -> customers_pb2.DeleteCustomerResponse:
        customer = await customers.delete(
            self.core, self.auth.principal(context), request.id[:MAX_PROTO_STRING], request.force
        )
        return customers_pb2.DeleteCustomerResponse(id=customer.id)


def _customer_changes(request: customers_pb2.UpdateCustomerRequest) -> CustomerChanges:
    metadata = None
    if request.HasField("metadata_json"):
        try:
            metadata = orjson.loads(request.metadata_json)
        except orjson.JSONDecodeError:
            raise RingsideError("invalid_request", "metadata must be a JSON object.", "metadata") from None
        if not isinstance(metadata, dict):
            raise RingsideError("invalid_request", "metadata must be an object.", "metadata")
    budget = request.WhichOneof("budget")

    def limit(name: str) -> tuple[int | None] | None:
        if getattr(request, f"{name}_unlimited"):
            return (None,)
        return (getattr(request, name),) if request.HasField(name) else None

    return CustomerChanges(
        external_id=request.external_id if request.HasField("external_id") else None,
        name=request.name if request.HasField("name") else None,
        email=request.email if request.HasField("email") else None,
        metadata=metadata,
        budget=None if budget is None else ((request.budget_nano_usd if budget == "budget_nano_usd" else None),),
        rate_limit_rpm=limit("rate_limit_rpm"),
        rate_limit_tpm=limit("rate_limit_tpm"),
        blocked=request.blocked if request.HasField("blocked") else None,
        billing_anchor_day=request.billing_anchor_day if request.HasField("billing_anchor_day") else None,
        wallet_enabled=request.wallet_enabled if request.HasField("wallet_enabled") else None,
        unset=[name[:40] for name in request.unset[:10]],
    )


_OUTCOMES = {
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
    )


def _denial(denial: Denial) -> metering_pb2.Denial:
    return metering_pb2.Denial(
        code=denial.code,
        message=denial.message,
        param=denial.param or "",
        retry_after_seconds=denial.retry_after_seconds,
        should_retry=denial.should_retry,
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


class LeasesServicerMixin:
    core: Core
    auth: Authenticator

    @rpc
    async def AcquireLease(
        self, request: metering_pb2.AcquireLeaseRequest, context: Context
    ) -> metering_pb2.AcquireLeaseResponse:
        self.auth.internal(context)
        decision = await metering.acquire_lease(self.core, _call_request(request.call), request.calls)
        if decision is None:
            return metering_pb2.AcquireLeaseResponse(granted=False)
        if isinstance(decision, Denial):
            return metering_pb2.AcquireLeaseResponse(granted=False, denial=_denial(decision))
        lease = decision.hold
        account = self.core.state.accounts[lease.account_id]
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
        )

    @rpc
    async def SettleLeaseCalls(
        self, request: metering_pb2.SettleLeaseCallsRequest, context: Context
    ) -> metering_pb2.SettleLeaseCallsResponse:
        self.auth.internal(context)
        calls = [_finished_call(call) for call in request.calls[: metering.MAX_LEASE_CALLS_PER_REPORT + 1]]
        recorded, closed = await metering.settle_lease_calls(self.core, request.lease_id[:64], calls, request.close)
        return metering_pb2.SettleLeaseCallsResponse(recorded=recorded, closed=closed)


class MeteringServicer(LeasesServicerMixin, _Base, metering_pb2_grpc.MeteringServiceServicer):
    @rpc
    async def Authorize(
        self, request: metering_pb2.AuthorizeRequest, context: Context
    ) -> metering_pb2.AuthorizeResponse:
        self.auth.internal(context)
        decision = await metering.authorize(self.core, _call_request(request))
        if isinstance(decision, Denial):
            return metering_pb2.AuthorizeResponse(allowed=False, denial=_denial(decision))
        hold = decision.hold
        return metering_pb2.AuthorizeResponse(
            allowed=True,
            request_id=hold.id,
            account_id=hold.account_id,
            livemode=hold.livemode,
            customer_id=hold.customer_id or "",
            hold_nano_usd=hold.amount_nano,
            max_output_tokens=decision.max_output_tokens,
            output_limited=decision.output_limited,
            hold_expires_at=hold.expires_at,
        )

    @rpc
    async def Settle(self, request: metering_pb2.SettleRequest, context: Context) -> metering_pb2.SettleResponse:
        self.auth.internal(context)
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
    async def ExtendHold(
        self, request: metering_pb2.ExtendHoldRequest, context: Context
    ) -> metering_pb2.ExtendHoldResponse:
        self.auth.internal(context)
        return metering_pb2.ExtendHoldResponse(hold_expires_at=await metering.extend(self.core, request.request_id))


def _usage_totals(totals: usage.Totals) -> usage_pb2.UsageTotals:
    return usage_pb2.UsageTotals(
        cost_nano_usd=totals.cost_nano,
        billable_nano_usd=totals.billable_nano,
        request_count=totals.request_count,
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
    )


class UsageServicer(_Base, usage_pb2_grpc.UsageServiceServicer):
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
        )
        return usage_pb2.GetUsageResponse(
            totals=_usage_totals(report.totals),
            groups=[usage_pb2.UsageGroup(key=key, totals=_usage_totals(totals)) for key, totals in report.groups],
            has_more=report.has_more,
            since=report.since,
            until=report.until,
        )


class SystemServicer(_Base, system_pb2_grpc.SystemServiceServicer):
    @rpc
    async def Heartbeat(self, request: system_pb2.HeartbeatRequest, context: Context) -> system_pb2.HeartbeatResponse:
        self.auth.internal(context)
        system.heartbeat(self.core, request.role, request.instance)
        return system_pb2.HeartbeatResponse()

    @rpc
    async def GetStatus(self, request: system_pb2.GetStatusRequest, context: Context) -> system_pb2.GetStatusResponse:
        self.auth.internal(context)
        return system_pb2.GetStatusResponse(
            roles=[
                system_pb2.RoleStatus(role=role, instance=instance, age_seconds=age)
                for role, instance, age in system.status(self.core)
            ]
        )

    @rpc
    async def VerifyLedger(
        self, request: system_pb2.VerifyLedgerRequest, context: Context
    ) -> system_pb2.VerifyLedgerResponse:
        self.auth.internal(context)
        audit = await system.verify_ledger(self.core)
        return system_pb2.VerifyLedgerResponse(
            transfer_count=audit.transfer_count,
            imbalance_nano_usd=audit.imbalance_nano,
            overposted_holds=audit.overposted_holds,
            multiply_resolved_holds=audit.multiply_resolved_holds,
            usage_ledger_mismatches=audit.usage_ledger_mismatches,
            open_holds=audit.open_holds,
            invalid_transfers=audit.invalid_transfers,
            memory_mismatches=audit.memory_mismatches,
            ok=audit.ok,
        )
