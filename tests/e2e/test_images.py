"""OpenAI's image routes end to end with the real OpenAI SDK: the test model's deterministic PNGs,
live calls through the fake OpenAI (JSON and multipart), each image metered to the nano at the
catalog's per-image price, the room rule lowering `n`, 402/429, bounds and bad input."""

from __future__ import annotations

import base64
import http.client
from decimal import Decimal
from urllib.parse import urlsplit

import openai
import pytest

from edge_http.openapi.document import load_document
from tests.e2e.test_chat_completions import client, new_customer, settled
from tests.e2e.test_openapi_live import Contract
from tests.harness import Stack

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
UPLOAD = ("photo.png", PNG_MAGIC + b"\x00" * 64, "image/png")


def spend_nano(stack: Stack, customer: str, requests: int, key: str) -> int:
    return int(Decimal(str(settled(stack, customer, requests, key)["spend_usd_mtd"])).scaleb(9))


def test_a_test_key_draws_deterministic_pngs(stack: Stack) -> None:
    sdk = client(stack, stack.test_key)
    raw = sdk.images.with_raw_response.generate(model="fc:openai/dall-e-3", prompt="a red barn")
    first = raw.parse()
    assert raw.headers["x-ringside-model-resolved"] == "fc:openai/dall-e-3"
    assert first.data is not None and len(first.data) == 1 and first.data[0].revised_prompt == "a red barn"
    url = first.data[0].url or ""
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]).startswith(PNG_MAGIC)
    again = sdk.images.generate(model="fc:openai/dall-e-3", prompt="a red barn")
    other = sdk.images.generate(model="fc:openai/dall-e-3", prompt="a blue barn")
    assert again.data is not None and other.data is not None
    assert again.data[0].url == url != other.data[0].url
    drawn = sdk.images.generate(model="fc:openai/gpt-image-1", prompt="x", n=3, quality="low", size="1024x1024")
    assert drawn.data is not None and len(drawn.data) == 3 and all(image.b64_json for image in drawn.data)
    edited = sdk.images.edit(model="fc:openai/gpt-image-1", image=UPLOAD, prompt="add a hat", quality="low")
    varied = sdk.images.create_variation(image=UPLOAD, n=2)  # model omitted: dall-e-2
    assert edited.data is not None and varied.data is not None and len(varied.data) == 2


def test_generations_are_metered_per_image_at_the_catalog_price(stack: Stack) -> None:
    tenant = stack.new_account()
    customer = str(new_customer(stack, tenant["live"])["id"])
    sdk = client(stack, tenant["live"])
    headers = {"FC-Customer": customer}
    hd = sdk.images.generate(
        model="fc:openai/dall-e-3", prompt="a red barn", quality="hd", size="1792x1024", extra_headers=headers
    )
    assert hd.data is not None and hd.data[0].url == "https://images.fake/1.png"
    assert stack.upstream is not None
    sent = stack.upstream.requests()[-1]["body"]
    assert sent == {"model": "dall-e-3", "prompt": "a red barn", "quality": "hd", "size": "1792x1024", "n": 1}
    low = sdk.images.generate(
        model="fc:openai/gpt-image-1", prompt="x", n=2, quality="low", size="1024x1024", extra_headers=headers
    )
    assert low.data is not None and len(low.data) == 2 and low.data[0].b64_json
    # dall-e-3 hd 1792x1024: $0.12; gpt-image-1 low 1024x1024: $0.011 each
    assert spend_nano(stack, customer, 2, tenant["live"]) == 120_000_000 + 2 * 11_000_000


def test_an_edit_sends_the_files_as_multipart_and_is_metered(stack: Stack) -> None:
    tenant = stack.new_account()
    customer = str(new_customer(stack, tenant["live"])["id"])
    edited = client(stack, tenant["live"]).images.edit(
        model="fc:openai/gpt-image-1",
        image=[UPLOAD, ("second.png", PNG_MAGIC, "image/png")],
        prompt="add a hat",
        quality="medium",
        size="1024x1536",
        extra_headers={"FC-Customer": customer},
    )
    assert edited.data is not None and len(edited.data) == 1
    assert stack.upstream is not None
    sent = stack.upstream.requests()[-1]["body"]
    assert sent["prompt"] == "add a hat" and sent["model"] == "gpt-image-1" and sent["quality"] == "medium"
    assert [(f["filename"], f["bytes"]) for f in sent["image[]"]] == [("photo.png", 72), ("second.png", 8)]
    assert spend_nano(stack, customer, 1, tenant["live"]) == 63_000_000  # medium 1024x1536: $0.063


