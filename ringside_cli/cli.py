"""The `ringside` command: run every role (`up`) or one (`core`, `edge`, `worker`), and a few
operator helpers (`migrate`, `backup`, `restore`, `keys create`, `customers create`,
`billing rollover|sync`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pathlib
import sys

from ringside_server.settings import Settings


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _run(main: object) -> None:
    import uvloop

    uvloop.run(main)  # type: ignore[arg-type]


def cmd_core(settings: Settings, _args: argparse.Namespace) -> int:
    from core.server import serve
    from core.store.migrate import SchemaMismatch

    try:
        _run(serve(settings))
    except SchemaMismatch as mismatch:
        print(f"ringside core: {mismatch}", file=sys.stderr)
        return 2
    return 0


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from core.store.engine import make_engine
    from core.store.migrate import upgrade

    settings.ensure_data_dir()
    engine = make_engine(settings.resolved_database_url)
    try:
        migrated = upgrade(engine)
    finally:
        engine.dispose()
    before = migrated.before or "an empty database"
    print(f"schema: {before} → {migrated.after}" if before != migrated.after else f"schema at {migrated.after}")
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from ringside_cli.backup import backup

    return backup(settings, args.path)


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from ringside_cli.backup import restore

    return restore(settings, args.path)


def cmd_edge(settings: Settings, _args: argparse.Namespace) -> int:
    from edge_http.app import serve

    _run(serve(settings))
    return 0


def cmd_worker(settings: Settings, _args: argparse.Namespace) -> int:
    from workers.worker import serve

    _run(serve(settings))
    return 0


def cmd_rag_serve(settings: Settings, args: argparse.Namespace) -> int:
    # Not started by `ringside up` yet: the edge and the workers do not call it until their RAG routes land.
    from rag.server import RagOptions, serve

    options = RagOptions(
        bind_host=settings.bind_host,
        port=args.port,
        index_path=args.index_path or settings.ensure_data_dir() / "rag" / "index",
        qdrant_url=args.qdrant_url,
        internal_token=settings.resolve_internal_token(),
        threads=args.threads,
    )
    _run(serve(options))
    return 0


def cmd_up(settings: Settings, _args: argparse.Namespace) -> int:
    from ringside_cli.supervisor import run_all

    return run_all(settings)


def cmd_keys_create(settings: Settings, args: argparse.Namespace) -> int:
    from ringside_cli.admin import create_key

    return _run_admin(create_key(settings, args))


def cmd_customers_create(settings: Settings, args: argparse.Namespace) -> int:
    from ringside_cli.admin import create_customer

    return _run_admin(create_customer(settings, args))


def cmd_billing(settings: Settings, args: argparse.Namespace) -> int:
    from workers.billing.trigger import trigger

    code = _run_admin(trigger(settings, args.billing_command))
    # The Temporal client can abort the interpreter's teardown (DEPENDENCIES.md: exit 134 a few
    # times in 30); the trigger is done and reported, so leave without that teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run_admin(main: object) -> int:
    result: int = asyncio.run(main)  # type: ignore[arg-type]
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ringside", description="Ringside: a metering gateway for AI.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="run every role on embedded defaults (foreground)").set_defaults(func=cmd_up)
    commands.add_parser("core", help="run the gRPC core").set_defaults(func=cmd_core)
    commands.add_parser("edge", help="run the HTTP edge").set_defaults(func=cmd_edge)
    commands.add_parser("worker", help="run the Temporal worker").set_defaults(func=cmd_worker)
    rag = commands.add_parser("rag", help="managed RAG").add_subparsers(dest="rag_command", required=True)
    rag_serve = rag.add_parser("serve", help="run the rag role (embedding model and vector index) over gRPC")
    rag_serve.add_argument("--port", type=int, default=50053, help="gRPC port (default 50053)")
    rag_serve.add_argument("--index-path", type=pathlib.Path, help="embedded index root (default DATA_DIR/rag/index)")
    rag_serve.add_argument("--qdrant-url", help="use this Qdrant server instead of the embedded index")
    rag_serve.add_argument("--threads", type=int, default=2, help="threads for the embedding model (default 2)")
    rag_serve.set_defaults(func=cmd_rag_serve)

    commands.add_parser(
        "migrate", help="bring the database's schema to this version (PostgreSQL: under an advisory lock)"
    ).set_defaults(func=cmd_migrate)
    backup = commands.add_parser("backup", help="a consistent online copy of the database and the data dir's keys")
    backup.add_argument("path", type=pathlib.Path, help="a new (or empty) directory to write the backup into")
    backup.set_defaults(func=cmd_backup)
    restore = commands.add_parser("restore", help="restore a backup into an empty data dir (and empty database)")
    restore.add_argument("path", type=pathlib.Path, help="a directory written by `ringside backup`")
    restore.set_defaults(func=cmd_restore)

    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    create_key = keys.add_parser("create", help="create an API key (uses --api-key or credentials.json)")
    create_key.add_argument("--mode", choices=["live", "test"], default="live")
    create_key.add_argument("--scopes", default="", help="comma-separated; default all")
    create_key.add_argument("--name", default="")
    create_key.add_argument("--api-key", default=None, help="an api:admin key; default from credentials.json")
    create_key.set_defaults(func=cmd_keys_create)

    customers = commands.add_parser("customers", help="customers").add_subparsers(
        dest="customers_command", required=True
    )
    create_customer = customers.add_parser("create", help="create a customer")
    create_customer.add_argument("--external-id", default=None)
    create_customer.add_argument("--name", default="")
    create_customer.add_argument("--email", default="")
    create_customer.add_argument("--budget-usd", default=None, help="monthly cap in USD")
    create_customer.add_argument("--api-key", default=None, help="default: credentials.json's live key")
    create_customer.add_argument("--test", action="store_true", help="use the test key of credentials.json")
    create_customer.set_defaults(func=cmd_customers_create)

    billing = commands.add_parser("billing", help="billing schedules").add_subparsers(
        dest="billing_command", required=True
    )
    billing.add_parser("rollover", help="close ended billing periods now").set_defaults(func=cmd_billing)
    billing.add_parser("sync", help="push usage to Stripe now").set_defaults(func=cmd_billing)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    _configure_logging(settings)
    code: int = args.func(settings, args)
    return code


if __name__ == "__main__":
    sys.exit(main())
