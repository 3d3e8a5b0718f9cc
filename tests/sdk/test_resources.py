"""Ringside's own resources through the sync client on a real stack (SQLite and PostgreSQL): each
one's happy path and its errors, idempotent money moves, and pagination over 250 customers."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest

import ringside
from ringside import Model, Ringside
from tests.harness import Stack, http, wait_until

CHAT_MODEL = "fc:openai/gpt-4o-mini"
HELLO = [{"role": "user", "content": "Hello"}]


def _client(stack: Stack, key: str | None = None) -> Ringside:
    return Ringside(api_key=key or stack.test_key, base_url=stack.base_url + "/v1", max_retries=0)


def _ext() -> str:
    return "ext_" + secrets.token_hex(6)


def test_customers_create_retrieve_update_list_and_delete(stack: Stack) -> None:
    client = _client(stack)
    external_id = _ext()
    created = client.customers.create(external_id=external_id, name="Ada", metadata={"plan": "pro"}, budget_usd=25)
    assert created.id.startswith("cus_") and created.budget_usd == Decimal(25) and created.metadata == {"plan": "pro"}
    assert client.customers.create(external_id=external_id, name="ignored").id == created.id  # upsert by external_id
    assert client.customers.retrieve(f"ext:{external_id}").id == created.id

    updated = client.customers.update(created.id, name="Ada L.", budget_usd=None)
    assert (updated.name, updated.budget_usd) == ("Ada L.", None)  # an explicit None: no cap
    assert client.customers.update(created.id, budget_usd="12.5").budget_usd == Decimal("12.5")
    assert client.customers.update(created.id, unset=["budget_usd"]).budget_usd is None  # inherits: none set

    assert [c.id for c in client.customers.list(external_id=external_id).data] == [created.id]
    assert created.id in [c.id for c in client.customers.list(query=external_id[4:]).data]

    assert client.customers.delete(created.id).deleted is True
    with pytest.raises(ringside.NotFoundError) as gone:
        client.customers.retrieve(created.id)
    assert gone.value.code == "customer_not_found"
    with pytest.raises(ringside.NotFoundError):
        client.customers.update(created.id, name="x")
    with pytest.raises(ringside.BadRequestError) as invalid:
        client.customers.create(external_id=_ext(), email="x" * 400)
    assert invalid.value.param == "email"


def test_an_external_id_with_url_characters_reaches_its_own_customer(stack: Stack) -> None:
    client = _client(stack)
    odd = f"team/{secrets.token_hex(3)}?x=1#y"
    created = client.customers.create(external_id=odd)
    assert client.customers.retrieve(f"ext:{odd}").id == created.id


def test_wallet_topup_adjust_debit_refund_and_transactions(stack: Stack) -> None:
    client = _client(stack)
    customer = client.customers.create(external_id=_ext())
    topup = client.customers.wallet.topup(customer.id, amount_usd=Decimal("5.00"), description="welcome")
    assert (topup.type, topup.amount_usd, topup.balance_after_usd) == ("topup", Decimal(5), Decimal(5))
    adjust = client.customers.wallet.adjust(customer.id, amount_usd=-1, reason="goodwill correction")
    assert adjust.balance_after_usd == Decimal(4)

    client.with_customer(customer.id).chat.completions.create(model=CHAT_MODEL, messages=HELLO, max_tokens=5)
    debit = wait_until(
        lambda: next((t for t in client.customers.wallet.transactions(customer.id) if t.type == "debit"), None),
        15,
        "the call's wallet debit",
    )
    refund = client.customers.wallet.refund(customer.id, transaction_id=debit.id)
    assert refund.type == "refund" and refund.amount_usd == -debit.amount_usd
    wallet = client.customers.wallet.retrieve(f"ext:{customer.external_id}")
    assert wallet.enabled and wallet.balance_usd == Decimal(4)
    assert [t.type for t in client.customers.wallet.transactions(customer.id, limit=1)] == [
        "refund",
        "debit",
        "adjust",
        "topup",
    ]
    with pytest.raises(ringside.NotFoundError) as not_a_debit:
        client.customers.wallet.refund(customer.id, transaction_id=topup.id)  # only a debit is refunded
    assert not_a_debit.value.param == "transaction_id"
    with pytest.raises(ringside.ConflictError) as has_balance:
        client.customers.delete(customer.id)
    assert has_balance.value.code == "customer_has_balance"
    assert client.customers.delete(customer.id, force=True).deleted


def test_an_idempotency_key_makes_a_retried_topup_happen_once(stack: Stack) -> None:
    client = _client(stack)
    customer = client.customers.create(external_id=_ext())
    key = "topup-" + secrets.token_hex(6)
    first = client.customers.wallet.topup(customer.id, amount_usd=2, idempotency_key=key)
    again = client.customers.wallet.topup(customer.id, amount_usd=2, idempotency_key=key)
    assert again.id == first.id
    assert client.customers.wallet.retrieve(customer.id).balance_usd == Decimal(2)
    with pytest.raises(ringside.BadRequestError) as reused:
        client.customers.wallet.topup(customer.id, amount_usd=3, idempotency_key=key)
    assert reused.value.code == "idempotency_key_reused"
    # without a key, each call is its own top-up (the SDK's own key only covers its retries)
    client.customers.wallet.topup(customer.id, amount_usd=2)
    client.customers.wallet.topup(customer.id, amount_usd=2)
    assert client.customers.wallet.retrieve(customer.id).balance_usd == Decimal(6)


def test_usage_reports_a_customers_calls(stack: Stack) -> None:
    client = _client(stack)
    customer = client.customers.create(external_id=_ext())
    client.with_customer(customer.id).chat.completions.create(model=CHAT_MODEL, messages=HELLO, max_tokens=5)
    usage = wait_until(
        lambda: (u := client.usage.retrieve(customer_id=customer.id, group_by="model")).request_count == 1 and u,
        15,
        "the call in usage",
    )
    assert usage.total_billable_usd > 0 and usage.output_tokens > 0
    assert [row.model for row in usage.data] == [CHAT_MODEL]
    with pytest.raises(ringside.BadRequestError):
        client.usage.retrieve(since="not a date")


def test_tiers_create_update_list_and_delete(stack: Stack) -> None:
    client = _client(stack)
    tier = client.tiers.create(name="gold-" + secrets.token_hex(3), budget_usd=100, rate_limit_rpm=600)
    assert tier.id.startswith("tier_") and tier.budget_usd == Decimal(100)
    assert client.tiers.update(tier.id, markup_pct=20).markup_pct == Decimal(20)
    assert client.tiers.retrieve(tier.id).rate_limit_rpm == 600
    assert tier.id in [t.id for t in client.tiers.list(limit=100)]
    customer = client.customers.create(external_id=_ext(), tier_id=tier.id)
    assert customer.budget_usd == Decimal(100)  # inherited from the tier
    client.customers.delete(customer.id)
    assert client.tiers.delete(tier.id).deleted
    with pytest.raises(ringside.NotFoundError):
        client.tiers.retrieve(tier.id)


def test_slots_alias_a_model_and_refuse_an_unknown_ref(stack: Stack) -> None:
    client = _client(stack)
    name = "chat-" + secrets.token_hex(3)
    slot = client.slots.create(name=name, models=[Model.match("anthropic", "sonnet").min_version(4).build()])
    assert slot.name == name and slot.models == ["match:anthropic/sonnet>=4"]
    raw = client.chat.completions.with_raw_response.create(model=Model.slot(name), messages=HELLO)
    assert raw.http_response.headers["x-ringside-model-resolved"].startswith("fc:anthropic/claude-sonnet-")
    assert slot.id in [s.id for s in client.slots.list(limit=100)]
    assert client.slots.delete(slot.id).deleted
    with pytest.raises(ringside.BadRequestError) as unknown:
        client.slots.create(name="broken-" + secrets.token_hex(3), models="fc:nowhere/none")
    assert unknown.value.code == "invalid_model_ref"


def test_webhook_endpoints_crud_rotation_and_deliveries(stack: Stack) -> None:
    client = _client(stack)
    endpoint = client.webhooks.create(url="https://hooks.example.invalid/ringside", events=["customer.created"])
    assert endpoint.id.startswith("we_") and endpoint.secret and endpoint.secret.startswith("whsec_")
    assert client.webhooks.retrieve(endpoint.id).secret is None  # shown once
    assert client.webhooks.update(endpoint.id, description="billing").description == "billing"
    assert endpoint.id in [e.id for e in client.webhooks.list(limit=100)]
    rotated = client.webhooks.rotate_secret(endpoint.id)
    assert rotated.secret and rotated.secret != endpoint.secret and rotated.previous_secret_expires_at
    assert list(client.webhooks.deliveries(endpoint.id)) == []
    assert client.webhooks.delete(endpoint.id).deleted
    with pytest.raises(ringside.NotFoundError):
        client.webhooks.retrieve(endpoint.id)
    with pytest.raises(ringside.BadRequestError) as private:
        client.webhooks.create(url="http://127.0.0.1:9/hook", events=["*"])
    assert private.value.param == "url"


def test_client_tokens_mint_work_in_a_browser_call_and_revoke(stack: Stack) -> None:
    client = _client(stack)
    customer = client.customers.create(external_id=_ext())
    origin = "https://app.example.com"
    minted = client.client_tokens.create(
        customer.id, origin=origin, allowed_endpoints=[f"GET /v1/customers/{customer.id}"], ttl_seconds=120
    )
    assert minted.token and minted.customer_id == customer.id

    def as_browser() -> int:
        headers = {"Authorization": f"Client {minted.token}", "Origin": origin}
        return http("GET", f"{stack.base_url}/v1/customers/{customer.id}", headers=headers).status

    assert as_browser() == 200
    assert client.client_tokens.revoke_all(customer.id).revoked_before > 0
    wait_until(lambda: as_browser() == 401, 15, "the revoked token to be refused")
    with pytest.raises(ringside.BadRequestError):
        client.client_tokens.create(customer.id, origin=origin, allowed_endpoints=[], ttl_seconds=5)


def test_api_keys_scopes_and_revocation(stack: Stack) -> None:
    client = _client(stack)
    created = client.api_keys.create(scopes=["api:read"], name="reporting", mode="test")
    assert created.secret and created.secret.startswith("sk_test_")
    reader = _client(stack, created.secret)
    reader.customers.list(limit=1)
    with pytest.raises(ringside.PermissionDeniedError) as scope:
        reader.customers.create(external_id=_ext())
    assert scope.value.code == "insufficient_scope"
    assert created.id in [k.id for k in client.api_keys.list(limit=100)]
    assert client.api_keys.delete(created.id).deleted

    def refused() -> bool:
        try:
            reader.customers.list(limit=1)
        except ringside.AuthenticationError:
            return True
        return False

    wait_until(refused, 15, "the revoked key to be refused")


def test_account_settings_billing_and_events_of_a_fresh_account(stack: Stack) -> None:
    client = _client(stack, stack.new_account()["test"])  # settings changes stay in their own account
    assert client.account.retrieve().auto_create_customers is False
    assert client.account.update(auto_create_customers=True, markup_pct=15).markup_pct == Decimal(15)
    client.with_customer("ext:auto-made").chat.completions.create(model=CHAT_MODEL, messages=HELLO, max_tokens=5)
    made = client.customers.retrieve("ext:auto-made")

    stripe = client.billing.stripe.update(secret_key="sk_test_" + "s" * 24, meter_event_name="ringside_usage")
    assert stripe.meter_event_name == "ringside_usage" and stripe.value == "billable_cents"
    assert stripe.secret_key != "sk_test_" + "s" * 24  # never echoed whole
    assert client.billing.stripe.retrieve().meter_event_name == "ringside_usage"
    assert client.billing.stripe.syncs().data == []  # no sync has run in a fresh account
    with pytest.raises(ringside.BadRequestError) as live_key:
        client.billing.stripe.update(secret_key="sk_live_" + "s" * 24, meter_event_name="m")
    assert live_key.value.param == "secret_key"

    created = wait_until(lambda: list(client.events.list(type="customer.created")), 15, "the customer.created event")
    assert created[0].data["customer"]["id"] == made.id
    assert client.events.retrieve(created[0].id).type == "customer.created"


def test_pagination_walks_250_customers_newest_first(stack: Stack) -> None:
    client = _client(stack, stack.new_account()["test"])
    made = [client.customers.create(external_id=f"page-{n:03}").id for n in range(250)]
    first = client.customers.list(limit=100)
    assert len(first.data) == 100 and first.has_more
    walked = [customer.id for customer in first]
    assert walked == made[::-1]
    assert [c.id for c in client.customers.list(limit=100, starting_after=made[50])] == made[:50][::-1]
    # started with ending_before, the walk goes towards newer customers, oldest first (as Stripe's)
    newer = client.customers.list(limit=30, ending_before=made[0])
    assert [c.id for c in newer.data] == made[1:31][::-1]
    assert [c.id for c in newer] == made[1:]