def test_the_room_lowers_n_and_a_budget_that_pays_for_none_is_402(stack: Stack) -> None:
    tenant = stack.new_account()
    customer = str(new_customer(stack, tenant["live"], budget_usd="0.05")["id"])
    sdk = client(stack, tenant["live"])
    headers = {"FC-Customer": customer}
    drawn = sdk.images.generate(model="fc:openai/dall-e-2", prompt="x", n=3, extra_headers=headers)
    assert drawn.data is not None and len(drawn.data) == 2  # $0.05 pays for two $0.02 images
    assert stack.upstream is not None and stack.upstream.requests()[-1]["body"]["n"] == 2
    assert spend_nano(stack, customer, 1, tenant["live"]) == 40_000_000
    with pytest.raises(openai.APIStatusError) as refused:
        sdk.images.generate(model="fc:openai/dall-e-3", prompt="x", extra_headers=headers)  # $0.04 > $0.01 left
    assert refused.value.status_code == 402
    assert refused.value.body["code"] == "customer_budget_exceeded"  # type: ignore[index]


def test_a_rate_limited_customer_gets_429(stack: Stack) -> None:
    customer = str(new_customer(stack, stack.test_key, rate_limit_rpm=1)["id"])
    sdk = client(stack, stack.test_key)
    sdk.images.generate(prompt="x", extra_headers={"FC-Customer": customer})
    with pytest.raises(openai.RateLimitError) as limited:
        sdk.images.generate(prompt="x", extra_headers={"FC-Customer": customer})
    assert limited.value.body["code"] == "customer_rate_limit_exceeded"  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"prompt": "x", "model": "fc:openai/dall-e-3", "n": 2}, "n", "invalid_request"),
        ({"prompt": "x", "model": "fc:openai/dall-e-2", "size": "999x999"}, "size", "invalid_request"),
        ({"prompt": "x", "model": "fc:openai/gpt-4o-mini"}, "model", "invalid_request"),
        ({"prompt": "x", "model": "dall-e-3"}, "model", "invalid_model_ref"),
        ({"prompt": "x", "n": 11}, "n", "invalid_request"),
        ({"prompt": "", "model": "fc:openai/dall-e-2"}, "prompt", "invalid_request"),
        ({"prompt": "x", "response_format": "png"}, "response_format", "invalid_request"),
    ],
)
@pytest.mark.parametrize("key_mode", ["test", "live"])
def test_bad_generations_are_400_before_any_call(
    stack: Stack, body: dict[str, object], param: str, code: str, key_mode: str
) -> None:
    key = stack.test_key if key_mode == "test" else stack.live_key  # test keys answer like live keys
    response = stack.call("POST", "/v1/images/generations", key, body)
    assert response.status == 400, response.body
    assert (response.json()["error"]["code"], response.json()["error"]["param"]) == (code, param)


def test_multipart_bounds_and_bad_forms(stack: Stack) -> None:
    not_a_form = stack.call("POST", "/v1/images/edits", stack.live_key, {"prompt": "x"})
    assert not_a_form.status == 400 and not_a_form.json()["error"]["code"] == "invalid_request"
    with pytest.raises(openai.BadRequestError) as no_image:
        client(stack).images.edit(image=("empty.png", b"", "image/png"), prompt="x")
    assert no_image.value.body["param"] == "image"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as two_images:
        client(stack).images.create_variation(image=[UPLOAD, UPLOAD])  # type: ignore[arg-type]
    assert two_images.value.body["param"] == "image"  # type: ignore[index]
    where = urlsplit(stack.base_url)
    connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
    connection.putrequest("POST", "/v1/images/edits")
    connection.putheader("Authorization", f"Bearer {stack.live_key}")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(64 * 1024 * 1024 + 1))
    connection.endheaders()
    answer = connection.getresponse()
    assert answer.status == 413 and b"payload_too_large" in answer.read()
    connection.close()


@pytest.mark.parametrize("model", ["fc:openai/dall-e-3", "fc:openai/gpt-image-1"])
@pytest.mark.parametrize("key_mode", ["test", "live"])
def test_answers_validate_against_openais_published_schema(stack: Stack, model: str, key_mode: str) -> None:
    key = stack.test_key if key_mode == "test" else stack.live_key
    answer = stack.call("POST", "/v1/images/generations", key, {"model": model, "prompt": "a barn"})
    Contract(load_document()).check("POST", "/v1/images/generations", answer, 200)
