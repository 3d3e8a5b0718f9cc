"""The `ringside` command: run every role (`up`) or one (`core`, `edge`, `worker`, `rag serve`), operate the
installation (`status`, `migrate`, `backup`, `restore`, `billing`), and act on the API as a key
(`customers`, `wallet`, `keys`, `usage`, `webhooks`)."""

from __future__ import annotations

import asyncio
import logging
import os
import pathlib
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from ringside_cli.commands import rag_ingest
from ringside_cli.commands.customers import customers, wallet
from ringside_cli.commands.operations import keys, status, usage, webhooks
from ringside_server.settings import Settings

app = typer.Typer(
    name="ringside",
    help="Ringside: a metering gateway for AI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
billing = typer.Typer(help="Billing schedules: run one now, as 'Trigger' in the Temporal UI.", no_args_is_help=True)
rag = typer.Typer(help="Managed RAG: the rag role (embedding model and vector index).", no_args_is_help=True)
app.add_typer(customers, name="customers")
app.add_typer(wallet, name="wallet")
app.add_typer(keys, name="keys")
app.add_typer(webhooks, name="webhooks")
app.add_typer(billing, name="billing")
app.add_typer(rag, name="rag")
app.command("usage")(usage)
app.command("status")(status)


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return settings


def _run(main: object) -> None:
    import uvloop

    uvloop.run(main)  # type: ignore[arg-type]


def _version(show: bool) -> None:
    if show:
        try:
            typer.echo(f"ringside {version('ringside-server')}")
        except PackageNotFoundError:
            typer.echo("ringside (not installed as a distribution)")
        raise typer.Exit()


@app.callback()
def main_options(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Ringside: a metering gateway for AI."""


@app.command()
def up() -> None:
    """Run every role on embedded defaults, in the foreground (Ctrl-C stops them in order)."""
    from ringside_cli.supervisor import run_all

    raise typer.Exit(run_all(_settings()))


@app.command()
def core() -> None:
    """Run the gRPC core (it creates an empty database's schema and refuses any other version's)."""
    from core.server import serve
    from core.store.migrate import SchemaMismatch

    try:
        _run(serve(_settings()))
    except SchemaMismatch as mismatch:
        typer.echo(f"ringside core: {mismatch}", err=True)
        raise typer.Exit(2) from None


@app.command()
def edge() -> None:
    """Run the HTTP edge."""
    from edge_http.app import serve

    _run(serve(_settings()))


@app.command()
def worker() -> None:
    """Run the Temporal worker."""
    from workers.worker import serve

    _run(serve(_settings()))


rag.command("ingest")(rag_ingest.ingest)


@rag.command("serve")
def rag_serve(
    port: Annotated[int | None, typer.Option(help="gRPC port (default RINGSIDE_RAG_PORT, 50053)")] = None,
    index_path: Annotated[
        pathlib.Path | None, typer.Option(help="embedded index root (default DATA_DIR/rag/index)")
    ] = None,
    qdrant_url: Annotated[
        str | None, typer.Option(help="a Qdrant server instead of the embedded index (default RINGSIDE_QDRANT_URL)")
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="threads for the embedding model (default RINGSIDE_RAG_THREADS, 2)")
    ] = None,
) -> None:
    """Run the rag role: the embedding model and the vector index over gRPC (`ringside up` starts it)."""
    from rag.server import RagOptions, serve

    settings = _settings()
    options = RagOptions(
        bind_host=settings.bind_host,
        port=settings.rag_port if port is None else port,
        index_path=index_path or settings.ensure_data_dir() / "rag" / "index",
        qdrant_url=qdrant_url or settings.qdrant_url,
        internal_token=settings.resolve_internal_token(),
        threads=threads or settings.rag_threads,
        core_address=settings.resolved_core_address,
        temporal_address=settings.resolved_temporal_address,
        temporal_namespace=settings.temporal_namespace,
        files_root=settings.ensure_data_dir().resolve() / "files",
        parse_cache=settings.ensure_data_dir().resolve() / "rag" / "parses",
    )
    _run(serve(options))


@app.command()
def migrate() -> None:
    """Bring the database's schema to this version (PostgreSQL: under an advisory lock)."""
    from core.store.engine import make_engine
    from core.store.migrate import upgrade

    settings = _settings()
    settings.ensure_data_dir()
    engine = make_engine(settings.resolved_database_url)
    try:
        migrated = upgrade(engine)
    finally:
        engine.dispose()
    before = migrated.before or "an empty database"
    typer.echo(f"schema: {before} → {migrated.after}" if before != migrated.after else f"schema at {migrated.after}")


@app.command()
def backup(path: Annotated[pathlib.Path, typer.Argument(help="a new (or empty) directory")]) -> None:
    """A consistent online copy of the database and the data dir's keys (docs/operations.md)."""
    from ringside_cli.backup import backup as take

    raise typer.Exit(take(_settings(), path))


@app.command()
def restore(path: Annotated[pathlib.Path, typer.Argument(help="a directory written by `ringside backup`")]) -> None:
    """Restore a backup into an empty data dir (and an empty database)."""
    from ringside_cli.backup import restore as put_back

    raise typer.Exit(put_back(_settings(), path))


def _trigger(schedule: str) -> None:
    from workers.billing.trigger import trigger

    code: int = asyncio.run(trigger(_settings(), schedule))
    # The Temporal client can abort the interpreter's teardown (DEPENDENCIES.md: exit 134 a few
    # times in 30); the trigger is done and reported, so leave without that teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@billing.command("rollover")
def billing_rollover() -> None:
    """Close ended billing periods now."""
    _trigger("rollover")


@billing.command("sync")
def billing_sync() -> None:
    """Push usage to Stripe now."""
    _trigger("sync")


def main(argv: list[str] | None = None) -> int:
    """The console script's entry point."""
    try:
        app(args=argv, prog_name="ringside", standalone_mode=True)
    except SystemExit as exit_:
        if isinstance(exit_.code, str):  # a message for the operator (e.g. a refused restore)
            print(exit_.code, file=sys.stderr)
            return 1
        return int(exit_.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
