"""Path → handler, nothing else."""

from __future__ import annotations

from aiohttp import web

from edge_http import observability
from edge_http.handlers import (
    accounts,
    billing,
    chat_completions,
    client_tokens,
    customers,
    embeddings,
    events,
    health,
    models,
    moderations,
    openapi,
    peer,
    slots,
    tiers,
    usage,
    wallets,
    webhooks,
)


def add_routes(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get("/healthz", health.healthz),
            web.get("/livez", health.livez),
            web.get("/readyz", health.readyz),
            web.get("/metrics", observability.metrics),
            web.get("/openapi.json", openapi.document_handler()),
            web.post("/v1/chat/completions", chat_completions.chat_completions),
            web.post("/chat/completions", chat_completions.chat_completions),  # the peer proxy's path
            web.post("/v1/embeddings", embeddings.embeddings),
            web.post("/v1/moderations", moderations.moderations),
            web.get("/v1/models", models.list_models),
            web.post("/v1/customers", customers.create_customer),
            web.get("/v1/customers", customers.list_customers),
            web.get("/v1/customers/{id}", customers.get_customer),
            web.patch("/v1/customers/{id}", customers.update_customer),
            web.post("/v1/customers/{id}", customers.update_customer),  # Stripe's SDKs update with POST
            web.delete("/v1/customers/{id}", customers.delete_customer),
            web.post("/v1/customers/{id}/erase", customers.erase_customer),
            web.get("/v1/customers/{id}/wallet", wallets.get_wallet),
            web.post("/v1/customers/{id}/wallet/topup", wallets.top_up),
            web.post("/v1/customers/{id}/wallet/adjust", wallets.adjust),
            web.post("/v1/customers/{id}/wallet/refund", wallets.refund),
            web.post("/v1/customers/{id}/client_tokens", client_tokens.create_client_token),
            web.post("/v1/customers/{id}/client_tokens/revoke_all", client_tokens.revoke_client_tokens),
            web.post("/v1/signing_keys/rotate", client_tokens.rotate_signing_key),
            web.get("/.well-known/jwks.json", client_tokens.jwks),
            web.get("/v1/customers/{id}/periods", billing.list_periods),
            web.get("/v1/usage", usage.get_usage),
            web.put("/v1/billing/stripe", billing.put_stripe_settings),
            web.post("/v1/billing/stripe", billing.put_stripe_settings),  # Stripe's SDKs update with POST
            web.get("/v1/billing/stripe", billing.get_stripe_settings),
            web.get("/v1/billing/stripe/syncs", billing.list_syncs),
            web.post("/v1/slots", slots.create_slot),
            web.get("/v1/slots", slots.list_slots),
            web.delete("/v1/slots/{id}", slots.delete_slot),
            web.post("/v1/tiers", tiers.create_tier),
            web.get("/v1/tiers", tiers.list_tiers),
            web.get("/v1/tiers/{id}", tiers.get_tier),
            web.patch("/v1/tiers/{id}", tiers.update_tier),
            web.post("/v1/tiers/{id}", tiers.update_tier),
            web.delete("/v1/tiers/{id}", tiers.delete_tier),
            web.post("/v1/webhooks", webhooks.create_endpoint),
            web.get("/v1/webhooks", webhooks.list_endpoints),
            web.get("/v1/webhooks/{id}", webhooks.get_endpoint),
            web.post("/v1/webhooks/{id}", webhooks.update_endpoint),
            web.patch("/v1/webhooks/{id}", webhooks.update_endpoint),
            web.delete("/v1/webhooks/{id}", webhooks.delete_endpoint),
            web.post("/v1/webhooks/{id}/rotate_secret", webhooks.rotate_secret),
            web.get("/v1/webhooks/{id}/deliveries", webhooks.list_deliveries),
            web.post("/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", webhooks.redeliver),
            web.get("/v1/events", events.list_events),
            web.get("/v1/events/{id}", events.get_event),
            web.get("/v1/account", accounts.get_account),
            web.patch("/v1/account", accounts.update_account),
            # the peer proxy's routes (seed 004)
            web.post("/customer/new", peer.customer_new),
            web.get("/customer/info", peer.customer_info),
            web.post("/customer/update", peer.customer_update),
            web.post("/customer/delete", peer.customer_delete),
            web.post("/customer/block", peer.customer_block),
            web.post("/customer/unblock", peer.customer_unblock),
            web.post("/budget/new", peer.budget_new),
            web.post("/budget/info", peer.budget_info),
            web.get("/budget/info", peer.budget_info),
            web.post("/v1/accounts", accounts.create_account),
            web.get("/v1/accounts", accounts.list_accounts),
            web.post("/v1/accounts/{id}/balance/topup", accounts.top_up_balance),
            web.post("/v1/api_keys", accounts.create_api_key),
            web.get("/v1/api_keys", accounts.list_api_keys),
            web.delete("/v1/api_keys/{id}", accounts.delete_api_key),
        ]
    )
