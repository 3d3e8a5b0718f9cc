"""/v1/vector_stores with the real OpenAI SDK: create (embedding_model resolved once and pinned,
the local model by default), retrieve, list, modify, delete; per-customer ownership with the
account's shared stores; every body bound a 400."""

from __future__ import annotations

import secrets
from typing import Any

import openai
import pytest

from tests.e2e.test_chat_completions import client
from tests.harness import Stack

LOCAL = "fc:local/all-minilm-l6-v2"


def _customer(stack: Stack, key: str) -> str:
    external = "owner_" + secrets.token_hex(4)
    assert stack.call("POST", "/v1/customers", key, {"external_id": external}).status == 201
    return f"ext:{external}"


def test_create_retrieve_list_modify_delete(rag_stack: Stack) -> None:
    key = rag_stack.new_account()["live"]
    sdk = client(rag_stack, key)
    store = sdk.vector_stores.create(name="handbook", metadata={"team": "support"})
    raw = store.model_dump()
    assert store.id.startswith("vs_") and store.object == "vector_store" and store.status == "completed"
    assert (raw["embedding_model"], raw["embedding_model_requested"]) == (LOCAL, LOCAL)
    assert raw["customer_id"] is None and raw["shared"] is False
    assert raw["chunking_strategy"] == {"type": "auto"}
    assert store.file_counts.total == 0 and store.usage_bytes == 0 and store.expires_after is None

    assert sdk.vector_stores.retrieve(store.id).model_dump() == raw
    second = sdk.vector_stores.create(name="second")
    assert [s.id for s in sdk.vector_stores.list()] == [second.id, store.id]
    assert [s.id for s in sdk.vector_stores.list(order="asc", limit=1)] == [store.id, second.id]  # auto-paged

    changed = sdk.vector_stores.update(
        store.id, name="manual", metadata={"team": "docs"}, expires_after={"anchor": "last_active_at", "days": 7}
    )
    assert (changed.name, changed.metadata, changed.expires_after.days) == ("manual", {"team": "docs"}, 7)  # type: ignore[union-attr]
    assert changed.expires_at == changed.last_active_at + 7 * 86_400
    assert sdk.vector_stores.retrieve(store.id).name == "manual"

    deleted = sdk.vector_stores.delete(store.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (store.id, True, "vector_store.deleted")
    with pytest.raises(openai.NotFoundError):
        sdk.vector_stores.retrieve(store.id)
    assert [s.id for s in sdk.vector_stores.list()] == [second.id]


def test_the_embedding_model_is_resolved_and_pinned(rag_stack: Stack) -> None:
    key = rag_stack.new_account()["live"]
    sdk = client(rag_stack, key)

    def create(**body: Any) -> dict[str, Any]:
        return dict(sdk.vector_stores.create(extra_body=body).model_dump())

    bare = create(embedding_model="text-embedding-3-small")  # seed 002's curl: OpenAI's name
    assert (bare["embedding_model"], bare["embedding_model_requested"]) == (
        "fc:openai/text-embedding-3-small",
        "text-embedding-3-small",
    )
    assert create(embedding_model="fc:local/all-minilm-l6-v2")["embedding_model"] == LOCAL
    one = "emb" + secrets.token_hex(3)
    assert (
        rag_stack.call("POST", "/v1/slots", key, {"name": one, "model": "fc:openai/text-embedding-3-large"}).status
        == 201
    )
    assert create(embedding_model=f"slot:{one}")["embedding_model"] == "fc:openai/text-embedding-3-large"

    two = "fb" + secrets.token_hex(3)
    models = ["fc:openai/text-embedding-3-large", "fc:openai/text-embedding-3-small"]
    assert rag_stack.call("POST", "/v1/slots", key, {"name": two, "models": models}).status == 201
    for refused in ("fc:openai/gpt-4o-mini", f"slot:{two}", "fc:nowhere/model", "slot:missing", 42):
        response = rag_stack.call("POST", "/v1/vector_stores", key, {"embedding_model": refused})
        assert response.status == 400, (refused, response.body)
        assert response.json()["error"]["param"] == "embedding_model", refused


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 0},
                }
            },
            "chunking_strategy",
        ),  # above MiniLM's 256
        (
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 101},
                }
            },
            "chunking_strategy",
        ),
        (
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0},
                }
            },
            "chunking_strategy",
        ),
        ({"chunking_strategy": {"type": "semantic"}}, "chunking_strategy"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"k": "v" * 513}}, "metadata"),
        ({"metadata": {"k": 1}}, "metadata"),
        ({"name": "n" * 257}, "name"),
        ({"expires_after": {"anchor": "created_at", "days": 3}}, "expires_after"),
        ({"expires_after": {"anchor": "last_active_at", "days": 366}}, "expires_after"),
        ({"shared": "yes"}, "shared"),
        ({"colour": "blue"}, "colour"),
        ({"file_ids": "file-abc"}, "file_ids"),
        ({"file_ids": ["file-abc"] * 501}, "file_ids"),
    ],
)
def test_every_bound_of_create_is_a_400(rag_stack: Stack, body: dict[str, Any], param: str) -> None:
    response = rag_stack.call("POST", "/v1/vector_stores", rag_stack.live_key, body)
    assert response.status == 400, response.body
    assert response.json()["error"]["param"] == param


