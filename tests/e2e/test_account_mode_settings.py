"""Account settings users ask for (issue 20, item 3), through the real OpenAI SDK: `require_customer`
and `bare_model_provider` per mode, the bare-name 400 that names the fix, dated snapshots,
`GET /v1/models/:id` for every listed ref, and a new key's mode defaulting to the caller's."""

from __future__ import annotations

import secrets
from typing import Any

import openai
import pytest

from tests.harness import Stack, wait_until

MODEL = "fc:openai/gpt-4o-mini"
HELLO: Any = [{"role": "user", "content": "Hello"}]


def sdk(stack: Stack, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key, max_retries=0)


def patch(stack: Stack, key: str, body: dict[str, Any]) -> dict[str, Any]:
    response = stack.call("PATCH", "/v1/account", key, body)
    assert response.status == 200, response.body
    return dict(response.json())


def refusal(stack: Stack, key: str) -> openai.BadRequestError | None:
    """The 400 an unattributed call gets, None while it is still let through."""
    try:
        sdk(stack, key).chat.completions.create(model=MODEL, messages=HELLO)
    except openai.BadRequestError as error:
        return error
    return None


def test_the_account_shows_both_settings_and_they_are_kept_per_mode(stack: Stack) -> None:
    account = stack.new_account()
    shown = stack.call("GET", "/v1/account", account["test"]).json()
    assert shown["require_customer"] is False and shown["bare_model_provider"] is None
    changed = patch(stack, account["test"], {"require_customer": True, "bare_model_provider": "openai"})
    assert changed["require_customer"] is True and changed["bare_model_provider"] == "openai"
    assert stack.call("GET", "/v1/account", account["test"]).json()["bare_model_provider"] == "openai"
    live = stack.call("GET", "/v1/account", account["live"]).json()
    assert live["require_customer"] is False and live["bare_model_provider"] is None
    assert patch(stack, account["test"], {"bare_model_provider": None})["bare_model_provider"] is None


@pytest.mark.parametrize(
    "body", [{"require_customer": "yes"}, {"bare_model_provider": "nope"}, {"bare_model_provider": 3}]
)
def test_bad_settings_are_400(stack: Stack, body: dict[str, Any]) -> None:
    account = stack.new_account()
    response = stack.call("PATCH", "/v1/account", account["test"], body)
    assert response.status == 400 and response.json()["error"]["param"] == next(iter(body)), response.body


def test_require_customer_refuses_a_call_without_one_and_lets_a_named_customer_through(stack: Stack) -> None:
    account = stack.new_account()
    key = account["test"]
    assert sdk(stack, key).chat.completions.create(model=MODEL, messages=HELLO).choices  # off by default
    patch(stack, key, {"require_customer": True})
    refused = wait_until(lambda: refusal(stack, key), 5, "require_customer to take effect (a lease lasts ≤ 1 s)")
    assert refused.body["code"] == "customer_required" and refused.status_code == 400
    assert "FC-Customer" in refused.message
    external_id = "req_" + secrets.token_hex(4)
    assert stack.call("POST", "/v1/customers", key, {"external_id": external_id}).status == 201
    named = sdk(stack, key).chat.completions.create(
        model=MODEL, messages=HELLO, extra_headers={"FC-Customer": f"ext:{external_id}"}
    )
    assert named.choices[0].message.content
    by_user = sdk(stack, key).chat.completions.create(model=MODEL, messages=HELLO, user=external_id)
    assert by_user.choices[0].message.content
    # the live mode of the same account is untouched
    assert sdk(stack, account["live"]).chat.completions.create(model="fc:ringside/test", messages=HELLO).choices


def test_a_bare_name_is_400_naming_the_refs_and_the_setting_until_the_account_opts_in(stack: Stack) -> None:
    account = stack.new_account()
    key = account["test"]
    with pytest.raises(openai.BadRequestError) as refused:
        sdk(stack, key).chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert refused.value.body["code"] == "invalid_model_ref"  # type: ignore[index]
    assert MODEL in refused.value.message and "bare_model_provider" in refused.value.message
    patch(stack, key, {"bare_model_provider": "openai"})
    raw = sdk(stack, key).chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HELLO)
    assert raw.headers["x-ringside-model-resolved"] == MODEL and raw.parse().choices
    embedded = sdk(stack, key).embeddings.create(model="text-embedding-3-small", input="x", encoding_format="float")
    assert len(embedded.data[0].embedding) == 1536
    with pytest.raises(openai.BadRequestError) as unknown:  # that provider does not list it
        sdk(stack, key).chat.completions.create(model="claude-sonnet-4-5", messages=HELLO)
    assert "fc:anthropic/claude-sonnet-4-5" in unknown.value.message


def test_a_slot_of_the_bare_name_comes_before_the_provider(stack: Stack) -> None:
    account = stack.new_account()
    key = account["test"]
    patch(stack, key, {"bare_model_provider": "openai"})
    assert stack.call("POST", "/v1/slots", key, {"name": "gpt-4o", "model": "fc:openai/gpt-4.1"}).status == 201
    raw = sdk(stack, key).chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)
    assert raw.headers["x-ringside-model-resolved"] == "fc:openai/gpt-4.1"


def test_a_dated_snapshot_is_served_and_named_as_asked(stack: Stack) -> None:
    raw = sdk(stack, stack.test_key).chat.completions.with_raw_response.create(
        model="fc:openai/gpt-4o-2024-08-06", messages=HELLO
    )
    assert raw.headers["x-ringside-model-resolved"] == "fc:openai/gpt-4o-2024-08-06"
    assert raw.parse().model == "gpt-4o-2024-08-06"


def test_every_listed_model_can_be_retrieved_and_an_unknown_one_is_404(stack: Stack) -> None:
    account = stack.new_account()
    key = account["test"]
    assert stack.call("POST", "/v1/slots", key, {"name": "cheap", "model": MODEL}).status == 201
    client = sdk(stack, key)
    listed = list(client.models.list())
    assert any(m.id.startswith("match:") for m in listed) and any(m.id == "slot:cheap" for m in listed)
    for model in listed:
        assert client.models.retrieve(model.id) == model
    plain = stack.call("GET", "/v1/models/fc:openai/gpt-4o-mini", key)  # curl sends the slash as is
    assert plain.status == 200 and plain.json()["id"] == MODEL
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("fc:openai/no-such-model")
    live_only = sdk(stack, account["live"])  # a live key sees only configured providers
    with pytest.raises(openai.NotFoundError):
        live_only.models.retrieve("fc:anthropic/claude-sonnet-4-5")


def test_a_new_key_takes_the_callers_mode_unless_told(stack: Stack) -> None:
    account = stack.new_account()
    made = stack.call("POST", "/v1/api_keys", account["test"], {"name": "ci"})
    assert made.status == 201 and made.json()["livemode"] is False and made.json()["secret"].startswith("sk_test_")
    live = stack.call("POST", "/v1/api_keys", account["live"], {"name": "ci"})
    assert live.status == 201 and live.json()["livemode"] is True
    refused = stack.call("POST", "/v1/api_keys", account["test"], {"mode": "live"})
    assert refused.status == 403
