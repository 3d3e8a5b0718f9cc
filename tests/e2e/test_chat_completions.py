"""A metered call end to end with the real OpenAI SDK: edge → core (hold) → provider → settle."""

from __future__ import annotations

import json
import secrets
from decimal import Decimal

import openai
import pytest

from tests.harness import Stack, http, wait_until

MODEL = "fc:openai/gpt-4o-mini"
INPUT_NANO_PER_MTOK = 150_000_000
OUTPUT_NANO_PER_MTOK = 600_000_000


def client(stack: Stack, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key or stack.live_key, max_retries=0)


def new_customer(stack: Stack, key: str | None = None, **fields: object) -> dict[str, object]:
    body = {"external_id": "user_" + secrets.token_hex(6), **fields}
    response = stack.call("POST", "/v1/customers", key or stack.live_key, body)
    assert response.status == 201, response.body
    return dict(response.json())


def settled(stack: Stack, ref: str, requests: int, key: str | None = None) -> dict[str, object]:
    """The customer once `requests` calls are recorded: on the lease path calls are reported to the
    core in batches right after they answer, so a read straight after a call may not show it yet."""
    return dict(
        wait_until(
            lambda: (state := customer(stack, ref, key))["request_count_mtd"] >= requests and state,
            10,
            f"{requests} calls of {ref} to be recorded",
        )
    )


def customer(stack: Stack, ref: str, key: str | None = None) -> dict[str, object]:
    response = stack.call("GET", f"/v1/customers/{ref}", key or stack.live_key)
    assert response.status == 200, response.body
    return dict(response.json())


def expected_cost_usd(prompt_tokens: int, completion_tokens: int) -> Decimal:
    nano = -(-(prompt_tokens * INPUT_NANO_PER_MTOK + completion_tokens * OUTPUT_NANO_PER_MTOK) // 1_000_000)
    return Decimal(nano).scaleb(-9)


@pytest.mark.both_backends
def test_quickstart_call_is_metered_to_the_customer(stack: Stack) -> None:
    cus = new_customer(stack, budget_usd=25)
    raw = client(stack).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "Hello"}], extra_headers={"FC-Customer": str(cus["id"])}
    )
    completion = raw.parse()
    assert raw.headers["x-ringside-model-resolved"] == MODEL
    assert raw.headers["x-request-id"].startswith("req_")
    assert completion.choices[0].message.content
    assert completion.usage is not None
    after = settled(stack, str(cus["id"]), 1)
    assert after["request_count_mtd"] == 1
    assert Decimal(str(after["spend_usd_mtd"])) == expected_cost_usd(
        completion.usage.prompt_tokens, completion.usage.completion_tokens
    )


def test_ext_reference_and_user_field_attribute_the_call(stack: Stack) -> None:
    cus = new_customer(stack)
    ext = f"ext:{cus['external_id']}"
    client(stack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "a"}], extra_headers={"FC-Customer": ext}
    )
    client(stack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "b"}], user=str(cus["external_id"])
    )
    assert settled(stack, ext, 2)["request_count_mtd"] == 2


def test_streams_relay_upstream_bytes_exactly_with_and_without_usage(stack: Stack) -> None:
    cus = new_customer(stack)
    for include_usage in (False, True):
        body: dict[str, object] = {
            "model": MODEL,
            "stream": True,
            "messages": [{"role": "user", "content": f"bytes {include_usage}"}],
        }
        if include_usage:
            body["stream_options"] = {"include_usage": True}
        through = stack.call(
            "POST", "/v1/chat/completions", stack.live_key, body, headers={"FC-Customer": str(cus["id"])}
        )
        direct = http(
            "POST",
            stack.upstream.base_url + "/chat/completions",
            stack.upstream.api_key,  # type: ignore[union-attr]
            {**body, "model": "gpt-4o-mini"},
        )
        assert through.status == 200 and through.headers["content-type"].startswith("text/event-stream")
        assert through.body == direct.body
        assert (b'"usage"' in through.body) is include_usage
    # Ringside always asked the upstream for usage, and was billed for both streams.
    from_ringside = [
        r["body"]
        for r in stack.upstream.requests()[-4:]  # type: ignore[union-attr]
        if "aiohttp" in r["headers"].get("User-Agent", "")
    ]
    assert len(from_ringside) == 2
    assert all(body["stream_options"]["include_usage"] is True for body in from_ringside)
    assert settled(stack, str(cus["id"]), 2)["request_count_mtd"] == 2


