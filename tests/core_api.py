"""The core's gRPC API as a test client sees it: a blocking channel to a running `Stack`'s core,
calls as the account (its live key) or as Ringside's own roles (the internal token).

Errors are returned as `CoreError` values where a test expects refusals, so a property test can
tell a clean refusal (the documented code) from a failure of the core (anything else)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc

from ringside.core.v1 import (
    common_pb2,
    customers_pb2,
    customers_pb2_grpc,
    metering_pb2,
    metering_pb2_grpc,
    wallets_pb2,
    wallets_pb2_grpc,
)
from tests.harness import Stack

# fc:openai/gpt-4o-mini's catalog price: 150 nano-USD per input token, 600 per output token.
MODEL_REF = "fc:openai/gpt-4o-mini"
PRICE = common_pb2.Price(input_nano_usd_per_mtok=150_000_000, output_nano_usd_per_mtok=600_000_000)
MODEL_MAX_OUTPUT = 16_384
MAX_PAGES = 1000
TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class CoreError:
    """A refused call: the gRPC status and the API error code the core put in trailing metadata."""

    status: grpc.StatusCode
    code: str
    param: str


def cost_nano(input_tokens: int, output_tokens: int) -> int:
    """Billable nano-USD of a call at PRICE and no markup, rounded up (API.md "Money")."""
    scaled = input_tokens * PRICE.input_nano_usd_per_mtok + output_tokens * PRICE.output_nano_usd_per_mtok
    return -(-scaled // 1_000_000)


class CoreApi:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.channel = grpc.insecure_channel(f"127.0.0.1:{stack.grpc_port}")
        self.customers = customers_pb2_grpc.CustomersServiceStub(self.channel)
        self.wallets = wallets_pb2_grpc.WalletsServiceStub(self.channel)
        self.metering = metering_pb2_grpc.MeteringServiceStub(self.channel)
        self.as_account = (("authorization", f"Bearer {stack.live_key}"),)
        self.as_internal = (("x-ringside-internal", stack.internal_token),)

    def close(self) -> None:
        self.channel.close()

    @staticmethod
    def _refusal(error: grpc.RpcError) -> CoreError:
        trailing = {key: value for key, value in (error.trailing_metadata() or ())}  # type: ignore[attr-defined]
        return CoreError(
            error.code(),  # type: ignore[attr-defined]
            str(trailing.get("ringside-error-code", "")),
            str(trailing.get("ringside-error-param", "")),
        )

    def _call(self, method: Any, request: Any, metadata: tuple[tuple[str, str], ...]) -> Any:
        try:
            return method(request, metadata=metadata, timeout=TIMEOUT_S)
        except grpc.RpcError as error:
            refusal = self._refusal(error)
            if not refusal.code:  # not an API error: the core failed
                raise
            return refusal

    def create_wallet_customer(self) -> str:
        request = customers_pb2.CreateCustomerRequest(wallet_enabled=True)
        response = self.customers.CreateCustomer(request, metadata=self.as_account, timeout=TIMEOUT_S)
        return str(response.customer.id)

    def top_up(self, customer_id: str, amount_nano: int) -> wallets_pb2.WalletMovementResponse | CoreError:
        request = wallets_pb2.TopUpRequest(customer_id=customer_id, amount_nano_usd=amount_nano, description="prop")
        return self._call(self.wallets.TopUp, request, self.as_account)

    def adjust(self, customer_id: str, amount_nano: int) -> wallets_pb2.WalletMovementResponse | CoreError:
        request = wallets_pb2.AdjustRequest(customer_id=customer_id, amount_nano_usd=amount_nano, reason="prop")
        return self._call(self.wallets.Adjust, request, self.as_account)

    def refund(
        self, customer_id: str, transaction_id: str, amount_nano: int
    ) -> wallets_pb2.WalletMovementResponse | CoreError:
        request = wallets_pb2.RefundRequest(
            customer_id=customer_id, transaction_id=transaction_id, amount_nano_usd=amount_nano
        )
        return self._call(self.wallets.Refund, request, self.as_account)

    def wallet(self, customer_id: str) -> tuple[wallets_pb2.GetWalletResponse, list[wallets_pb2.WalletTransaction]]:
        """The wallet and all its transactions, oldest first, read page by page."""
        first: wallets_pb2.GetWalletResponse | None = None
        newest_first: list[wallets_pb2.WalletTransaction] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            request = wallets_pb2.GetWalletRequest(
                customer_id=customer_id, page=common_pb2.PageRequest(limit=100, starting_after=cursor)
            )
            page = self.wallets.GetWallet(request, metadata=self.as_account, timeout=TIMEOUT_S)
            first = first or page
            newest_first += page.transactions
            if not page.has_more:
                assert first is not None
                return first, newest_first[::-1]
            cursor = page.transactions[-1].id
        raise AssertionError(f"more than {MAX_PAGES} pages of wallet transactions")

    def authorize(
        self, customer_id: str, input_tokens: int, output_tokens: int
    ) -> metering_pb2.AuthorizeResponse | CoreError:
        request = metering_pb2.AuthorizeRequest(
            api_key=self.stack.live_key,
            customer_ref=customer_id,
            model_ref=MODEL_REF,
            provider="openai",
            price=PRICE,
            input_tokens_bound=input_tokens,
            requested_output_tokens=output_tokens,
            model_max_output_tokens=MODEL_MAX_OUTPUT,
        )
        return self._call(self.metering.Authorize, request, self.as_internal)

    def settle(
        self, request_id: str, input_tokens: int, output_tokens: int, outcome: int
    ) -> metering_pb2.SettleResponse | CoreError:
        request = metering_pb2.SettleRequest(
            request_id=request_id,
            usage=common_pb2.TokenCounts(input_tokens=input_tokens, output_tokens=output_tokens),
            outcome=outcome,
            upstream_model="gpt-4o-mini",
        )
        return self._call(self.metering.Settle, request, self.as_internal)
