"""How the CLI prints: rich tables for people, `--json` for scripts, errors that name the fix."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

# What to do about the errors a CLI user meets most.
FIXES = {
    "invalid_api_key": "check --api-key / RINGSIDE_API_KEY, or --mode (test keys and live keys see different data)",
    "insufficient_scope": "use a key with the scope this needs (`ringside keys create --scopes …`)",
    "customer_not_found": "list customers with `ringside customers list`",
    "customer_has_balance": "wait for calls in flight to settle, or pass --force to zero the wallet",
    "unreachable": "start Ringside with `ringside up`, or point --base-url / RINGSIDE_BASE_URL at it",
}


def show_json(value: Any) -> None:
    out.print_json(json.dumps(value))


def show_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=escape(title), title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else escape(str(cell)) for cell in row))  # data, never markup
    out.print(table)


def show_object(value: dict[str, Any], fields: Sequence[str]) -> None:
    show_table(
        str(value.get("object", "")) + " " + str(value.get("id", "")),
        ["field", "value"],
        [(name, _cell(value.get(name))) for name in fields],
    )


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


def fail(code: str, message: str, param: str | None = None) -> None:
    """An error as `error: <message> (param: …) [<code>]`, then the fix when there is a usual one.
    The server's text is escaped: it is printed, never read as rich markup."""
    detail = escape(message) + (f" (param: {escape(param)})" if param else "") + escape(f" [{code}]")
    err.print(f"[bold red]error[/]: {detail}")
    if code in FIXES:
        err.print(f"  fix: {escape(FIXES[code])}")
