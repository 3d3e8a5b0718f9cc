"""A running stack's answers against the OpenAPI document: each body validates against the schema
documented for its route and status (the error envelope for every 4xx), and the document itself is
served at /openapi.json without a key."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from edge_http.openapi.document import load_document
from tests.harness import ADMIN_KEY, Response, Stack

DOCUMENT_URI = "urn:ringside:openapi"
CHAT_MODEL = "fc:openai/gpt-4o-mini"
EMBEDDING_MODEL = "fc:openai/text-embedding-3-small"
RECEIVER = "https://hooks.example.invalid/openapi"  # never resolves: accepted, never contacted


class Contract:
    """Finds the schema the document gives a route's answer and validates a body against it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)

    def _at(self, pointer: str) -> Any:
        node: Any = self.document
        for part in pointer.lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def schema_pointer(self, method: str, path: str, status: int, media_type: str = "application/json") -> str:
        """The JSON pointer of the documented schema; a 2xx must be documented by its own status."""
        responses = self.document["paths"][path][method.lower()]["responses"]
        key = str(status) if str(status) in responses else "default"
        assert key != "default" or status >= 400, f"{method} {path} answered {status}, which is not documented"
        pointer = f"/paths/{path.replace('~', '~0').replace('/', '~1')}/{method.lower()}/responses/{key}"
        if "$ref" in responses[key]:
            pointer = responses[key]["$ref"].removeprefix("#")
        return f"{pointer}/content/{media_type.replace('/', '~1')}/schema"

    def errors(self, pointer: str, body: Any) -> list[str]:
        validator = Draft202012Validator({"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=self.registry)
        return [f"{list(error.absolute_path)}: {error.message[:300]}" for error in validator.iter_errors(body)]

    def check(self, method: str, path: str, response: Response, status: int | None = None) -> Any:
        """Asserts the answer has the expected status, `x-request-id` and its documented shape."""
        assert status is None or response.status == status, response.body[:500]
        assert response.headers.get("x-request-id"), f"{method} {path}: no x-request-id"
        body = json.loads(response.body)
        assert self.errors(self.schema_pointer(method, path, response.status), body) == [], (method, path, body)
        return body


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(load_document())


def test_the_document_is_served_without_a_key(stack: Stack) -> None:
    response = stack.call("GET", "/openapi.json")
    assert response.status == 200 and response.headers["content-type"].startswith("application/json")
    assert json.loads(response.body) == load_document()


def test_customers_wallets_and_tokens_answer_as_documented(stack: Stack, contract: Contract) -> None:
    key = stack.live_key
    body = {"external_id": "oa_" + secrets.token_hex(5), "name": "Ada", "metadata": {"plan": "pro", "seats": 3}}
    created = contract.check("POST", "/v1/customers", stack.call("POST", "/v1/customers", key, body), 201)
    again = stack.call("POST", "/v1/customers", key, body)
    contract.check("POST", "/v1/customers", again, 200)
    path = f"/v1/customers/{created['id']}"
    contract.check("GET", "/v1/customers/{id}", stack.call("GET", path, key), 200)
    patched = stack.call("PATCH", path, key, {"budget_usd": "12.5", "rate_limit_rpm": 100})
    assert contract.check("PATCH", "/v1/customers/{id}", patched, 200)["budget_usd"] == 12.5
    listed = stack.call("GET", "/v1/customers?limit=2", key)
    contract.check("GET", "/v1/customers", listed, 200)
    topup = stack.call("POST", path + "/wallet/topup", key, {"amount_usd": 5}, headers={"Idempotency-Key": "k1"})
    contract.check("POST", "/v1/customers/{id}/wallet/topup", topup, 200)
    replay = stack.call("POST", path + "/wallet/topup", key, {"amount_usd": 5}, headers={"Idempotency-Key": "k1"})
    assert replay.headers.get("idempotent-replayed") == "true"
    contract.check("POST", "/v1/customers/{id}/wallet/topup", replay, 200)
    adjusted = stack.call("POST", path + "/wallet/adjust", key, {"amount_usd": "-1", "reason": "goodwill"})
    contract.check("POST", "/v1/customers/{id}/wallet/adjust", adjusted, 200)
    contract.check("GET", "/v1/customers/{id}/wallet", stack.call("GET", path + "/wallet", key), 200)
    contract.check("GET", "/v1/customers/{id}/periods", stack.call("GET", path + "/periods", key), 200)
    token_body = {"origin": "https://app.example.com", "allowed_endpoints": [f"GET {path}"]}
    minted = stack.call("POST", path + "/client_tokens", key, token_body)
    token = contract.check("POST", "/v1/customers/{id}/client_tokens", minted, 201)["token"]
    as_browser = stack.call(
        "GET", path, headers={"Authorization": f"Client {token}", "Origin": "https://app.example.com"}
    )
    contract.check("GET", "/v1/customers/{id}", as_browser, 200)
    revoked = stack.call("POST", path + "/client_tokens/revoke_all", key)
    contract.check("POST", "/v1/customers/{id}/client_tokens/revoke_all", revoked, 200)
    contract.check("GET", "/.well-known/jwks.json", stack.call("GET", "/.well-known/jwks.json"), 200)
    deleted = stack.call("DELETE", path + "?force=true", key)
    contract.check("DELETE", "/v1/customers/{id}", deleted, 200)
    erased = _new_customer(stack)
    erasing = stack.call("POST", f"/v1/customers/{erased}/erase", key, {"force": True})
    assert contract.check("POST", "/v1/customers/{id}/erase", erasing, 202)["erasure"]["status"] == "pending"


def _new_customer(stack: Stack) -> str:
    created = stack.call("POST", "/v1/customers", stack.live_key, {"external_id": "oa_" + secrets.token_hex(5)})
    assert created.status == 201, created.body
    return str(created.json()["id"])


def test_account_objects_answer_as_documented(stack: Stack, contract: Contract) -> None:
    key = stack.live_key
    tier = contract.check(
        "POST",
        "/v1/tiers",
        stack.call("POST", "/v1/tiers", key, {"name": "t_" + secrets.token_hex(4), "budget_usd": 10}),
        201,
    )
    contract.check("GET", "/v1/tiers/{id}", stack.call("GET", f"/v1/tiers/{tier['id']}", key), 200)
    contract.check("GET", "/v1/tiers", stack.call("GET", "/v1/tiers", key), 200)
    slot_body = {"name": "s_" + secrets.token_hex(4), "models": [CHAT_MODEL, "fc:openai/gpt-4o"]}
    contract.check("POST", "/v1/slots", stack.call("POST", "/v1/slots", key, slot_body), 201)
    contract.check("GET", "/v1/slots", stack.call("GET", "/v1/slots", key), 200)
    hook = stack.call("POST", "/v1/webhooks", key, {"url": RECEIVER, "events": ["customer.created"]})
    endpoint = contract.check("POST", "/v1/webhooks", hook, 201)
    assert endpoint["secret"].startswith("whsec_")
    hook_path = f"/v1/webhooks/{endpoint['id']}"
    rotated = stack.call("POST", hook_path + "/rotate_secret", key, {"overlap_seconds": 60})
    contract.check("POST", "/v1/webhooks/{id}/rotate_secret", rotated, 200)
    deliveries = stack.call("GET", hook_path + "/deliveries", key)
    contract.check("GET", "/v1/webhooks/{id}/deliveries", deliveries, 200)
    contract.check("GET", "/v1/webhooks", stack.call("GET", "/v1/webhooks", key), 200)
    contract.check("GET", "/v1/events", stack.call("GET", "/v1/events?limit=5", key), 200)
    for query in ("", "?group_by=day", "?group_by=model", "?group_by=customer&order_by=margin_usd&order=asc"):
        contract.check("GET", "/v1/usage", stack.call("GET", "/v1/usage" + query, key), 200)
    contract.check("GET", "/v1/account", stack.call("GET", "/v1/account", key), 200)
    contract.check("GET", "/v1/api_keys", stack.call("GET", "/v1/api_keys", key), 200)
    contract.check("GET", "/v1/billing/stripe/syncs", stack.call("GET", "/v1/billing/stripe/syncs", key), 200)
    contract.check("GET", "/v1/accounts", stack.call("GET", "/v1/accounts?limit=3", ADMIN_KEY), 200)
    for probe in ("/healthz", "/livez", "/readyz"):
        contract.check("GET", probe, stack.call("GET", probe), 200)


def test_peer_routes_answer_as_documented(stack: Stack, contract: Contract) -> None:
    key = stack.live_key
    budget_id = "b_" + secrets.token_hex(4)
    budget = stack.call("POST", "/budget/new", key, {"budget_id": budget_id, "max_budget": "0", "rpm_limit": 10})
    contract.check("POST", "/budget/new", budget, 200)
    user = "u_" + secrets.token_hex(4)
    created = stack.call("POST", "/customer/new", key, {"user_id": user, "budget_id": budget_id})
    contract.check("POST", "/customer/new", created, 200)
    contract.check("GET", "/customer/info", stack.call("GET", f"/customer/info?end_user_id={user}", key), 200)
    contract.check("GET", "/budget/info", stack.call("GET", f"/budget/info?budget_id={budget_id}", key), 200)
    contract.check("POST", "/customer/block", stack.call("POST", "/customer/block", key, {"user_ids": [user]}), 200)


def test_model_calls_answer_in_openai_schemas(stack: Stack, contract: Contract) -> None:
    key = stack.live_key
    chat = {"model": CHAT_MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    answered = stack.call("POST", "/v1/chat/completions", key, chat)
    contract.check("POST", "/v1/chat/completions", answered, 200)
    assert answered.headers["x-ringside-model-resolved"] == CHAT_MODEL
    contract.check("POST", "/chat/completions", stack.call("POST", "/chat/completions", key, chat), 200)
    embedded = stack.call("POST", "/v1/embeddings", key, {"model": EMBEDDING_MODEL, "input": ["a", "b"]})
    contract.check("POST", "/v1/embeddings", embedded, 200)
    moderated = stack.call("POST", "/v1/moderations", key, {"input": ["a", "b"]})
    contract.check("POST", "/v1/moderations", moderated, 200)
    contract.check("GET", "/v1/models", stack.call("GET", "/v1/models", key), 200)


@pytest.mark.parametrize("mode", ["live", "test"])
def test_every_streamed_chunk_is_an_openai_stream_chunk(stack: Stack, contract: Contract, mode: str) -> None:
    key = stack.live_key if mode == "live" else stack.test_key
    body = {
        "model": CHAT_MODEL,
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "count to three"}],
    }
    streamed = stack.call("POST", "/v1/chat/completions", key, body)
    assert streamed.status == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    frames = [line.removeprefix(b"data: ") for line in streamed.body.split(b"\n") if line.startswith(b"data: ")]
    assert frames[-1] == b"[DONE]" and len(frames) >= 3
    chunk_schema = "/components/schemas/OpenAICreateChatCompletionStreamResponse"
    for frame in frames[:-1]:
        assert contract.errors(chunk_schema, json.loads(frame)) == [], frame


def test_refusals_answer_the_documented_error_envelope(stack: Stack, contract: Contract) -> None:
    key = stack.live_key
    cases = [
        ("GET", "/v1/customers", "/v1/customers", None, None, 401),
        ("GET", "/v1/customers/{id}", "/v1/customers/cus_missing", key, None, 404),
        ("POST", "/v1/customers", "/v1/customers", key, {"billing_anchor_day": 29}, 400),
        ("GET", "/v1/customers", "/v1/customers?limit=1000", key, None, 400),
        ("POST", "/v1/tiers", "/v1/tiers", key, {"name": 5}, 400),
        ("POST", "/v1/chat/completions", "/v1/chat/completions", key, {"model": "gpt-4o", "messages": []}, 400),
        ("POST", "/v1/embeddings", "/v1/embeddings", "sk_live_forged", {"model": EMBEDDING_MODEL, "input": "x"}, 401),
        ("GET", "/v1/accounts", "/v1/accounts", key, None, 403),  # an account key: not the operator
    ]
    for method, template, path, caller, body, status in cases:
        error = contract.check(method, template, stack.call(method, path, caller, body), status)["error"]
        assert error["request_id"] and error["code"], error
    bad_json = stack.call("POST", "/v1/customers", key, raw=b"{not json")
    assert contract.check("POST", "/v1/customers", bad_json, 400)["error"]["type"] == "invalid_request_error"
    # A route that does not exist answers the same envelope (there is no path to look it up by).
    unknown = stack.call("GET", "/v1/nowhere", key)
    assert unknown.status == 404
    assert contract.errors("/components/schemas/Error", json.loads(unknown.body)) == []


def test_the_contract_refuses_a_body_off_its_schema(contract: Contract) -> None:
    """The check above can fail: a missing field, an undocumented one, a wrong type are caught."""
    envelope = {
        "error": {
            "type": "invalid_request_error",
            "code": "invalid_request",
            "message": "m",
            "param": None,
            "request_id": "req_1",
            "retry_after_seconds": None,
        }
    }
    assert contract.errors("/components/schemas/Error", envelope) == []
    del envelope["error"]["request_id"]
    assert contract.errors("/components/schemas/Error", envelope) != []
    deleted = {"id": "cus_1", "object": "customer", "deleted": True}
    assert contract.errors("/components/schemas/Deleted", deleted) == []
    assert contract.errors("/components/schemas/Deleted", {**deleted, "surprise": 1}) != []
    assert contract.errors("/components/schemas/Deleted", {**deleted, "deleted": "yes"}) != []