@pytest.mark.both_backends
def test_sdk_stream_with_usage_is_billed(stack: Stack) -> None:
    cus = new_customer(stack)
    stream = client(stack).chat.completions.create(
        model=MODEL,
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "stream please"}],
        extra_headers={"FC-Customer": str(cus["id"])},
    )
    chunks = list(stream)
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens > 0
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text.split()) == usage.completion_tokens
    assert Decimal(str(settled(stack, str(cus["id"]), 1)["spend_usd_mtd"])) == expected_cost_usd(
        usage.prompt_tokens, usage.completion_tokens
    )


@pytest.mark.both_backends
def test_client_abort_mid_stream_is_billed_for_what_was_generated(stack: Stack) -> None:
    cus = new_customer(stack)
    marker = "[[fake:slow=100]]abort " + secrets.token_hex(4)
    stream = client(stack).chat.completions.create(
        model=MODEL,
        stream=True,
        max_tokens=200,
        messages=[{"role": "user", "content": marker}],
        extra_headers={"FC-Customer": str(cus["id"])},
    )
    received = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            received += 1
        if received == 3:
            break
    stream.close()

    def billed() -> dict[str, object] | None:
        state = customer(stack, str(cus["id"]))
        return state if Decimal(str(state["spend_usd_mtd"])) > 0 else None

    state = wait_until(billed, 20, "the aborted stream to be settled")
    assert state["request_count_mtd"] == 1
    upstream_seen = wait_until(
        lambda: [r for r in stack.upstream.requests() if marker in json.dumps(r["body"]) and r["disconnected"]],  # type: ignore[union-attr]
        20,
        "the upstream call to be cancelled",
    )
    assert upstream_seen[0]["chunks_sent"] < 200  # cancelled long before the 200-token answer ended
    rows = stack.query(
        "SELECT status, output_tokens, usage_estimated FROM usage_records WHERE customer_id = ?", cus["id"]
    )
    assert rows and rows[0][0] == "aborted" and rows[0][1] >= 3 and rows[0][2]


@pytest.mark.both_backends
def test_unattributed_call_is_metered_to_the_account(stack: Stack) -> None:
    marker = "unattributed " + secrets.token_hex(4)
    raw = client(stack).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": marker}]
    )
    request_id = raw.headers["x-request-id"]
    rows = wait_until(
        lambda: stack.query(
            "SELECT customer_id, posted_nano, status FROM usage_records WHERE request_id = ?", request_id
        ),
        10,
        "the call to be recorded",
    )
    assert rows == [(None, rows[0][1], "completed")] and rows[0][1] > 0


def test_bad_key_is_401_in_the_envelope(stack: Stack) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        client(stack, "sk_live_nope").chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    error = caught.value.body
    assert error["code"] == "invalid_api_key" and error["type"] == "authentication_error"  # type: ignore[index]
    assert error["request_id"].startswith("req_")  # type: ignore[index]
    # the key is checked before the body: a bad key with a bad model is still 401
    response = stack.call("POST", "/v1/chat/completions", "sk_test_nope", {"model": "gpt-4o", "messages": []})
    assert response.status == 401


def test_unknown_customer_is_404(stack: Stack) -> None:
    for ref in ("cus_doesnotexist", "ext:nobody-" + secrets.token_hex(4)):
        with pytest.raises(openai.NotFoundError) as caught:
            client(stack).chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "x"}], extra_headers={"FC-Customer": ref}
            )
        assert caught.value.body["code"] == "customer_not_found"  # type: ignore[index]


