"""CustomersService."""

from __future__ import annotations

import orjson

from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.rpc.convert import customer_to, model_list_from
from core.services import customers, deletions
from core.services import erasure as erasure_service
from core.services.customers import CustomerChanges, CustomerInput
from ringside.core.v1 import customers_pb2, customers_pb2_grpc
from ringside_server.errors import RingsideError

MAX_QUERY = 200


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
        tier=request.tier[:200],
        wallet_low_threshold_nano=request.wallet_low_threshold_nano_usd,
        stripe_customer_id=request.stripe_customer_id[:MAX_PROTO_STRING],
        allowed_models=model_list_from(request.allowed_models) if request.HasField("allowed_models") else None,
        allowed_models_explicit=request.HasField("allowed_models") or request.allowed_models_unlimited,
    )


class CustomersServicer(Base, customers_pb2_grpc.CustomersServiceServicer):
    @rpc
    async def CreateCustomer(
        self, request: customers_pb2.CreateCustomerRequest, context: Context
    ) -> customers_pb2.CreateCustomerResponse:
        principal = self.auth.principal(context)
        customer, created = await customers.create(self.core, principal, _customer_input(request))
        return customers_pb2.CreateCustomerResponse(customer=customer_to(self.core.state, customer), created=created)

    @rpc
    async def GetCustomer(
        self, request: customers_pb2.GetCustomerRequest, context: Context
    ) -> customers_pb2.GetCustomerResponse:
        customer = customers.get(self.core, self.auth.principal(context), request.id[:MAX_PROTO_STRING])
        return customers_pb2.GetCustomerResponse(customer=customer_to(self.core.state, customer))

    @rpc
    async def UpdateCustomer(
        self, request: customers_pb2.UpdateCustomerRequest, context: Context
    ) -> customers_pb2.UpdateCustomerResponse:
        principal = self.auth.principal(context)
        customer = await customers.update(
            self.core, principal, request.id[:MAX_PROTO_STRING], _customer_changes(request)
        )
        return customers_pb2.UpdateCustomerResponse(customer=customer_to(self.core.state, customer))

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
            request.query[:MAX_QUERY],
        )
        return customers_pb2.ListCustomersResponse(
            customers=[customer_to(self.core.state, c) for c in items], has_more=has_more
        )

    @rpc
    async def DeleteCustomer(
        self, request: customers_pb2.DeleteCustomerRequest, context: Context
    ) -> customers_pb2.DeleteCustomerResponse:
        customer = await deletions.delete(
            self.core, self.auth.principal(context), request.id[:MAX_PROTO_STRING], request.force
        )
        return customers_pb2.DeleteCustomerResponse(id=customer.id)

    @rpc
    async def DeleteCustomers(
        self, request: customers_pb2.DeleteCustomersRequest, context: Context
    ) -> customers_pb2.DeleteCustomersResponse:
        refs = [ref[:MAX_PROTO_STRING] for ref in request.ids[: deletions.MAX_BULK + 1]]
        deleted = await deletions.delete_many(self.core, self.auth.principal(context), refs)
        return customers_pb2.DeleteCustomersResponse(ids=[customer.id for customer in deleted])

    @rpc
    async def SetCustomersBlocked(
        self, request: customers_pb2.SetCustomersBlockedRequest, context: Context
    ) -> customers_pb2.SetCustomersBlockedResponse:
        refs = [ref[:MAX_PROTO_STRING] for ref in request.ids[: deletions.MAX_BULK + 1]]
        changed = await deletions.set_blocked_many(self.core, self.auth.principal(context), refs, request.blocked)
        return customers_pb2.SetCustomersBlockedResponse(ids=[customer.id for customer in changed])

    @rpc
    async def EraseCustomer(
        self, request: customers_pb2.EraseCustomerRequest, context: Context
    ) -> customers_pb2.EraseCustomerResponse:
        erasure = await erasure_service.request(
            self.core, self.auth.principal(context), request.id[:MAX_PROTO_STRING], request.force
        )
        response = customers_pb2.EraseCustomerResponse(id=erasure.customer_id, status=erasure.status)
        if erasure.customer is not None:
            response.customer.CopyFrom(customer_to(self.core.state, erasure.customer))
        return response


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
        tier=request.tier[:200] if request.HasField("tier") else None,
        wallet_low_threshold_nano=(
            request.wallet_low_threshold_nano_usd if request.HasField("wallet_low_threshold_nano_usd") else None
        ),
        stripe_customer_id=request.stripe_customer_id[:MAX_PROTO_STRING]
        if request.HasField("stripe_customer_id")
        else None,
        unset=[name[:40] for name in request.unset[:10]],
        allowed_models=_models_change(request),
    )


def _models_change(request: customers_pb2.UpdateCustomerRequest) -> tuple[tuple[str, ...] | None] | None:
    """(list,) for an explicit list, (None,) for an explicit null, None when not changed."""
    if request.allowed_models_unlimited:
        return (None,)
    return (model_list_from(request.allowed_models),) if request.HasField("allowed_models") else None
