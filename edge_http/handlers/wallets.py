"""/v1/customers/:id/wallet[/topup|/adjust|/refund]: a customer's prepaid wallet."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import amount_usd, authorization, page_request
from edge_http.openai.jsonio import dumps, parse_object
from ringside.core.v1 import wallets_pb2
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id
from ringside_server.usd import nano_to_usd

MAX_ID = 300


def render(tx: wallets_pb2.WalletTransaction) -> dict[str, Any]:
    return {
        "id": tx.id,
        "object": "wallet_transaction",
        "type": tx.type,
        "amount_usd": nano_to_usd(tx.amount_nano_usd),
        "balance_after_usd": nano_to_usd(tx.balance_after_nano_usd),
        "request_id": tx.request_id or None,
        "description": tx.description or None,
        "created": tx.created,
    }


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name) or ""
    if not isinstance(value, str):
        raise RingsideError("invalid_request", f"{name} must be a string.", name)
    return value


async def _move(request: web.Request, method: str, message: Any) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(getattr(edge.core.wallets, method), message, authorization(request))
    return web.Response(body=dumps(render(result.transaction)), content_type="application/json")


async def top_up(request: web.Request) -> web.Response:
    body = parse_object(await request.read())
    return await _move(
        request,
        "TopUp",
        wallets_pb2.TopUpRequest(
            customer_id=request.match_info["id"][:MAX_ID],
            amount_nano_usd=amount_usd(body),
            description=_text(body, "description"),
            transaction_id=new_sortable_id("wtx"),  # a resend after a cut-off moves nothing twice
        ),
    )


async def adjust(request: web.Request) -> web.Response:
    body = parse_object(await request.read())
    return await _move(
        request,
        "Adjust",
        wallets_pb2.AdjustRequest(
            customer_id=request.match_info["id"][:MAX_ID],
            amount_nano_usd=amount_usd(body),
            reason=_text(body, "reason"),
            transaction_id=new_sortable_id("wtx"),  # a resend after a cut-off moves nothing twice
        ),
    )


async def refund(request: web.Request) -> web.Response:
    body = parse_object(await request.read())
    transaction = _text(body, "transaction_id")
    if not transaction:
        raise RingsideError("invalid_request", "transaction_id is required.", "transaction_id")
    return await _move(
        request,
        "Refund",
        wallets_pb2.RefundRequest(
            customer_id=request.match_info["id"][:MAX_ID],
            transaction_id=transaction[:200],
            amount_nano_usd=amount_usd(body, required=False),
            refund_id=new_sortable_id("wtx"),  # a resend after a cut-off gives nothing back twice
        ),
    )


async def get_wallet(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    await edge.answered_calls_recorded()
    result = await edge.core.as_caller(
        edge.core.wallets.GetWallet,
        wallets_pb2.GetWalletRequest(customer_id=request.match_info["id"][:MAX_ID], page=page_request(request)),
        authorization(request),
    )
    return web.Response(
        body=dumps(
            {
                "object": "wallet",
                "enabled": result.enabled,
                "balance_usd": nano_to_usd(result.balance_nano_usd),
                "held_usd": nano_to_usd(result.held_nano_usd),
                "low_threshold_usd": nano_to_usd(result.low_threshold_nano_usd),
                "transactions": {
                    "object": "list",
                    "data": [render(tx) for tx in result.transactions],
                    "has_more": result.has_more,
                    "url": request.path,
                },
            }
        ),
        content_type="application/json",
    )
