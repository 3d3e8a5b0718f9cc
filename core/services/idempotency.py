"""Idempotency-Key (API.md "Idempotency"): per account, mode and route; the first response
(including a 5xx) is stored and replayed; the same key with another body is 400
`idempotency_key_reused`; while the first is in flight, 409 `idempotency_key_in_use`; requests
refused by validation are not stored. Stored responses are kept 48 h (the contract asks for ≥ 24 h).
"""

from __future__ import annotations

import asyncio
import hmac
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.domain.entities import IdempotentResponse, hash_secret
from core.domain.retention import IdempotencyPurge
from core.services.core import Core
from core.store.tables import IDEMPOTENCY
from ringside_server.errors import RingsideError

MAX_KEY = 255
MAX_ROUTE = 200
MAX_BODY = 1024 * 1024
CLAIM_TTL_S = 120.0  # a claim whose edge died is forgotten after this
PRUNE_EVERY = 1000
MAX_CLAIMS = 10_000

Claim = tuple[str, bool, str, str]
OPERATOR = "operator"  # the tenant of requests made with RINGSIDE_ADMIN_KEY


def _claim(core: Core, api_key: str, route: str, key: str) -> Claim:
    found = core.meter.authenticate(api_key)
    if found is not None:
        tenant = (found.account_id, found.livemode)
    elif core.admin_key_hash and hmac.compare_digest(hash_secret(api_key), core.admin_key_hash):
        tenant = (OPERATOR, True)  # the operator's own requests (accounts, balance top-ups)
    else:
        raise RingsideError("invalid_api_key", "Invalid API key provided.")
    if not 1 <= len(key) <= MAX_KEY:
        raise RingsideError("invalid_request", f"Idempotency-Key must be 1..{MAX_KEY} characters.", "Idempotency-Key")
    return *tenant, route[:MAX_ROUTE], key


async def begin(core: Core, api_key: str, route: str, key: str, request_hash: str) -> tuple[int, bytes] | None:
    """None: proceed (the key is claimed). Else the stored (status, body) to replay."""
    claim = _claim(core, api_key, route, key)
    now = time.monotonic()
    claimed_at = core.idempotency_claims.get(claim)
    if claimed_at is not None and now - claimed_at < CLAIM_TTL_S:
        raise RingsideError("idempotency_key_in_use", "A request with this Idempotency-Key is still in progress.")
    if len(core.idempotency_claims) > MAX_CLAIMS:  # bound: forget claims whose edge went away
        for stale in [c for c, at in core.idempotency_claims.items() if now - at >= CLAIM_TTL_S]:
            del core.idempotency_claims[stale]
    core.idempotency_claims[claim] = now  # before the read below: a concurrent twin gets the 409

    def lookup() -> tuple[str, int, bytes] | None:
        c = IDEMPOTENCY.c
        with core.engine.connect() as connection:
            row = connection.execute(
                select(c.request_hash, c.status, c.body).where(
                    c.account_id == claim[0],
                    c.livemode == claim[1],
                    c.route == claim[2],
                    c.key == claim[3],
                    c.created >= int(time.time()) - core.retention.idempotency_keys_s,
                )
            ).first()
        return None if row is None else (row[0], row[1], bytes(row[2]))

    try:
        stored = await asyncio.get_running_loop().run_in_executor(None, lookup)
    except BaseException:
        core.idempotency_claims.pop(claim, None)
        raise
    if stored is None:
        return None
    core.idempotency_claims.pop(claim, None)
    if stored[0] != request_hash:
        raise RingsideError(
            "idempotency_key_reused", "This Idempotency-Key was used with a different request.", "Idempotency-Key"
        )
    return stored[1], stored[2]


async def finish(core: Core, api_key: str, route: str, key: str, request_hash: str, status: int, body: bytes) -> None:
    claim = _claim(core, api_key, route, key)
    try:
        await core.writer.write([IdempotentResponse(*claim, request_hash, status, body[:MAX_BODY], int(time.time()))])
    except IntegrityError:
        pass  # stored already (a retried finish): the first response stands
    finally:
        core.idempotency_claims.pop(claim, None)
    core.idempotency_finished += 1
    if core.idempotency_finished % PRUNE_EVERY == 0:
        core.spawn(_prune(core))


def abort(core: Core, api_key: str, route: str, key: str) -> None:
    core.idempotency_claims.pop(_claim(core, api_key, route, key), None)


async def _prune(core: Core) -> None:
    # Through the writer: an account-less write, fenced on the system partition (a stale core prunes nothing).
    await core.writer.write([IdempotencyPurge(int(time.time()) - core.retention.idempotency_keys_s)])