def test_a_static_chunking_within_the_window_is_kept(rag_stack: Stack) -> None:
    static = {"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 50}}
    created = rag_stack.call("POST", "/v1/vector_stores", rag_stack.live_key, {"chunking_strategy": static})
    assert created.status == 200, created.body
    assert created.json()["chunking_strategy"] == static


def test_ownership_and_shared_account_stores(rag_stack: Stack) -> None:
    """A customer's store is 404 to another customer and to another account; the account sees it;
    an account store marked shared may be retrieved (not changed) by its customers."""
    key = rag_stack.new_account()["live"]
    alice, bob = _customer(rag_stack, key), _customer(rag_stack, key)

    def call(method: str, path: str, who: str | None, body: Any = None, as_key: str = key) -> Any:
        return rag_stack.call(method, path, as_key, body, headers={"FC-Customer": who} if who else {})

    mine = call("POST", "/v1/vector_stores", alice, {"name": "alice"}).json()
    assert mine["customer_id"].startswith("cus_")
    handbook = call("POST", "/v1/vector_stores", None, {"name": "handbook", "shared": True}).json()
    private = call("POST", "/v1/vector_stores", None, {"name": "internal"}).json()
    other_key = rag_stack.new_account()["live"]

    assert call("GET", f"/v1/vector_stores/{mine['id']}", alice).status == 200
    assert call("GET", f"/v1/vector_stores/{mine['id']}", None).status == 200
    for method, body in (("GET", None), ("POST", {"name": "x"}), ("DELETE", None)):
        assert call(method, f"/v1/vector_stores/{mine['id']}", bob, body).status == 404
        assert call(method, f"/v1/vector_stores/{mine['id']}", None, body, other_key).status == 404
        assert call(method, f"/v1/vector_stores/{private['id']}", alice, body).status == 404
    assert call("GET", f"/v1/vector_stores/{handbook['id']}", bob).json()["shared"] is True
    assert call("POST", f"/v1/vector_stores/{handbook['id']}", bob, {"name": "mine now"}).status == 404
    assert call("DELETE", f"/v1/vector_stores/{handbook['id']}", bob).status == 404

    def listed(who: str | None, query: str = "") -> list[str]:
        response = call("GET", "/v1/vector_stores" + query, who)
        assert response.status == 200, response.body
        return [s["id"] for s in response.json()["data"]]

    assert listed(alice) == [handbook["id"], mine["id"]]
    assert listed(bob) == [handbook["id"]]
    assert listed(None) == [private["id"], handbook["id"], mine["id"]]
    assert listed(None, f"?customer_id={alice}") == [mine["id"]]
    refused = call("POST", "/v1/vector_stores", alice, {"shared": True})
    assert refused.status == 400 and refused.json()["error"]["param"] == "shared"
    assert call("GET", "/v1/vector_stores", "ext:nobody").status == 404


def test_list_bounds_are_400(rag_stack: Stack) -> None:
    for query, param in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("order=up", "order"),
        ("after=vs_nope", "after"),
    ]:
        response = rag_stack.call("GET", f"/v1/vector_stores?{query}", rag_stack.live_key)
        assert response.status == 400 and response.json()["error"]["param"] == param, query


def test_a_stores_embedding_model_is_checked_against_allowed_models(rag_stack: Stack) -> None:
    from tests.e2e.test_allowed_models import new_key

    admin = rag_stack.new_account()["live"]
    chat_only = client(rag_stack, new_key(rag_stack, admin, ["fc:openai/gpt-4o-mini"])["secret"])
    with pytest.raises(openai.PermissionDeniedError) as refused:
        chat_only.vector_stores.create(name="no")
    assert refused.value.code == "model_not_allowed"
    local_only = client(rag_stack, new_key(rag_stack, admin, ["fc:local/*"])["secret"])
    assert local_only.vector_stores.create(name="yes").model_dump()["embedding_model"] == LOCAL
    # the owner's own list counts too
    owner = _customer(rag_stack, admin)
    assert rag_stack.call("PATCH", f"/v1/customers/{owner}", admin, {"allowed_models": ["fc:openai/*"]}).status == 200
    refused_for_owner = rag_stack.call(
        "POST", "/v1/vector_stores", admin, {"name": "x"}, headers={"FC-Customer": owner}
    )
    assert refused_for_owner.status == 403 and refused_for_owner.json()["error"]["code"] == "model_not_allowed"
