"""The `ringside` command: run every role (`up`) or one (`core`, `edge`, `worker`, `rag serve`), operate the
installation (`status`, `migrate`, `backup`, `restore`, `billing`), and act on the API as a key
(`customers`, `wallet`, `keys`, `usage`, `webhooks`)."""

from __future__ import annotations

import asyncio
import os
import pathlib
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from ringside_cli.commands import rag_ingest
from ringside_cli.commands.common import load_settings
from ringside_cli.commands.customers import customers, wallet
from ringside_cli.commands.operations import keys, status, usage, webhooks
from ringside_server import redaction
from ringside_server.observability import logs, tracing
from ringside_server.settings import PARSE_CACHE_DIR, Settings

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


def _settings(role: str = "cli") -> Settings:
    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format, role)
    redaction.install()  # every record, from every logger, passes the one redaction filter
    return settings


def _role_settings(role: str) -> Settings:
    """A role's settings, with its traces installed when an OTLP endpoint is configured."""
    settings = _settings(role)
    tracing.configure(role, settings.environment)
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

    raise typer.Exit(run_all(_settings("up")))


@app.command()
def core() -> None:
    """Run the gRPC core (it creates an empty database's schema and refuses any other version's)."""
    from core.server import serve
    from core.store.migrate import SchemaMismatch

    try:
        _run(serve(_role_settings("core")))
    except SchemaMismatch as mismatch:
        typer.echo(f"ringside core: {mismatch}", err=True)
        raise typer.Exit(2) from None


@app.command()
def edge() -> None:
    """Run the HTTP edge."""
    from edge_http.app import serve

    _run(serve(_role_settings("edge")))


@app.command()
def worker() -> None:
    """Run the Temporal worker."""
    from workers.worker import serve

    _run(serve(_role_settings("worker")))


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
    from rag.index import CollectionLayout
    from rag.server import RagOptions, serve
    from ringside_server.file_store import open_file_store
    from ringside_server.temporal_connection import TemporalConnection

    settings = _role_settings("rag")
    options = RagOptions(
        bind_host=settings.bind_host,
        port=settings.rag_port if port is None else port,
        index_path=index_path or settings.ensure_data_dir() / "rag" / "index",
        qdrant_url=qdrant_url or settings.qdrant_url,
        internal_token=settings.resolve_internal_token(),
        threads=threads or settings.rag_threads,
        core_address=settings.resolved_core_address,
        metrics_port=settings.rag_metrics_port,
        temporal=TemporalConnection.from_settings(settings),
        qdrant_api_key=settings.qdrant_api_key,
        qdrant_layout=CollectionLayout(
            shards=settings.qdrant_shards,
            replication_factor=settings.qdrant_replication_factor,
            write_consistency_factor=settings.qdrant_write_consistency_factor,
        ),
        files=open_file_store(settings),
        parse_cache=settings.ensure_data_dir().resolve() / PARSE_CACHE_DIR,
        vision_model=settings.rag_vision_model,
        transcription_model=settings.rag_transcription_model,
        sweep_interval_s=settings.rag_sweep_interval_s,
        partial_upload_ttl_s=settings.rag_partial_upload_ttl_s,
        sweep_grace_s=settings.rag_sweep_grace_s,
        optimize_interval_s=settings.rag_optimize_interval_s,
        optimize_min_points=settings.rag_optimize_min_points,
        settings=settings,
    )
    _run(serve(options))


@app.command()
def migrate() -> None:
    """Bring the database's schema to this version (PostgreSQL: under an advisory lock)."""
    from core.store.engine import make_engine
    from core.store.migrate import upgrade
    from core.store.sealing import Sealer, attach

    settings = _settings()
    settings.ensure_data_dir()
    # with the secret key (made here on a first start): the migration sealing stored secrets uses it
    engine = attach(make_engine(settings.resolved_database_url), Sealer(settings.resolve_secret_keys()))
    try:
        migrated = upgrade(engine)
    finally:
        engine.dispose()
    before = migrated.before or "an empty database"
    typer.echo(f"schema: {before} → {migrated.after}" if before != migrated.after else f"schema at {migrated.after}")


@app.command()
def backup(
    path: Annotated[pathlib.Path, typer.Argument(help="a new (or empty) directory")],
    include_secret_key: Annotated[
        bool, typer.Option(help="also copy the key that seals stored secrets (keep that backup apart)")
    ] = False,
) -> None:
    """A consistent online copy of the database and the data dir's keys (docs/operations.md). The
    secret key stays out unless asked for: a stolen backup then holds no readable secret."""
    from ringside_cli.backup import backup as take

    raise typer.Exit(take(_settings(), path, include_secret_key))


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
