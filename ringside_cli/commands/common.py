"""What every API command shares: the options that choose the key and the edge, and running a
call so that an error prints its code and the fix and exits non-zero."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from ringside_cli.api import Api, ApiError, KeyMissing, resolve_base_url, resolve_key
from ringside_cli.output import fail
from ringside_server.settings import Settings

T = TypeVar("T")

ApiKeyOption = Annotated[
    str | None, typer.Option("--api-key", help="the key to act as (else RINGSIDE_API_KEY, else the saved key)")
]
ModeOption = Annotated[str, typer.Option("--mode", help="which saved key to use when none is given: test or live")]
BaseUrlOption = Annotated[
    str | None, typer.Option("--base-url", help="the edge (else RINGSIDE_BASE_URL, else this installation's)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print the API's JSON instead of a table")]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=10_000, help="at most this many rows")]


@dataclass(frozen=True, slots=True)
class Target:
    """Who the command acts as, and where."""

    api_key: str | None = None
    mode: str = "test"
    base_url: str | None = None


def load_settings() -> Settings:
    """This installation's settings (RINGSIDE_*, .env); a value out of its bounds stops the command
    with one line naming the variable and exit code 2 (the value is not repeated: it may be a secret)."""
    try:
        return Settings()
    except ValidationError as invalid:
        for error in invalid.errors():
            name = "RINGSIDE_" + "_".join(str(part) for part in error["loc"]).upper() if error["loc"] else "a setting"
            typer.echo(f"ringside: {name} is refused: {error['msg']}", err=True)
        raise typer.Exit(2) from None


def api(target: Target) -> Api:
    if target.mode not in ("test", "live"):
        raise typer.BadParameter("--mode must be test or live")
    settings = load_settings()
    try:
        key = resolve_key(settings, target.api_key, target.mode)
    except KeyMissing as missing:
        fail("no_api_key", str(missing))
        raise typer.Exit(2) from None
    return Api(resolve_base_url(settings, target.base_url), key)


def run(call: Callable[[], T]) -> T:
    """The call's result; on an API error, its message and the fix, and exit code 1."""
    try:
        return call()
    except ApiError as error:
        fail(error.code, error.message, error.param)
        raise typer.Exit(1) from None


def usd(value: Any) -> str:
    return "" if value is None else f"${value}"
