"""WalletsService."""

from __future__ import annotations

from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.services import wallets
from core.services.wallets import WalletTransaction
from ringside.core.v1 import wallets_pb2, wallets_pb2_grpc


def transaction_to(tx: WalletTransaction) -> wallets_pb2.WalletTransaction:
    return wallets_pb2.WalletTransaction(
        id=tx.id,
        type=tx.type,
        amount_nano_usd=tx.amount_nano,
        balance_after_nano_usd=tx.balance_after_nano,
        request_id=tx.request_id,
        description=tx.description,
        created=tx.created,
    )


def _moved(tx: WalletTransaction) -> wallets_pb2.WalletMovementResponse:
    return wallets_pb2.WalletMovementResponse(transaction=transaction_to(tx), balance_nano_usd=tx.balance_after_nano)


class WalletsServicer(Base, wallets_pb2_grpc.WalletsServiceServicer):
    @rpc
    async def TopUp(self, request: wallets_pb2.TopUpRequest, context: Context) -> wallets_pb2.WalletMovementResponse:
        return _moved(
            await wallets.top_up(
                self.core,
                self.auth.principal(context),
                request.customer_id[:MAX_PROTO_STRING],
                request.amount_nano_usd,
                request.description[:MAX_PROTO_STRING],
                request.transaction_id[:MAX_PROTO_STRING],
            )
        )

    @rpc
    async def Adjust(self, request: wallets_pb2.AdjustRequest, context: Context) -> wallets_pb2.WalletMovementResponse:
        return _moved(
            await wallets.adjust(
                self.core,
                self.auth.principal(context),
                request.customer_id[:MAX_PROTO_STRING],
                request.amount_nano_usd,
                request.reason[:MAX_PROTO_STRING],
                request.transaction_id[:MAX_PROTO_STRING],
            )
        )

    @rpc
    async def Refund(self, request: wallets_pb2.RefundRequest, context: Context) -> wallets_pb2.WalletMovementResponse:
        return _moved(
            await wallets.refund(
                self.core,
                self.auth.principal(context),
                request.customer_id[:MAX_PROTO_STRING],
                request.transaction_id[:200],
                request.amount_nano_usd,
                request.refund_id[:MAX_PROTO_STRING],
            )
        )

    @rpc
    async def GetWallet(self, request: wallets_pb2.GetWalletRequest, context: Context) -> wallets_pb2.GetWalletResponse:
        customer, items, has_more = await wallets.wallet(
            self.core,
            self.auth.principal(context),
            request.customer_id[:MAX_PROTO_STRING],
            request.page.limit,
            request.page.starting_after[:200],
            request.page.ending_before[:200],
        )
        return wallets_pb2.GetWalletResponse(
            enabled=customer.wallet_enabled,
            balance_nano_usd=customer.wallet_balance_nano,
            held_nano_usd=customer.held_nano if customer.wallet_enabled else 0,
            low_threshold_nano_usd=customer.wallet_low_threshold_nano,
            transactions=[transaction_to(tx) for tx in items],
            has_more=has_more,
        )
