"""`ringside backup PATH` and `ringside restore PATH`: a consistent online copy of the core's
database and of the data dir's keys, and its restore into an empty data dir (and empty database).

SQLite is copied with SQLite's online backup API (a consistent snapshot while the core writes);
PostgreSQL with `pg_dump --format=custom` (one transaction's snapshot) and restored with
`pg_restore --single-transaction`. Temporal's state is not part of a backup: the outbox re-drives
events not yet relayed and the schedules are created again when the worker starts. A manifest
records the schema revision and each file's SHA-256; restore checks both, then migrates the
restored database to this version's schema. Uploaded files (`/v1/files`, DATA_DIR/files) are
copied after the database: a file uploaded meanwhile may be copied without its row (unused), and
one deleted meanwhile is missing while its row remains (its content answers 404). So is the rag
role's parse cache (DATA_DIR/rag/parses), not its index: a restore leaves a marker there, and the
rag role rebuilds every store's index from the cached parses at its next start, unbilled
(workers/rag_ingest/rebuild.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from core.store.engine import make_engine, normalize_url
from core.store.migrate import upgrade
from ringside_server.settings import (
    CREDENTIALS_FILE,
    INTERNAL_TOKEN_FILE,
    PARSE_CACHE_DIR,
    REBUILD_MARKER,
    SECRET_KEY_FILE,
    Settings,
)

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "ringside.db"
POSTGRES_FILE = "ringside.pgdump"
# The data dir's own files a restored installation needs: the first account's keys, the token
# the roles share.
KEY_FILES = (CREDENTIALS_FILE, INTERNAL_TOKEN_FILE)
# The key sealing stored secrets: in a backup only when asked (--include-secret-key). Without it, a
# restore needs the key given again (the file, or RINGSIDE_SECRET_KEY) to read webhook secrets,
# Stripe keys and signing keys.
OPTIONAL_KEY_FILES = (SECRET_KEY_FILE,)
PG_TIMEOUT_S = 3600
UPLOADS_DIR = "files"  # DATA_DIR/files: the file store (ringside_server/file_store.py)
_UPLOAD = re.compile(r"^files/[0-9A-Za-z]{2}/file-[0-9A-Za-z]{8,60}$")
# A cached parse: `<sha256><the name's suffix, ≤ 16 characters>.txt` (workers/rag_ingest/activities.py)
_PARSE = re.compile(r"^" + PARSE_CACHE_DIR + r"/[0-9a-f]{2}/[0-9a-f]{64}[^/\\]{0,16}\.txt$")
SQLITE_PAGES_PER_STEP = 1024  # the online backup copies in steps, letting the core write between them


class BackupError(SystemExit):
    """Why a backup or restore cannot go on, said to the operator."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq's tools take it (no `+psycopg` driver suffix)."""
    return make_url(normalize_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


def _revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _sqlite_path(url: str) -> Path:
    return Path(make_url(normalize_url(url)).database or "")


def _private_copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    target.chmod(0o600)


def _copied(name: str) -> bool:
    """An uploaded file or a cached parse (the data dir's files a backup copies one by one)."""
    return bool(_UPLOAD.match(name) or _PARSE.match(name))


def _copy_tree(data_dir: Path, path: Path, under: str, pattern: re.Pattern[str]) -> list[str]:
    """The complete files of `data_dir/under/<xx>/` (not `.partial` ones being written), as manifest names."""
    copied = []
    root = data_dir / under
    for source in sorted(root.glob("*/*")) if root.is_dir() else []:
        name = source.relative_to(data_dir).as_posix()
        if not pattern.match(name):
            continue
        (path / name).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            _private_copy(source, path / name)
        except FileNotFoundError:  # deleted since it was listed
            continue
        copied.append(name)
    return copied


def backup(settings: Settings, path: Path, include_secret_key: bool = False) -> int:
    """Write a backup of the running (or stopped) installation into `path`, a new or empty directory."""
    if path.exists() and any(path.iterdir()):
        raise BackupError(f"ringside backup: {path} is not empty; give a new directory")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    url = settings.resolved_database_url
    postgres = normalize_url(url).startswith("postgresql")
    revision = _revision(url)
    if postgres:
        target = path / POSTGRES_FILE
        _run_tool(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(target), _libpq_url(url)]
        )
    else:
        source = _sqlite_path(url)
        if not source.is_file():
            raise BackupError(f"ringside backup: no database at {source}")
        target = path / SQLITE_FILE
        live, copy = sqlite3.connect(source, timeout=30), sqlite3.connect(target)
        with contextlib.closing(live), contextlib.closing(copy):
            live.backup(copy, pages=SQLITE_PAGES_PER_STEP)
        target.chmod(0o600)
    files = [target.name]
    for name in KEY_FILES + (OPTIONAL_KEY_FILES if include_secret_key else ()):
        if (settings.data_dir / name).is_file():
            _private_copy(settings.data_dir / name, path / name)
            files.append(name)
    files += _copy_tree(settings.data_dir, path, UPLOADS_DIR, _UPLOAD)
    files += _copy_tree(settings.data_dir, path, PARSE_CACHE_DIR, _PARSE)
    manifest = {
        "format": FORMAT,
        "created": int(time.time()),
        "backend": "postgresql" if postgres else "sqlite",
        "schema_revision": revision,
        "files": {name: _sha256(path / name) for name in files},
    }
    (path / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    uploads = sum(1 for name in files if _UPLOAD.match(name))
    parses = sum(1 for name in files if _PARSE.match(name))
    named = ", ".join(name for name in files if not _copied(name))
    print(
        f"backup of schema {revision} ({manifest['backend']}) written to {path}: {named}, {uploads} uploaded files,"
        f" {parses} cached parses"
    )
    return 0


def _read_manifest(path: Path) -> dict[str, object]:
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"ringside restore: {path} holds no readable {MANIFEST} ({error})") from None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("files"), dict)
    ):
        raise BackupError(f"ringside restore: {path / MANIFEST} is not a Ringside backup manifest of format {FORMAT}")
    for name, digest in manifest["files"].items():
        known = name in (SQLITE_FILE, POSTGRES_FILE, *KEY_FILES, *OPTIONAL_KEY_FILES) or _copied(name)
        if not known or (Path(name).name != name and not _copied(name)):
            raise BackupError(f"ringside restore: unexpected file {name!r} in the manifest")
        if not (path / name).is_file() or _sha256(path / name) != digest:
            raise BackupError(f"ringside restore: {name} is missing or does not match its checksum")
    return manifest


