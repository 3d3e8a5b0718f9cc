"""POST /v1/embeddings end to end with the real OpenAI SDK: float and base64 (the SDK's default),
through fc: and slot: refs, metered at the model's input price; the test model serves test keys."""

from __future__ import annotations

import secrets
from decimal import Decimal

import openai
import pytest

from tests.e2e.test_chat_completions import client, new_customer, settled
from tests.harness import Stack

MODEL = "fc:openai/text-embedding-3-small"
NANO_PER_MTOK = 20_000_000  # $0.02 / 1M input tokens


def test_float_and_base64_vectors_agree_and_each_call_is_metered(stack: Stack) -> None:
    customer = str(new_customer(stack)["id"])
    sdk = client(stack)
    headers = {"FC-Customer": customer}
    raw = sdk.embeddings.with_raw_response.create(
        model=MODEL, input=["hello", "world!"], encoding_format="float", extra_headers=headers
    )
    as_floats = raw.parse()
    as_base64 = sdk.embeddings.create(model=MODEL, input=["hello", "world!"], extra_headers=headers)  # SDK: base64
    assert raw.headers["x-ringside-model-resolved"] == MODEL
    assert [len(e.embedding) for e in as_floats.data] == [8, 8]
    for a, b in zip(as_floats.data, as_base64.data, strict=True):
        assert a.embedding == pytest.approx(b.embedding, abs=1e-6)
    assert stack.upstream is not None
    assert stack.upstream.requests()[-1]["body"]["encoding_format"] == "base64"  # relayed as the client asked
    tokens = as_floats.usage.prompt_tokens + as_base64.usage.prompt_tokens
    after = settled(stack, customer, 2)
    assert Decimal(str(after["spend_usd_mtd"])) == Decimal(-(-tokens * NANO_PER_MTOK // 1_000_000)).scaleb(-9) > 0


def test_a_slot_names_an_embedding_model_and_a_chat_model_is_refused(stack: Stack) -> None:
    name = "emb" + secrets.token_hex(4)
    assert stack.call("POST", "/v1/slots", stack.live_key, {"name": name, "model": MODEL}).status == 201
    reply = client(stack).embeddings.create(model=f"slot:{name}", input=[[1, 2, 3]], encoding_format="float")
    assert reply.usage.prompt_tokens == 3 and len(reply.data) == 1
    with pytest.raises(openai.BadRequestError) as refused:
        client(stack).embeddings.create(model="fc:openai/gpt-4o-mini", input="x")
    assert "not an embedding model" in refused.value.message
    with pytest.raises(openai.BadRequestError) as bare:
        client(stack).embeddings.create(model="text-embedding-3-small", input="x")
    assert bare.value.body["code"] == "invalid_model_ref"  # type: ignore[index]


def test_a_test_key_gets_the_test_models_vectors_in_either_encoding(stack: Stack) -> None:
    sdk = client(stack, stack.test_key)
    floats = sdk.embeddings.create(model=MODEL, input="same text", encoding_format="float")
    decoded = sdk.embeddings.create(model=MODEL, input="same text")
    assert len(floats.data[0].embedding) == 1536  # the catalog's dimension for this model
    assert floats.data[0].embedding == pytest.approx(decoded.data[0].embedding, abs=1e-6)
    assert floats.usage.prompt_tokens > 0


@pytest.mark.parametrize("bad", [{"input": []}, {"input": [""]}, {"input": "x", "encoding_format": "int8"}])
def test_bad_inputs_are_400_before_any_call(stack: Stack, bad: dict[str, object]) -> None:
    response = stack.call("POST", "/v1/embeddings", stack.live_key, {"model": MODEL, **bad})
    assert response.status == 400 and response.json()["error"]["code"] == "invalid_request"
