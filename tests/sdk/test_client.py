"""`Ringside` / `AsyncRingside` against a real stack: seed 002's snippet as written, the OpenAI
surface unchanged (raw responses, streaming), `FC-Customer` attribution, and the error classes."""

from __future__ import annotations

import secrets
import textwrap

import openai
import pytest

import ringside
from ringside import AsyncRingside, Model, Ringside
from tests.harness import Stack, wait_until

CHAT_MODEL = "fc:openai/gpt-4o-mini"
HELLO = [{"role": "user", "content": "Hello"}]

# Seed 002's Python snippet, verbatim (the file /work/shared/spec/seeds/002_*.txt, "SDKs").
SEED_002_SNIPPET = textwrap.dedent(
    """\
    from ringside import Ringside, Model
    client = Ringside(api_key=os.environ["FC_API_KEY"])
    model = Model.match("anthropic", "sonnet").min_version(4).build()
    # -> "match:anthropic/sonnet>=4"
    reply = client.chat.completions.create(
    model=model,
    messages=[{"role": "user", "content": "Hello"}],
    )
    # Inspect what actually served (X-Ringside-Model-Resolved header):
    # raw = client.chat.completions.with_raw_response.create(...)
    # raw.http_response.headers["x-ringside-model-resolved"]
    """
)


def _client(stack: Stack, key: str | None = None) -> Ringside:
    return Ringside(api_key=key or stack.test_key, base_url=stack.base_url + "/v1", max_retries=0)


def _external_id() -> str:
    return "ext_" + secrets.token_hex(6)


