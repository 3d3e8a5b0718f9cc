"""The same resources through `AsyncRingside`: awaited calls, `async for` over pages, errors."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest

import ringside
from ringside import AsyncRingside
from tests.harness import Stack


def _client(key: str, stack: Stack) -> AsyncRingside:
    return AsyncRingside(api_key=key, base_url=stack.base_url + "/v1", max_retries=0)


async def test_async_customers_pages_wallets_and_errors(stack: Stack) -> None:
    client = _client(stack.new_account()["test"], stack)
    made = [(await client.customers.create(external_id=f"async-{n}")).id for n in range(25)]
    first = await client.customers.list(limit=10)
    assert [c.id for c in first.data] == made[::-1][:10] and first.has_more
    assert [c.id async for c in first] == made[::-1]
    assert (await client.customers.retrieve("ext:async-3")).id == made[3]
    assert (await client.customers.update(made[3], budget_usd=Decimal("7.25"))).budget_usd == Decimal("7.25")

    topup = await client.customers.wallet.topup(made[0], amount_usd="1.5", idempotency_key="a-" + secrets.token_hex(4))
    assert topup.balance_after_usd == Decimal("1.5")
    assert [t.id async for t in await client.customers.wallet.transactions(made[0])] == [topup.id]
    assert (await client.customers.wallet.retrieve(made[0])).balance_usd == Decimal("1.5")

    assert (await client.customers.delete(made[1])).deleted
    with pytest.raises(ringside.NotFoundError):
        await client.customers.retrieve(made[1])
    with pytest.raises(ringside.ConflictError):
        await client.customers.delete(made[0])  # the wallet holds 1.5 USD
    await client.close()


async def test_async_webhooks_tokens_usage_and_settings(stack: Stack) -> None:
    client = _client(stack.new_account()["test"], stack)
    endpoint = await client.webhooks.create(url="https://hooks.example.invalid/a", events=["wallet.topup"])
    assert endpoint.secret and [e.id async for e in await client.webhooks.list()] == [endpoint.id]
    assert client.webhooks.verify is ringside.webhooks.verify
    customer = await client.customers.create(external_id="async-token", budget_usd=0)
    token = await client.client_tokens.create(
        customer.id, origin="https://app.example.com", allowed_endpoints=["POST /v1/chat/completions"]
    )
    assert token.token and token.expires_at > 0
    assert (await client.client_tokens.revoke_all(customer.id)).revoked_before > 0
    assert (await client.usage.retrieve()).request_count == 0
    assert (await client.account.update(default_max_output_tokens=64)).default_max_output_tokens == 64
    tier = await client.tiers.create(name="async-tier", rate_limit_rpm=5)
    assert [t.id async for t in await client.tiers.list()] == [tier.id]
    with pytest.raises(ringside.BudgetExceededError):
        await client.with_customer(customer.id).chat.completions.create(
            model="fc:openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=5
        )
    await client.close()
