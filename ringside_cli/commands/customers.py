"""`ringside customers list|get|create|update|delete` and `ringside wallet show|topup`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ringside_cli.commands.common import (
    ApiKeyOption,
    BaseUrlOption,
    JsonOption,
    LimitOption,
    ModeOption,
    Target,
    api,
    run,
    usd,
)
from ringside_cli.output import out, show_json, show_object, show_table

customers = typer.Typer(help="Your customers (cus_… or ext:<external id>).", no_args_is_help=True)
wallet = typer.Typer(help="A customer's prepaid wallet.", no_args_is_help=True)

CustomerArgument = Annotated[str, typer.Argument(help="cus_… or ext:<external id>")]
FIELDS = (
    "external_id",
    "name",
    "email",
    "budget_usd",
    "spend_usd_mtd",
    "request_count_mtd",
    "budget_status",
    "blocked",
    "tier_id",
    "rate_limit_rpm",
    "rate_limit_tpm",
    "wallet",
    "created",
)


def _show(customer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        show_json(customer)
    else:
        show_object(customer, FIELDS)


@customers.command("list")
def list_customers(
    query: Annotated[str | None, typer.Option(help="search external id, name and email")] = None,
    limit: LimitOption = 100,
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """List customers, newest first."""
    client = api(Target(api_key, mode, base_url))
    found = run(lambda: client.pages("/v1/customers", {"query": query}, limit))
    if as_json:
        show_json(found)
        return
    rows = [
        (c["id"], c["external_id"], c["name"], usd(c["spend_usd_mtd"]), usd(c["budget_usd"]), c["blocked"])
        for c in found
    ]
    show_table(f"{len(found)} customers", ["id", "external id", "name", "spend (month)", "budget", "blocked"], rows)


@customers.command("get")
def get_customer(
    customer: CustomerArgument,
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """One customer, with its spend this period and its effective limits."""
    client = api(Target(api_key, mode, base_url))
    _show(run(lambda: client.call("GET", f"/v1/customers/{customer}")), as_json)


def _changes(
    external_id: str | None, name: str | None, email: str | None, budget_usd: str | None, blocked: bool | None
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for field, value in (("external_id", external_id), ("name", name), ("email", email), ("blocked", blocked)):
        if value is not None:
            body[field] = value
    if budget_usd is not None:
        body["budget_usd"] = None if budget_usd.lower() == "none" else budget_usd
    return body


ExternalIdOption = Annotated[str | None, typer.Option("--external-id", help="your id for this customer")]
NameOption = Annotated[str | None, typer.Option(help="a display name")]
EmailOption = Annotated[str | None, typer.Option(help="an email")]
BudgetOption = Annotated[str | None, typer.Option("--budget-usd", help="monthly cap in USD ('none': no cap)")]


@customers.command("create")
def create_customer(
    external_id: ExternalIdOption = None,
    name: NameOption = None,
    email: EmailOption = None,
    budget_usd: BudgetOption = None,
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """Create a customer (an existing external id returns that customer unchanged)."""
    client = api(Target(api_key, mode, base_url))
    body = _changes(external_id, name, email, budget_usd, None)
    _show(run(lambda: client.call("POST", "/v1/customers", body)), as_json)


@customers.command("update")
def update_customer(
    customer: CustomerArgument,
    external_id: ExternalIdOption = None,
    name: NameOption = None,
    email: EmailOption = None,
    budget_usd: BudgetOption = None,
    blocked: Annotated[bool | None, typer.Option("--blocked/--unblocked", help="refuse its calls (403)")] = None,
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """Change a customer's fields; only those given change."""
    body = _changes(external_id, name, email, budget_usd, blocked)
    if not body:
        raise typer.BadParameter("give at least one field to change")
    client = api(Target(api_key, mode, base_url))
    _show(run(lambda: client.call("PATCH", f"/v1/customers/{customer}", body)), as_json)


@customers.command("delete")
def delete_customer(
    customer: CustomerArgument,
    force: Annotated[bool, typer.Option(help="zero a non-empty wallet with an adjustment first")] = False,
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """Delete a customer (its history is kept; its external id becomes free)."""
    client = api(Target(api_key, mode, base_url))
    deleted = run(
        lambda: client.call("DELETE", f"/v1/customers/{customer}", query={"force": "true" if force else None})
    )
    if as_json:
        show_json(deleted)
    else:
        out.print(f"deleted {deleted['id']}")


@wallet.command("show")
def show_wallet(
    customer: CustomerArgument,
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """A customer's balance and its latest transactions."""
    client = api(Target(api_key, mode, base_url))
    found = run(lambda: client.call("GET", f"/v1/customers/{customer}/wallet"))
    if as_json:
        show_json(found)
        return
    out.print(f"balance: {usd(found.get('balance_usd'))}")
    transactions = found.get("transactions", {}).get("data", []) if isinstance(found.get("transactions"), dict) else []
    rows = [
        (t["id"], t["type"], usd(t["amount_usd"]), usd(t.get("balance_after_usd")), t["created"]) for t in transactions
    ]
    if rows:
        show_table("transactions", ["id", "type", "amount", "balance after", "created"], rows)


@wallet.command("topup")
def top_up(
    customer: CustomerArgument,
    amount_usd: Annotated[str, typer.Argument(help="USD, e.g. 20 or 12.50")],
    description: Annotated[str | None, typer.Option(help="shown in the wallet's history")] = None,
    as_json: JsonOption = False,
    api_key: ApiKeyOption = None,
    mode: ModeOption = "test",
    base_url: BaseUrlOption = None,
) -> None:
    """Add money to a customer's wallet (turns the wallet on)."""
    client = api(Target(api_key, mode, base_url))
    body: dict[str, Any] = {"amount_usd": amount_usd}
    if description is not None:
        body["description"] = description
    done = run(lambda: client.call("POST", f"/v1/customers/{customer}/wallet/topup", body))
    if as_json:
        show_json(done)
    else:
        out.print(f"topped up {usd(done['amount_usd'])}: balance {usd(done['balance_after_usd'])}")
