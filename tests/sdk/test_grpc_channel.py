"""`ringside.grpc`: a channel whose every call carries the API key or the internal token."""

from __future__ import annotations

import grpc
import pytest

from ringside import Ringside
from ringside.core.v1 import customers_pb2, customers_pb2_grpc, system_pb2, system_pb2_grpc
from ringside.grpc import aio_channel, auth_metadata, channel
from tests.harness import Stack


def test_an_api_key_channel_sees_its_own_account_only(stack: Stack) -> None:
    keys = stack.new_account()
    made = Ringside(api_key=keys["test"], base_url=stack.base_url + "/v1").customers.create(external_id="grpc-1")
    with channel(f"127.0.0.1:{stack.grpc_port}", api_key=keys["test"]) as core:
        stub = customers_pb2_grpc.CustomersServiceStub(core)
        listed = stub.ListCustomers(customers_pb2.ListCustomersRequest(limit=10), timeout=10)
        assert [c.id for c in listed.customers] == [made.id]
    with channel(f"127.0.0.1:{stack.grpc_port}", api_key="sk_test_" + "n" * 32) as core:
        with pytest.raises(grpc.RpcError) as refused:
            customers_pb2_grpc.CustomersServiceStub(core).ListCustomers(
                customers_pb2.ListCustomersRequest(), timeout=10
            )
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_an_internal_channel_reaches_the_system_service(stack: Stack) -> None:
    async with aio_channel(f"127.0.0.1:{stack.grpc_port}", internal_token=stack.internal_token) as core:
        stub = system_pb2_grpc.SystemServiceStub(core)
        audit = await stub.VerifyLedger(system_pb2.VerifyLedgerRequest(), timeout=60)
        assert audit.ok


def test_exactly_one_credential_is_required() -> None:
    with pytest.raises(ValueError):
        auth_metadata()
    with pytest.raises(ValueError):
        auth_metadata(api_key="sk_test_x", internal_token="rsint_x")
    assert auth_metadata(api_key="sk_test_x") == (("authorization", "Bearer sk_test_x"),)