def test_seed_002_snippet_runs_as_written_with_the_base_url_from_the_environment(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FC_API_KEY", stack.test_key)
    monkeypatch.setenv("RINGSIDE_BASE_URL", stack.base_url + "/v1")
    scope: dict[str, object] = {}
    exec("import os\n" + SEED_002_SNIPPET, scope)
    assert scope["model"] == "match:anthropic/sonnet>=4"
    reply = scope["reply"]
    assert isinstance(reply, openai.types.chat.ChatCompletion)
    assert reply.choices[0].message.content
    # the commented-out lines of the snippet, run too
    client = scope["client"]
    assert isinstance(client, Ringside)
    raw = client.chat.completions.with_raw_response.create(model=str(scope["model"]), messages=HELLO)
    assert raw.http_response.headers["x-ringside-model-resolved"].startswith("fc:anthropic/claude-sonnet-")
    assert raw.parse().choices[0].message.content


def test_the_key_and_base_url_come_from_ringside_variables_never_from_openais(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RINGSIDE_BASE_URL", raising=False)
    monkeypatch.delenv("RINGSIDE_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-an-openai-secret")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    with pytest.raises(openai.OpenAIError, match="RINGSIDE_API_KEY"):
        Ringside()
    monkeypatch.setenv("RINGSIDE_API_KEY", "sk_test_from_env")
    client = Ringside()
    assert client.api_key == "sk_test_from_env"
    assert str(client.base_url) == ringside.DEFAULT_BASE_URL + "/"
    monkeypatch.setenv("RINGSIDE_BASE_URL", "http://10.0.0.5:9000/v1")
    assert str(AsyncRingside().base_url) == "http://10.0.0.5:9000/v1/"
    assert str(Ringside(base_url="http://127.0.0.1:1/v1").base_url) == "http://127.0.0.1:1/v1/"


def test_streaming_timeout_and_retries_work_as_in_the_openai_sdk(stack: Stack) -> None:
    client = _client(stack)
    chunks = list(client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    tuned = client.with_options(timeout=7.5, max_retries=4)
    assert (tuned.timeout, tuned.max_retries) == (7.5, 4)
    assert isinstance(tuned, Ringside)


def test_with_customer_attributes_every_call_to_that_customer(stack: Stack) -> None:
    client = _client(stack)
    customer = client.customers.create(external_id=_external_id())
    scoped = client.with_customer(customer.id)
    assert isinstance(scoped, Ringside)
    scoped.chat.completions.create(model=CHAT_MODEL, messages=HELLO, max_tokens=5)
    _wait_for_count(client, customer.id, 1)
    by_external = client.with_customer(f"ext:{customer.external_id}")
    by_external.chat.completions.create(model=CHAT_MODEL, messages=HELLO, max_tokens=5)
    _wait_for_count(client, customer.id, 2)


def _wait_for_count(client: Ringside, customer_id: str, count: int) -> None:
    # settles reach the core in batches: poll, with a deadline
    wait_until(lambda: client.customers.retrieve(customer_id).request_count_mtd == count, 15, f"{count} calls")


def test_errors_carry_the_envelope_and_subclass_openais(stack: Stack) -> None:
    client = _client(stack)
    with pytest.raises(ringside.NotFoundError) as missing:
        client.with_customer("cus_doesnotexist").chat.completions.create(model=CHAT_MODEL, messages=HELLO)
    assert isinstance(missing.value, openai.NotFoundError)
    assert missing.value.code == "customer_not_found" and missing.value.status_code == 404
    assert missing.value.request_id and missing.value.request_id == missing.value.response.headers["x-request-id"]

    with pytest.raises(ringside.BadRequestError) as bare:
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert isinstance(bare.value, openai.BadRequestError) and bare.value.code == "invalid_model_ref"

    with pytest.raises(ringside.AuthenticationError) as unknown_key:
        _client(stack, "sk_test_" + "x" * 32).models.list()
    assert isinstance(unknown_key.value, openai.AuthenticationError) and unknown_key.value.code == "invalid_api_key"


def test_budget_and_wallet_402s_are_distinct_classes(stack: Stack) -> None:
    client = _client(stack)
    capped = client.customers.create(external_id=_external_id(), budget_usd=0)
    with pytest.raises(ringside.BudgetExceededError) as budget:
        client.with_customer(capped.id).chat.completions.create(model=CHAT_MODEL, messages=HELLO)
    assert budget.value.status_code == 402 and budget.value.code == "customer_budget_exceeded"
    assert not isinstance(budget.value, ringside.WalletEmptyError)

    prepaid = client.customers.create(external_id=_external_id(), wallet={"enabled": True})
    with pytest.raises(ringside.WalletEmptyError) as wallet:
        client.with_customer(prepaid.id).chat.completions.create(model=CHAT_MODEL, messages=HELLO)
    assert wallet.value.status_code == 402 and wallet.value.code == "customer_wallet_empty"
    assert isinstance(wallet.value, ringside.PaymentRequiredError)
    assert not isinstance(wallet.value, ringside.BudgetExceededError)


def test_a_rate_limited_call_says_when_to_retry(stack: Stack) -> None:
    client = _client(stack)
    limited = client.customers.create(external_id=_external_id(), rate_limit_rpm=1)
    scoped = client.with_customer(limited.id)
    scoped.chat.completions.create(model=CHAT_MODEL, messages=HELLO, max_tokens=5)
    with pytest.raises(ringside.RateLimitError) as limit:
        scoped.chat.completions.create(model=CHAT_MODEL, messages=HELLO, max_tokens=5)
    assert isinstance(limit.value, openai.RateLimitError)
    assert limit.value.code == "customer_rate_limit_exceeded"
    assert limit.value.retry_after is not None and limit.value.retry_after > 0


async def test_the_async_client_calls_and_streams(stack: Stack) -> None:
    client = AsyncRingside(api_key=stack.test_key, base_url=stack.base_url + "/v1", max_retries=0)
    model = Model.match("anthropic", "sonnet").min_version(4).build()
    reply = await client.chat.completions.create(model=model, messages=HELLO)
    assert reply.choices[0].message.content
    stream = await client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, stream=True)
    assert [chunk async for chunk in stream]
    with pytest.raises(ringside.NotFoundError):
        await client.with_customer("ext:nobody-" + secrets.token_hex(4)).chat.completions.create(
            model=CHAT_MODEL, messages=HELLO
        )
    await client.close()
