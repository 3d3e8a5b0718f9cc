"""POST /v1/moderations end to end with the real OpenAI SDK: the test model's answer at OpenAI's
shape, a live call through the fake OpenAI upstream, each call metered (price 0: free) and in
/v1/usage, and the 400 for a provider that does not serve the route."""

from __future__ import annotations

import openai
import pytest
from openai.types import ModerationCreateResponse

from tests.e2e.test_chat_completions import client, new_customer, settled
from tests.fakes.openai_moderations import CATEGORIES
from tests.harness import Stack, wait_until

DEFAULT = "fc:openai/omni-moderation-latest"


def _assert_openai_shape(raw: dict[str, object], results: int) -> None:
    """Every field of OpenAI's ModerationCreateResponse, by name and type (the SDK's types are
    generated from OpenAI's OpenAPI document)."""
    reply = ModerationCreateResponse.model_validate(raw)
    assert reply.id.startswith("modr-") and reply.model
    assert len(reply.results) == results
    for result in raw["results"]:  # type: ignore[attr-defined]
        assert set(result) >= {"flagged", "categories", "category_scores", "category_applied_input_types"}
        assert set(result["categories"]) == set(CATEGORIES)
        assert all(isinstance(value, bool) for value in result["categories"].values())
        assert set(result["category_scores"]) == set(CATEGORIES)
        assert all(0 <= score <= 1 for score in result["category_scores"].values())
        applied = result["category_applied_input_types"]
        assert set(applied) == set(CATEGORIES)
        assert all(set(kinds) <= set(CATEGORIES[name]) for name, kinds in applied.items())


def test_a_test_key_gets_a_well_formed_deterministic_answer_with_unique_ids(stack: Stack) -> None:
    sdk = client(stack, stack.test_key)
    first = sdk.moderations.with_raw_response.create(input=["hello", "world"])
    second = sdk.moderations.create(input=["hello", "world"])
    raw = first.http_response.json()
    _assert_openai_shape(raw, 2)
    assert first.headers["x-ringside-model-resolved"] == DEFAULT  # model omitted: OpenAI's default
    assert raw["results"][0]["flagged"] is False
    assert second.id != raw["id"]  # ids are unique, results are not random
    assert [r.category_scores.violence for r in second.results] == [
        r["category_scores"]["violence"] for r in raw["results"]
    ]
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    multimodal = sdk.moderations.create(input=[{"type": "text", "text": "hi"}, image])  # type: ignore[list-item]
    assert len(multimodal.results) == 1
    assert multimodal.results[0].category_applied_input_types.violence == ["text", "image"]


def test_a_live_call_goes_to_the_provider_and_is_metered_at_price_zero(stack: Stack) -> None:
    tenant = stack.new_account()  # a clean account: its usage holds only this test's calls
    customer = str(new_customer(stack, tenant["live"])["id"])
    sdk = client(stack, tenant["live"])
    reply = sdk.moderations.with_raw_response.create(
        model="fc:openai/text-moderation-latest", input="be kind [[flag]]", extra_headers={"FC-Customer": customer}
    )
    raw = reply.http_response.json()
    _assert_openai_shape(raw, 1)
    assert raw["results"][0]["flagged"] is True and raw["results"][0]["categories"]["violence"] is True
    assert stack.upstream is not None
    sent = stack.upstream.requests()[-1]
    assert sent["body"] == {"model": "text-moderation-latest", "input": "be kind [[flag]]"}
    after = settled(stack, customer, 1, tenant["live"])
    assert after["spend_usd_mtd"] in (0, "0", "0.0")

    def usage() -> dict[str, object] | bool:
        report = stack.call("GET", "/v1/usage?group_by=model", tenant["live"]).json()
        return report if report["data"] else False

    rows = wait_until(usage, 10, "the moderation call to be in /v1/usage")["data"]  # type: ignore[index]
    assert [(row["model"], row["request_count"]) for row in rows] == [("fc:openai/text-moderation-latest", 1)]
    assert rows[0]["total_billable_usd"] in (0, "0", "0.0")


@pytest.mark.parametrize("key_mode", ["test", "live"])
def test_a_provider_without_the_route_is_400_naming_what_it_serves(stack: Stack, key_mode: str) -> None:
    key = stack.test_key if key_mode == "test" else stack.live_key  # test keys answer like live keys
    with pytest.raises(openai.BadRequestError) as refused:
        client(stack, key).moderations.create(model="fc:anthropic/claude-haiku-4-5", input="x")
    error = refused.value.body
    assert error["code"] == "route_not_supported" and error["param"] == "model"  # type: ignore[index]
    assert "chat (translated)" in error["message"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"input": []}, "input", "invalid_request"),
        ({"input": [{"type": "audio"}]}, "input", "invalid_request"),
        ({"input": "x", "model": "omni-moderation-latest"}, "model", "invalid_model_ref"),  # a bare name
        ({"input": "x", "model": "fc:openai/gpt-4o-mini"}, "model", "invalid_request"),  # not a moderation model
    ],
)
def test_bad_requests_are_400_before_any_call(stack: Stack, body: dict[str, object], param: str, code: str) -> None:
    response = stack.call("POST", "/v1/moderations", stack.live_key, body)
    assert response.status == 400, response.body
    assert (response.json()["error"]["code"], response.json()["error"]["param"]) == (code, param)