@pytest.mark.parametrize("model", ["gpt-4o-mini", "openai/gpt-4o-mini", "fc:openai/not-a-model"])
def test_bare_or_unknown_model_is_400_invalid_model_ref(stack: Stack, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client(stack).chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
    assert caught.value.body["code"] == "invalid_model_ref" and caught.value.body["param"] == "model"  # type: ignore[index]


def test_malformed_json_is_400_whatever_the_content_type(stack: Stack) -> None:
    response = stack.call(
        "POST",
        "/v1/chat/completions",
        stack.live_key,
        raw=b'{"model": ',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.headers["x-request-id"] == response.json()["error"]["request_id"]


def test_body_over_32_mib_is_413(stack: Stack) -> None:
    response = stack.call("POST", "/v1/chat/completions", stack.live_key, raw=b"x" * (32 * 1024 * 1024 + 1))
    assert response.status == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.both_backends
def test_upstream_5xx_is_502_and_releases_the_hold(stack: Stack) -> None:
    cus = new_customer(stack)
    with pytest.raises(openai.APIStatusError) as caught:
        client(stack).chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "[[fake:status=500]]"}],
            extra_headers={"FC-Customer": str(cus["id"])},
        )
    assert caught.value.status_code == 502 and caught.value.body["code"] == "upstream_error"  # type: ignore[index]
    failed = wait_until(
        lambda: stack.query("SELECT status, posted_nano FROM usage_records WHERE customer_id = ?", cus["id"]),
        10,
        "the failed call to be recorded",
    )
    assert failed == [("failed", 0)]
    state = customer(stack, str(cus["id"]))
    assert Decimal(str(state["spend_usd_mtd"])) == 0 and state["request_count_mtd"] == 0


def test_upstream_timeout_is_504(stack: Stack) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client(stack).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[[fake:stall]]"}])
    assert caught.value.status_code == 504 and caught.value.body["code"] == "upstream_timeout"  # type: ignore[index]


def test_upstream_error_mid_stream_ends_with_an_error_frame(stack: Stack) -> None:
    response = stack.call(
        "POST",
        "/v1/chat/completions",
        stack.live_key,
        {
            "model": MODEL,
            "stream": True,
            "max_tokens": 50,
            "messages": [{"role": "user", "content": "[[fake:midstream_error]]"}],
        },
    )
    assert response.status == 200
    frames = [f for f in response.body.split(b"\n\n") if f]
    last = json.loads(frames[-1][len(b"data: ") :])
    assert last["error"]["code"] == "upstream_error"
    assert b"[DONE]" not in response.body


@pytest.mark.both_backends
def test_tenants_and_modes_are_isolated(stack: Stack) -> None:
    mine = new_customer(stack)
    other = stack.new_account()
    for key in (other["live"], stack.test_key):
        assert stack.call("GET", f"/v1/customers/{mine['id']}", key).status == 404
        assert stack.call("GET", f"/v1/customers/ext:{mine['external_id']}", key).status == 404
        with pytest.raises(openai.NotFoundError):
            client(stack, key).chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "x"}], extra_headers={"FC-Customer": str(mine["id"])}
            )
    # the same external_id in another tenant is another customer
    theirs = stack.call("POST", "/v1/customers", other["live"], {"external_id": mine["external_id"]})
    assert theirs.status == 201 and theirs.json()["id"] != mine["id"]


def test_test_keys_are_served_by_the_test_model_at_the_catalog_price(stack: Stack) -> None:
    cus = new_customer(stack, key=stack.test_key)
    before = len(stack.upstream.requests())  # type: ignore[union-attr]
    raw = client(stack, stack.test_key).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "offline"}], extra_headers={"FC-Customer": str(cus["id"])}
    )
    completion = raw.parse()
    assert completion.system_fingerprint == "fp_ringside_test"
    assert raw.headers["x-ringside-model-resolved"] == MODEL
    assert len(stack.upstream.requests()) == before  # never reached the provider
    state = settled(stack, str(cus["id"]), 1, stack.test_key)
    assert state["livemode"] is False
    assert Decimal(str(state["spend_usd_mtd"])) == expected_cost_usd(
        completion.usage.prompt_tokens, completion.usage.completion_tokens
    )  # type: ignore[union-attr]


def test_models_lists_refs(stack: Stack) -> None:
    ids = {m.id for m in client(stack).models.list()}
    assert MODEL in ids and "fc:ringside/test" in ids
