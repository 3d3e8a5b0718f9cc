"""Client Tokens over real sockets: minting, what a token may and may not do, forged / expired /
revoked / rotated tokens, Origin and IP binding, and CORS."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.harness import ADMIN_KEY, Response, Stack, http, wait_until

MODEL = "fc:openai/gpt-4o-mini"
ORIGIN = "http://localhost:5173"
READS = ["GET /v1/customers/:id", "GET /v1/usage", "POST /v1/chat/completions", "GET /v1/customers/:id/wallet"]


def customer(stack: Stack, **fields: Any) -> dict[str, Any]:
    created = stack.call(
        "POST", "/v1/customers", stack.live_key, {"external_id": "ct_" + secrets.token_hex(5), **fields}
    )
    assert created.status == 201, created.body
    return dict(created.json())


def mint(stack: Stack, ref: str, **fields: Any) -> Response:
    body = {"origin": ORIGIN, "allowed_endpoints": READS, "ttl_seconds": 300, **fields}
    return stack.call("POST", f"/v1/customers/{ref}/client_tokens", stack.live_key, body)


def token_for(stack: Stack, ref: str, **fields: Any) -> str:
    minted = mint(stack, ref, **fields)
    assert minted.status == 201, minted.body
    return str(minted.json()["token"])


def as_browser(
    stack: Stack, method: str, path: str, token: str, body: Any = None, origin: str = ORIGIN, **headers: str
) -> Response:
    sent = {"Authorization": f"Client {token}", **({"Origin": origin} if origin else {}), **headers}
    return http(method, stack.base_url + path, None, body, headers=sent)


def code(response: Response) -> str:
    return str(response.json()["error"]["code"])


def test_minting_bounds_and_the_token_it_returns(stack: Stack) -> None:
    owner = customer(stack)
    minted = mint(stack, "ext:" + owner["external_id"])
    assert minted.status == 201, minted.body
    token = minted.json()
    assert token["object"] == "client_token" and token["customer_id"] == owner["id"]
    assert token["expires_at"] - token["created"] == 300
    header = jwt.get_unverified_header(token["token"])
    assert header["alg"] == "EdDSA" and header["kid"]
    claims = jwt.decode(token["token"], options={"verify_signature": False})
    assert claims["sub"] == owner["id"] and claims["origin"] == ORIGIN and claims["exp"] > claims["iat"]

    for bad, param in [
        ({"ttl_seconds": 59}, "ttl_seconds"),
        ({"ttl_seconds": 3601}, "ttl_seconds"),
        ({"origin": "http://localhost:5173/app"}, "origin"),
        ({"origin": "javascript:alert(1)"}, "origin"),
        ({"allowed_endpoints": []}, "allowed_endpoints"),
        ({"allowed_endpoints": ["FETCH /v1/usage"]}, "allowed_endpoints"),
        ({"allowed_endpoints": ["GET usage"]}, "allowed_endpoints"),
        ({"ip": "not-an-ip"}, "ip"),
    ]:
        refused = mint(stack, owner["id"], **bad)
        assert refused.status == 400 and refused.json()["error"]["param"] == param, (bad, refused.body)
    assert mint(stack, "cus_unknown").status == 404
    path = f"/v1/customers/{owner['id']}/client_tokens"
    default = stack.call("POST", path, stack.live_key, {"origin": ORIGIN, "allowed_endpoints": READS})
    assert default.status == 201 and default.json()["expires_at"] - default.json()["created"] == 900
    # a client token cannot mint another
    chained = as_browser(
        stack, "POST", f"/v1/customers/{owner['id']}/client_tokens", token["token"], {"origin": ORIGIN}
    )
    assert chained.status == 403 and code(chained) == "endpoint_not_allowed"


def test_a_token_reads_its_own_customer_and_nothing_else(stack: Stack) -> None:
    owner, other = customer(stack, budget_usd=5), customer(stack)
    token = token_for(stack, owner["id"])
    mine = as_browser(stack, "GET", f"/v1/customers/{owner['id']}", token)
    assert mine.status == 200 and mine.json()["id"] == owner["id"]
    assert mine.headers["access-control-allow-origin"] == ORIGIN
    assert "x-ratelimit-remaining-requests" in mine.headers["access-control-expose-headers"].lower()
    by_ext = as_browser(stack, "GET", f"/v1/customers/ext:{owner['external_id']}", token)
    assert by_ext.status == 200

    theirs = as_browser(stack, "GET", f"/v1/customers/{other['id']}", token)
    assert theirs.status == 404 and code(theirs) == "customer_not_found"
    outside = as_browser(stack, "GET", "/v1/tiers", token)
    assert outside.status == 403 and code(outside) == "endpoint_not_allowed"
    write = as_browser(stack, "PATCH", f"/v1/customers/{owner['id']}", token, {"budget_usd": 100})
    assert write.status == 403 and code(write) == "endpoint_not_allowed"

    usage = as_browser(stack, "GET", "/v1/usage?group_by=day", token)
    assert usage.status == 200, usage.body
    by_customer = as_browser(stack, "GET", "/v1/usage?group_by=customer", token)
    assert by_customer.status == 403 and code(by_customer) == "endpoint_not_allowed"
    snooping = as_browser(stack, "GET", f"/v1/usage?customer_id={other['id']}", token)
    assert snooping.status == 404


def test_a_tokens_model_calls_are_its_customers(stack: Stack) -> None:
    owner, other = customer(stack), customer(stack)
    token = token_for(stack, owner["id"])
    body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "from the browser"}]}
    answered = as_browser(stack, "POST", "/v1/chat/completions", token, body)
    assert answered.status == 200, answered.body
    assert answered.headers["access-control-allow-origin"] == ORIGIN
    wait_until(
        lambda: stack.call("GET", f"/v1/customers/{owner['id']}", stack.live_key).json()["request_count_mtd"] == 1,
        10,
        "the call to be metered to the token's customer",
    )
    named = as_browser(stack, "POST", "/v1/chat/completions", token, body, **{"FC-Customer": other["id"]})
    assert named.status == 404 and code(named) == "customer_not_found"
    streamed = as_browser(stack, "POST", "/v1/chat/completions", token, {**body, "stream": True})
    assert streamed.status == 200 and streamed.headers["access-control-allow-origin"] == ORIGIN
    assert b"data: [DONE]" in streamed.body


def test_origin_and_ip_bind_a_token(stack: Stack) -> None:
    owner = customer(stack)
    path = f"/v1/customers/{owner['id']}"
    token = token_for(stack, owner["id"])
    elsewhere = as_browser(stack, "GET", path, token, origin="https://evil.example")
    assert elsewhere.status == 401 and code(elsewhere) == "invalid_client_token"
    assert "access-control-allow-origin" not in elsewhere.headers  # that page reads nothing
    assert as_browser(stack, "GET", path, token, origin="").status == 401

    pinned = token_for(stack, owner["id"], ip="127.0.0.1")
    assert as_browser(stack, "GET", path, pinned).status == 200
    moved = token_for(stack, owner["id"], ip="203.0.113.9")
    refused = as_browser(stack, "GET", path, moved)
    assert refused.status == 401 and code(refused) == "invalid_client_token"


def _signing_key_pem(stack: Stack) -> tuple[str, str]:
    rows = stack.query("SELECT kid, private_pem FROM signing_keys WHERE retired_at IS NULL ORDER BY created DESC")
    return str(rows[0][0]), stack.open_sealed(str(rows[0][1]), "private_pem")  # sealed at rest


def _claims(stack: Stack, customer_id: str, **overrides: Any) -> dict[str, Any]:
    valid = jwt.decode(token_for(stack, customer_id), options={"verify_signature": False})
    return {**valid, **overrides}


def test_expired_forged_unsigned_and_unknown_key_tokens_are_refused(stack: Stack) -> None:
    owner = customer(stack)
    path = f"/v1/customers/{owner['id']}"
    kid, pem = _signing_key_pem(stack)  # the test reads Ringside's own key to play its clock forward
    now = int(time.time())
    expired = jwt.encode(
        _claims(stack, owner["id"], iat=now - 7200, nbf=now - 7200, exp=now - 3600, iat_ms=(now - 7200) * 1000),
        pem,
        algorithm="EdDSA",
        headers={"kid": kid},
    )
    response = as_browser(stack, "GET", path, expired)
    assert response.status == 401 and "expired" in response.json()["error"]["message"]
    assert response.headers["access-control-allow-origin"] == ORIGIN  # its page can read "mint a new one"

    claims = _claims(stack, owner["id"])
    forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    hmac_signed = jwt.encode(claims, "a-guessed-secret" * 3, algorithm="HS256", headers={"kid": kid})
    unknown = jwt.encode(claims, pem, algorithm="EdDSA", headers={"kid": "kid_nope"})
    tampered_parts = token_for(stack, owner["id"]).split(".")
    payload = json.loads(jwt.utils.base64url_decode(tampered_parts[1]))
    payload["sub"] = customer(stack)["id"]
    tampered_parts[1] = jwt.utils.base64url_encode(json.dumps(payload).encode()).decode()
    for bad in (forged, unsigned, hmac_signed, unknown, ".".join(tampered_parts), "not.a.jwt", "x" * 7600):
        refused = as_browser(stack, "GET", path, bad)
        assert refused.status == 401 and code(refused) == "invalid_client_token", (bad[:40], refused.body)


def test_revoke_all_stops_earlier_tokens_and_a_new_one_works(stack: Stack) -> None:
    owner = customer(stack)
    path = f"/v1/customers/{owner['id']}"
    before = token_for(stack, owner["id"])
    assert as_browser(stack, "GET", path, before).status == 200
    revoked = stack.call("POST", f"/v1/customers/{owner['id']}/client_tokens/revoke_all", stack.live_key)
    assert revoked.status == 200, revoked.body
    refused = as_browser(stack, "GET", path, before)
    assert refused.status == 401 and "revoked" in refused.json()["error"]["message"]
    assert as_browser(stack, "GET", path, token_for(stack, owner["id"])).status == 200


def test_a_rotated_key_keeps_live_tokens_working_and_signs_new_ones(stack: Stack) -> None:
    owner = customer(stack)
    path = f"/v1/customers/{owner['id']}"
    old = token_for(stack, owner["id"])
    rotated = stack.call("POST", "/v1/signing_keys/rotate", ADMIN_KEY)
    assert rotated.status == 200, rotated.body
    assert stack.call("POST", "/v1/signing_keys/rotate", stack.live_key).status == 403
    new = token_for(stack, owner["id"])
    assert jwt.get_unverified_header(new)["kid"] == rotated.json()["kid"] != jwt.get_unverified_header(old)["kid"]
    assert as_browser(stack, "GET", path, new).status == 200  # the edge learns the new kid
    assert as_browser(stack, "GET", path, old).status == 200  # and still knows the old one
    jwks = stack.call("GET", "/.well-known/jwks.json").json()
    assert {k["kid"] for k in jwks["keys"]} >= {rotated.json()["kid"], jwt.get_unverified_header(old)["kid"]}


@pytest.mark.parametrize("asked", ["authorization, content-type, x-stainless-os, x-stainless-lang", ""])
def test_preflights_are_answered_for_any_origin_and_grant_nothing(stack: Stack, asked: str) -> None:
    headers = {"Origin": "https://anyone.example", "Access-Control-Request-Method": "POST"}
    if asked:
        headers["Access-Control-Request-Headers"] = asked
    preflight = http("OPTIONS", stack.base_url + "/v1/chat/completions", headers=headers)
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == "https://anyone.example"
    allowed = {h.strip() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "fc-customer"} <= allowed
    if asked:
        assert {"x-stainless-os", "x-stainless-lang"} <= allowed
    # and a secret-key response never names an origin
    plain = stack.call("GET", "/v1/models", stack.live_key, headers={"Origin": "https://anyone.example"})
    assert "access-control-allow-origin" not in plain.headers