def restore(settings: Settings, path: Path) -> int:
    """Restore the backup in `path` into this installation's data dir and database, both empty."""
    manifest = _read_manifest(path)
    files = manifest["files"]
    assert isinstance(files, dict)
    data_dir = settings.ensure_data_dir()
    present = [name for name in (SQLITE_FILE, *KEY_FILES) if (data_dir / name).exists()]
    if SECRET_KEY_FILE in files and (data_dir / SECRET_KEY_FILE).exists():
        present.append(SECRET_KEY_FILE)
    if present:
        raise BackupError(
            f"ringside restore: the data dir {data_dir} already holds {', '.join(present)}; use an empty one"
        )
    url = settings.resolved_database_url
    postgres = normalize_url(url).startswith("postgresql")
    if (manifest.get("backend") == "postgresql") != postgres:
        raise BackupError(
            f"ringside restore: the backup is of a {manifest.get('backend')} database; set RINGSIDE_DATABASE_URL "
            "to a database of the same kind (a PostgreSQL URL, or unset for the data dir's SQLite)"
        )
    if postgres:
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                tables = inspect(connection).get_table_names()
        finally:
            engine.dispose()
        if tables:
            raise BackupError("ringside restore: the target PostgreSQL database is not empty; create an empty one")
        _run_tool(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--dbname",
                _libpq_url(url),
                str(path / POSTGRES_FILE),
            ]
        )
    else:
        _private_copy(path / SQLITE_FILE, _sqlite_path(url))
    for name in KEY_FILES + OPTIONAL_KEY_FILES:
        if name in files:
            _private_copy(path / name, data_dir / name)
    for name in files:
        if _copied(name):
            (data_dir / name).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _private_copy(path / name, data_dir / name)
    # the index is not in a backup: the rag role rebuilds it from these parses at its next start
    (data_dir / PARSE_CACHE_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)
    (data_dir / PARSE_CACHE_DIR / REBUILD_MARKER).touch(mode=0o600)
    engine = make_engine(url)
    try:
        migrated = upgrade(engine)
    finally:
        engine.dispose()
    print(f"restored {path} (schema {migrated.before}, now {migrated.after}) into {data_dir}")
    return 0


def _run_tool(argv: list[str]) -> None:
    """pg_dump / pg_restore, with the URL passed as an argument (it never goes to a log)."""
    if shutil.which(argv[0]) is None:
        raise BackupError(f"ringside: {argv[0]} is not installed (PostgreSQL's client tools)")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=PG_TIMEOUT_S, env=dict(os.environ))
    if result.returncode != 0:
        raise BackupError(f"ringside: {argv[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
