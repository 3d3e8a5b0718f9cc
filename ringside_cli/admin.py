"""Operator helpers of the CLI: `ringside keys create`, `ringside customers create` (over gRPC)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ringside.core.v1 import customers_pb2, keys_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.settings import CREDENTIALS_FILE, Settings
from ringside_server.usd import nano_to_usd, usd_to_nano


def _key(settings: Settings, explicit: str | None, test: bool = False) -> str:
    if explicit:
        return explicit
    path = settings.data_dir / CREDENTIALS_FILE
    try:
        credentials = json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"no --api-key given and no {path}; run `ringside up` first") from None
    return str(credentials["test_api_key" if test else "api_key"])


async def _call(settings: Settings, method_name: str, request: object, api_key: str) -> Any:
    core = CoreClient(settings.resolved_core_address, settings.resolve_internal_token())
    try:
        service, method = method_name.split(".")
        return await core.as_caller(getattr(getattr(core, service), method), request, f"Bearer {api_key}")
    finally:
        await core.close()


async def create_key(settings: Settings, args: argparse.Namespace) -> int:
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
    request = keys_pb2.CreateApiKeyRequest(livemode=args.mode == "live", scopes=scopes, name=args.name)
    try:
        response = await _call(settings, "keys.CreateApiKey", request, _key(settings, args.api_key))
    except RingsideError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    key = response.api_key
    print(json.dumps({"id": key.id, "secret": key.secret, "livemode": key.livemode, "scopes": list(key.scopes)}))
    return 0


async def create_customer(settings: Settings, args: argparse.Namespace) -> int:
    request = customers_pb2.CreateCustomerRequest(name=args.name, email=args.email)
    if args.external_id:
        request.external_id = args.external_id
    try:
        if args.budget_usd is not None:
            request.budget_nano_usd = usd_to_nano(args.budget_usd)
        response = await _call(settings, "customers.CreateCustomer", request, _key(settings, args.api_key, args.test))
    except (RingsideError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    customer = response.customer
    budget = str(nano_to_usd(customer.budget_nano_usd)) if customer.HasField("budget_nano_usd") else None
    print(
        json.dumps(
            {
                "id": customer.id,
                "external_id": customer.external_id or None,
                "budget_usd": budget,
                "created": response.created,
            }
        )
    )
    return 0
