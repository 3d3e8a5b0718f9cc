"""Assistants runs from a browser page with a Client Token instead of a key, through the real OpenAI
SDK: the token runs its customer's threads only, within the routes it names; its minting key bounds
its runs; a token minted before tokens named their key is told to mint again."""

from __future__ import annotations

import jwt
import openai
import pytest

from tests.e2e.assistants_stack import MODEL, Events, Running, new_customer, sdk_for, sent_bodies
from tests.harness import FakeUpstream, Stack, wait_until

ORIGIN = "http://localhost:5173"
BROWSER_ROUTES = [  # what a page needs for seed 002's snippet; `*` stands for a thread or run id
    "POST /v1/threads",
    "POST /v1/threads/*/messages",
    "GET /v1/threads/*/messages",
    "POST /v1/threads/*/runs",
    "GET /v1/threads/*/runs/*",
    "GET /v1/threads/*",
]


def _mint(stack: Stack, key: str, customer: str, routes: list[str] = BROWSER_ROUTES) -> str:
    body = {"origin": ORIGIN, "allowed_endpoints": routes, "ttl_seconds": 600}
    minted = stack.call("POST", f"/v1/customers/{customer}/client_tokens", key, body)
    assert minted.status == 201, minted.body
    return str(minted.json()["token"])


def _browser(stack: Stack, key: str, customer: str, routes: list[str] = BROWSER_ROUTES) -> openai.OpenAI:
    return _page(stack, _mint(stack, key, customer, routes))


def _page(stack: Stack, token: str) -> openai.OpenAI:
    """The OpenAI SDK in a page: a Client Token instead of a key (the SDK's Authorization replaced)."""
    headers = {"Authorization": f"Client {token}", "Origin": ORIGIN}
    return openai.OpenAI(base_url=stack.base_url + "/v1", api_key="unused", max_retries=0, default_headers=headers)


def test_a_token_minted_before_tokens_named_their_key_is_told_to_re_mint(running: Running) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    customer = new_customer(stack, key, "as_old_token")
    claims = jwt.decode(_mint(stack, key, customer), options={"verify_signature": False})
    assert claims["key"].startswith("key_")  # the minting key's id
    del claims["key"]  # as tokens were minted until now (the test signs with Ringside's own key)
    kid, pem = stack.query("SELECT kid, private_pem FROM signing_keys WHERE retired_at IS NULL ORDER BY created DESC")[
        0
    ]
    old = _page(stack, jwt.encode(claims, stack.open_sealed(str(pem), "private_pem"), "EdDSA", {"kid": kid}))
    with pytest.raises(openai.AuthenticationError) as refused:
        old.beta.threads.create()
    error = refused.value.body
    assert error["code"] == "invalid_client_token" and "mint a new one" in error["message"]  # type: ignore[index]
    assert error["type"] and error["request_id"]  # type: ignore[index]


def test_a_client_token_runs_its_customers_threads(running: Running, upstream: FakeUpstream) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    customer, other = new_customer(stack, key, "as_browser"), new_customer(stack, key, "as_browser_other")
    assistant = sdk_for(stack, key).beta.assistants.create(model=MODEL, instructions="Be brief.")
    browser = _browser(stack, key, customer)
    thread = browser.beta.threads.create()
    question = "Hello from a page (as-9)"
    browser.beta.threads.messages.create(thread_id=thread.id, role="user", content=question)
    run = browser.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed", run.last_error
    answer, asked = browser.beta.threads.messages.list(thread_id=thread.id).data
    assert (answer.role, asked.content[0].text.value) == ("assistant", question)  # type: ignore[union-attr]
    assert len(sent_bodies(upstream, question)) == 1
    handler = Events()
    with browser.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=handler
    ) as stream:
        stream.until_done()
    assert handler.seen[-1] == "thread.run.completed" and ("done", "message_creation", "completed") in handler.steps
    # the thread is the token's customer's, and both runs were metered to it
    assert sdk_for(stack, key, customer).beta.threads.retrieve(thread.id).id == thread.id
    usage = stack.call("GET", f"/v1/usage?customer_id={customer}&group_by=model", key).json()
    assert [(row["model"], row["request_count"]) for row in usage["data"]] == [(MODEL, 2)]
    theirs = sdk_for(stack, key, other).beta.threads.create(messages=[{"role": "user", "content": "mine"}])
    for call in [
        lambda: browser.beta.threads.create(extra_headers={"FC-Customer": other}),  # as on chat: 404
        lambda: browser.beta.threads.retrieve(theirs.id),
        lambda: browser.beta.threads.messages.create(thread_id=theirs.id, role="user", content="hi"),
        lambda: browser.beta.threads.runs.create(thread_id=theirs.id, assistant_id=assistant.id),
    ]:
        with pytest.raises(openai.NotFoundError):
            call()
    with pytest.raises(openai.PermissionDeniedError) as outside:  # not in the token's whitelist
        browser.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)
    assert outside.value.body["code"] == "endpoint_not_allowed"  # type: ignore[index]
    with pytest.raises(openai.PermissionDeniedError) as config:  # whitelisted, but assistants are the account's
        _browser(stack, key, customer, ["POST /v1/assistants"]).beta.assistants.create(model=MODEL)
    assert config.value.body["code"] == "endpoint_not_allowed"  # type: ignore[index]


def test_a_client_tokens_minting_key_bounds_its_runs(running: Running, upstream: FakeUpstream) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    customer = new_customer(stack, key, "as_minter")
    assistant = sdk_for(stack, key).beta.assistants.create(model=MODEL)
    # allowed_models: a token minted by a key that may not call the assistant's model runs nothing
    narrow = stack.call("POST", "/v1/api_keys", key, {"scopes": ["api:write"], "allowed_models": ["fc:openai/gpt-4o"]})
    assert narrow.status == 201, narrow.body
    limited = _browser(stack, narrow.json()["secret"], customer)
    empty = limited.beta.threads.create()
    with pytest.raises(openai.PermissionDeniedError) as refused:
        limited.beta.threads.runs.create(thread_id=empty.id, assistant_id=assistant.id)
    assert refused.value.body["code"] == "model_not_allowed"  # type: ignore[index]
    # revoking the minting key: the run under way stops after its model call (billed); no new run starts
    minter = stack.call("POST", "/v1/api_keys", key, {"scopes": ["api:write"]}).json()
    browser = _browser(stack, minter["secret"], customer)
    question = "[[fake:slow=100]] Take your time (as-11)"  # 16 tokens, 1.6 s
    thread = browser.beta.threads.create(messages=[{"role": "user", "content": question}])
    run = browser.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_until(lambda: sent_bodies(upstream, question), 30, "the run's model call")
    assert stack.call("DELETE", f"/v1/api_keys/{minter['id']}", key).status == 200
    ended = browser.beta.threads.runs.poll(run_id=run.id, thread_id=thread.id, poll_interval_ms=200)
    assert ended.status == "failed" and ended.last_error is not None
    assert ended.last_error.code == "invalid_api_key"  # type: ignore[comparison-overlap]
    assert [m.role for m in browser.beta.threads.messages.list(thread_id=thread.id).data] == ["user"]
    with pytest.raises(openai.AuthenticationError) as revoked:
        browser.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    assert revoked.value.body["code"] == "invalid_client_token"  # type: ignore[index]
    assert len(sent_bodies(upstream, question)) == 1
    assert stack.audit().ok
