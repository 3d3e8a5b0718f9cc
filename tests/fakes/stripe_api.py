"""A local fake of Stripe's API for Billing Meter Events, at Stripe's wire format, for the real SDK.

    python -m tests.fakes.stripe_api --port P --api-key sk_test_…

- `POST /v1/billing/meter_events`: form-encoded (`payload[value]=…`), `Authorization: Bearer`,
  `Stripe-Version` required; `Idempotency-Key` replays the first answer to the same key and body
  (`Idempotent-Replayed: true`) and refuses another body (`idempotency_error`); an event whose
  `identifier` was seen before is refused like Stripe does (`resource_already_exists`), and counted.
- Stripe's error envelope `{"error": {type, code, message, param}}`, a `Request-Id` on every answer.
- Told what to do by the test: `POST /_fake/behaviour {"reject_customers": [...], "fail_next": n,
  "hang_next": n, "hang_s": s}` (reject: 400 resource_missing; fail: 500 api_error with
  `Stripe-Should-Retry: true`; hang: keep the event but answer only after `hang_s`, as when a
  reply is lost to a timeout or a crash). `GET /_fake/state` → accepted
  events, duplicates refused, requests seen.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
import time
from urllib.parse import parse_qsl

from aiohttp import web

METER_EVENTS = "/v1/billing/meter_events"
MAX_BODY = 64 * 1024
STATE = web.AppKey("state", dict)


def _error(status: int, type_: str, message: str, code: str = "", param: str = "", **headers: str) -> web.Response:
    body = {
        "error": {
            "type": type_,
            "message": message,
            **({"code": code} if code else {}),
            **({"param": param} if param else {}),
        }
    }
    return web.json_response(body, status=status, headers={"Request-Id": "req_" + secrets.token_hex(7), **headers})


def _form(raw: str) -> dict[str, str]:
    return dict(parse_qsl(raw, keep_blank_values=True))


async def meter_events(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state["requests"] += 1
    behaviour = state["behaviour"]
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or key != state["api_key"]:
        return _error(401, "invalid_request_error", f"Invalid API Key provided: {key[:8]}****{key[-4:]}")
    if not request.headers.get("Stripe-Version"):
        return _error(400, "invalid_request_error", "Stripe-Version header is required by this fake.")
    if not request.content_type.startswith("application/x-www-form-urlencoded"):
        return _error(400, "invalid_request_error", "Send the body form-encoded.")
    raw = (await request.content.read(MAX_BODY)).decode()
    idempotency_key = request.headers.get("Idempotency-Key", "")
    digest = hashlib.sha256(raw.encode()).hexdigest()
    if idempotency_key in state["idempotency"]:
        first_digest, status, body = state["idempotency"][idempotency_key]
        if first_digest != digest:
            return _error(
                400, "idempotency_error", "Keys for idempotent requests can only be used with the same parameters."
            )
        return web.json_response(body, status=status, headers={"Idempotent-Replayed": "true"})
    if behaviour.get("fail_next", 0) > 0:
        behaviour["fail_next"] -= 1
        return _error(500, "api_error", "Something went wrong on Stripe's end.", **{"Stripe-Should-Retry": "true"})
    form = _form(raw)
    missing = [n for n in ("event_name", "payload[stripe_customer_id]", "payload[value]") if not form.get(n)]
    if missing:
        return _error(
            400, "invalid_request_error", f"Missing required param: {missing[0]}.", "parameter_missing", missing[0]
        )
    customer = form["payload[stripe_customer_id]"]
    if customer in behaviour.get("reject_customers", []):
        message = f"No such customer: '{customer}'"
        return _error(400, "invalid_request_error", message, "resource_missing", "payload[stripe_customer_id]")
    identifier = form.get("identifier") or "mev_" + secrets.token_hex(12)
    if identifier in state["identifiers"]:
        state["duplicates"] += 1
        message = f"An event with identifier '{identifier}' already exists."
        return _error(400, "invalid_request_error", message, "resource_already_exists", "identifier")
    event = {
        "object": "billing.meter_event",
        "created": int(time.time()),
        "event_name": form["event_name"],
        "identifier": identifier,
        "livemode": key.startswith("sk_live_"),
        "payload": {"stripe_customer_id": customer, "value": form["payload[value]"]},
        "timestamp": int(form.get("timestamp") or time.time()),
    }
    state["identifiers"].add(identifier)
    state["events"].append(event)
    if idempotency_key:
        state["idempotency"][idempotency_key] = (digest, 200, event)
    if behaviour.get("hang_next", 0) > 0:  # Stripe has the event; its answer comes late (or never)
        behaviour["hang_next"] -= 1
        await asyncio.sleep(float(behaviour.get("hang_s", 30)))
    return web.json_response(event, headers={"Request-Id": "req_" + secrets.token_hex(7)})


async def set_behaviour(request: web.Request) -> web.Response:
    request.app[STATE]["behaviour"].update(await request.json())
    return web.json_response(request.app[STATE]["behaviour"])


async def get_state(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(
        {"events": state["events"], "duplicates": state["duplicates"], "requests": state["requests"]}
    )


def create_app(api_key: str) -> web.Application:
    app = web.Application()
    app[STATE] = {
        "api_key": api_key,
        "behaviour": {},
        "events": [],
        "identifiers": set(),
        "idempotency": {},
        "duplicates": 0,
        "requests": 0,
    }
    app.router.add_post(METER_EVENTS, meter_events)
    app.router.add_post("/_fake/behaviour", set_behaviour)
    app.router.add_get("/_fake/state", get_state)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    options = parser.parse_args()
    web.run_app(create_app(options.api_key), host="127.0.0.1", port=options.port, print=None)


if __name__ == "__main__":
    main()
