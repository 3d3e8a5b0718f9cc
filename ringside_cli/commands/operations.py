"""`ringside keys …`, `ringside usage`, `ringside webhooks …` and `ringside status`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ringside_cli.api import resolve_base_url
from ringside_cli.commands.common import (
    ApiKeyOption,
    BaseUrlOption,
    JsonOption,
    LimitOption,
    ModeOption,
    Target,
    api,
    load_settings,
    run,
    usd,
)
from ringside_cli.output import out, show_json, show_table
from ringside_cli.status import gather, lines

keys = typer.Typer(help="API keys of the account (api:admin).", no_args_is_help=True)
webhooks = typer.Typer(help="Webhook endpoints and their deliveries (api:webhooks).", no_args_is_help=True)
GROUPS = ("day", "model", "customer")


@keys.command("list")
def list_keys(
    limit: LimitOption = 100,
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """The account's keys of this mode (secrets are never shown again)."""
    client = api(Target(api_key, mode, base_url))
    found = run(lambda: client.pages("/v1/api_keys", {}, limit))
    if as_json:
        show_json(found)
        return
    rows = [(k["id"], k.get("name"), k["redacted"], ",".join(k["scopes"]), k.get("created")) for k in found]
    show_table(f"{len(found)} keys", ["id", "name", "key", "scopes", "created"], rows)


@keys.command("create")
def create_key(
    scopes: Annotated[str, typer.Option(help="comma-separated, e.g. api:read,api:write (default: all)")] = "",
    name: Annotated[str, typer.Option(help="what the key is for")] = "",
    key_mode: Annotated[
        str | None, typer.Option("--key-mode", help="the new key's mode (default: the caller's)")
    ] = None,
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """Create a key; its secret is printed once."""
    client = api(Target(api_key, mode, base_url))
    body: dict[str, Any] = {"name": name, "mode": key_mode or mode}
    if scopes:
        body["scopes"] = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    created = run(lambda: client.call("POST", "/v1/api_keys", body))
    if as_json:
        show_json(created)
        return
    out.print(f"{created['id']} ({','.join(created['scopes'])}): {created['secret']}")
    out.print("Keep the secret now: it is never shown again.")


@keys.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="the key's id (key_…)")],
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """Revoke a key: every edge refuses it within a second."""
    client = api(Target(api_key, mode, base_url))
    revoked = run(lambda: client.call("DELETE", f"/v1/api_keys/{key_id}"))
    if as_json:
        show_json(revoked)
    else:
        out.print(f"revoked {key_id}")


def usage(
    group_by: Annotated[str, typer.Option("--by", help="day, model or customer")] = "day",
    customer: Annotated[str | None, typer.Option(help="only this customer (cus_… or ext:…)")] = None,
    since: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD, RFC 3339 or unix seconds (default: period start)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="same forms (default: now)")] = None,
    order_by: Annotated[
        str | None,
        typer.Option("--order-by", help="with --by customer: billable_usd, cost_usd, margin_usd, request_count"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 31,
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """Cost, billed amount, margin, requests and tokens, grouped."""
    if group_by not in GROUPS:
        raise typer.BadParameter(f"--by must be one of {', '.join(GROUPS)}")
    client = api(Target(api_key, mode, base_url))
    query = {
        "group_by": group_by,
        "customer_id": customer,
        "since": since,
        "until": until,
        "order_by": order_by,
        "limit": limit,
    }
    report = run(lambda: client.call("GET", "/v1/usage", query=query))
    if as_json:
        show_json(report)
        return
    key = {"day": "date", "model": "model", "customer": "customer_id"}[group_by]
    rows: list[tuple[Any, ...]] = [
        (
            row.get(key) or "(unattributed)",
            row["request_count"],
            usd(row["total_cost_usd"]),
            usd(row["total_billable_usd"]),
            usd(row["total_margin_usd"]),
            row["input_tokens"],
            row["output_tokens"],
        )
        for row in report["data"]
    ]
    rows.append(
        (
            "total",
            report["request_count"],
            usd(report["total_cost_usd"]),
            usd(report["total_billable_usd"]),
            usd(report["total_margin_usd"]),
            report["input_tokens"],
            report["output_tokens"],
        )
    )
    columns = [key, "requests", "cost", "billable", "margin", "input tokens", "output tokens"]
    show_table(f"usage by {group_by}", columns, rows)


@webhooks.command("list")
def list_endpoints(
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """The account's webhook endpoints."""
    client = api(Target(api_key, mode, base_url))
    found = run(lambda: client.pages("/v1/webhooks", {}, 100))
    if as_json:
        show_json(found)
        return
    rows = [(e["id"], e["url"], ",".join(e["events"]), e["status"]) for e in found]
    show_table(f"{len(found)} endpoints", ["id", "url", "events", "status"], rows)


@webhooks.command("deliveries")
def list_deliveries(
    endpoint_id: Annotated[str, typer.Argument(help="we_…")],
    limit: LimitOption = 20,
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """Every delivery attempt to an endpoint, newest first."""
    client = api(Target(api_key, mode, base_url))
    found = run(lambda: client.pages(f"/v1/webhooks/{endpoint_id}/deliveries", {}, limit))
    if as_json:
        show_json(found)
        return
    rows = [
        (a["id"], a["event_id"], a.get("event_type"), a.get("http_status"), a.get("succeeded"), a.get("created"))
        for a in found
    ]
    show_table(f"{len(found)} attempts", ["id", "event", "type", "HTTP", "succeeded", "created"], rows)


@webhooks.command("redeliver")
def redeliver(
    endpoint_id: Annotated[str, typer.Argument(help="we_…")],
    delivery_id: Annotated[str, typer.Argument(help="the event (evt_…) or one of its attempts (wha_…)")],
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """Deliver an event to an endpoint once more."""
    client = api(Target(api_key, mode, base_url))
    done = run(lambda: client.call("POST", f"/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver"))
    if as_json:
        show_json(done)
    else:
        out.print(f"redelivering {done['event_id']} to {endpoint_id}")


def status(
    as_json: JsonOption = False,
    base_url: BaseUrlOption = None,
) -> None:
    """Each role's state (the edge's /healthz), the versions, the database, Temporal and the data dir
    (no key needed); exit code 1 unless every role is ready."""
    settings = load_settings()
    report = gather(settings, resolve_base_url(settings, base_url))
    if as_json:
        show_json(report)
    else:
        for line in lines(report):
            out.print(line, markup=False, highlight=False)
    raise typer.Exit(0 if report.get("status") == "ok" else 1)
