"""`fc:local/all-minilm-l6-v2` through POST /v1/embeddings with the real OpenAI SDK: the rag role's
real model answers live and test keys alike (never the test model), metered at its catalog price
(0) with its word pieces counted in usage; the rag role down is 503, bad input 400."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import numpy as np
import openai
import pytest

from tests.e2e.test_chat_completions import client
from tests.harness import Stack, wait_until

MODEL = "fc:local/all-minilm-l6-v2"
REFERENCE = json.loads((pathlib.Path(__file__).parents[1] / "rag" / "fixtures" / "minilm_reference.json").read_text())


def _cosines(vectors: list[list[float]], reference: list[list[float]]) -> Any:
    got, want = np.asarray(vectors), np.asarray(reference)
    return (got * want).sum(axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))


@pytest.mark.parametrize("mode", ["live", "test"])
def test_live_and_test_keys_get_the_reference_models_vectors(rag_stack: Stack, mode: str) -> None:
    key = rag_stack.live_key if mode == "live" else rag_stack.test_key
    sentences = REFERENCE["sentences"][:6]
    raw = client(rag_stack, key).embeddings.with_raw_response.create(model=MODEL, input=sentences)  # SDK: base64
    answer = raw.parse()
    assert raw.headers["x-ringside-model-resolved"] == MODEL
    assert [len(item.embedding) for item in answer.data] == [384] * len(sentences)
    assert min(_cosines([item.embedding for item in answer.data], REFERENCE["vectors"][:6])) >= 0.999
    floats = client(rag_stack, key).embeddings.create(model=MODEL, input=sentences[0], encoding_format="float")
    assert floats.data[0].embedding == pytest.approx(answer.data[0].embedding, abs=1e-6)
    # word pieces of the model's own tokenizer, [CLS] and [SEP] included: not the test model's bytes/4
    assert answer.usage.prompt_tokens == answer.usage.total_tokens > len(" ".join(sentences).split())
    assert floats.usage.prompt_tokens == 12  # "The quick brown fox jumps over the lazy dog." + 2


def test_usage_counts_the_local_models_tokens_at_price_zero(rag_stack: Stack) -> None:
    tenant = rag_stack.new_account()  # a clean account: only these calls in its usage
    key = tenant["live"]
    customer = rag_stack.call("POST", "/v1/customers", key, {"external_id": "reader"}).json()["id"]
    sdk = client(rag_stack, key)
    tokens = 0
    for text in ("How do I reset my password?", ["Invoices are issued monthly.", "Refunds take five days."]):
        answer = sdk.embeddings.create(model=MODEL, input=text, extra_headers={"FC-Customer": customer})
        tokens += answer.usage.prompt_tokens

    def report() -> dict[str, Any] | None:
        response = rag_stack.call("GET", "/v1/usage?group_by=model", key)
        assert response.status == 200, response.body
        rows = [row for row in response.json()["data"] if row["model"] == MODEL]
        return rows[0] if rows and rows[0]["request_count"] == 2 else None

    row = wait_until(report, 10, "the two calls to be recorded")
    assert row["input_tokens"] == tokens > 0
    assert float(row["total_billable_usd"]) == 0
    state = rag_stack.call("GET", f"/v1/customers/{customer}", key).json()
    assert state["request_count_mtd"] == 2 and float(state["spend_usd_mtd"]) == 0


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": [[101, 2023, 102]]}, "input"),  # another tokenizer's ids cannot be read here
        ({"input": "  "}, "input"),
        ({"input": "hello", "dimensions": 128}, "dimensions"),
    ],
)
def test_input_the_local_model_cannot_take_is_400(rag_stack: Stack, body: dict[str, Any], param: str) -> None:
    for key in (rag_stack.live_key, rag_stack.test_key):
        response = rag_stack.call("POST", "/v1/embeddings", key, {"model": MODEL, **body})
        assert response.status == 400, response.body
        assert response.json()["error"]["param"] == param


def test_the_local_model_is_not_a_chat_model(rag_stack: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client(rag_stack).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert refused.value.body["code"] == "route_not_supported"  # type: ignore[index]


def test_without_the_rag_role_the_local_model_is_503_for_every_key(stack: Stack) -> None:
    for key in (stack.live_key, stack.test_key):
        with pytest.raises(openai.InternalServerError) as unavailable:
            client(stack, key).embeddings.create(model=MODEL, input="hello")
        assert unavailable.value.status_code == 503
        assert unavailable.value.body["code"] == "model_unavailable"  # type: ignore[index]
