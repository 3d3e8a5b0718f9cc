"""core/store/sealing.py: secrets at rest are sealed (AES-256-GCM), open only under their key and
column, survive a key rotation, and rows written before sealing are sealed by the migration."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, select, text

from core.store.engine import make_engine
from core.store.migrate import upgrade
from core.store.sealing import PREFIX, Sealer, SealingError, attach, reseal
from core.store.tables import WEBHOOK_ENDPOINTS
from tests.harness import create_postgres_database, drop_postgres_database

KEY, NEW_KEY = "rssk_" + "a" * 40, "rssk_" + "b" * 40
SECRET = "whsec_c2VjcmV0IHNpZ25pbmcga2V5IG9mIHRoZSBlbmRwb2ludA"


def test_a_sealed_value_opens_only_under_its_key_and_its_column() -> None:
    sealer = Sealer([KEY])
    sealed = sealer.seal(SECRET, "secret")
    assert sealed.startswith(PREFIX) and SECRET not in sealed
    assert sealer.seal(SECRET, "secret") != sealed  # a fresh nonce every time
    assert sealer.open(sealed, "secret") == SECRET
    with pytest.raises(SealingError):
        sealer.open(sealed, "previous_secret")  # moved to another column
    with pytest.raises(SealingError):
        Sealer([NEW_KEY]).open(sealed, "secret")  # the key was lost or replaced
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(SealingError):
        sealer.open(tampered, "secret")
    assert sealer.open("legacy plain value", "secret") == "legacy plain value"


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        Sealer(["short"])


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/s.db" if request.param == "sqlite" else create_postgres_database()
    yield url
    if request.param == "postgres":
        drop_postgres_database(url)


def _endpoint(engine: Engine, secret: str) -> None:
    row = {
        "id": "we_1",
        "account_id": "acct_1",
        "livemode": True,
        "url": "https://example.com/h",
        "events_json": "[]",
        "description": "",
        "secret": secret,
        "previous_secret": "",
        "previous_secret_expires_at": 0,
        "enabled": True,
        "failing_since": 0,
        "created": 1,
        "deleted_at": None,
    }
    with engine.begin() as connection:
        connection.execute(insert(WEBHOOK_ENDPOINTS), [row])


def _stored(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT secret FROM webhook_endpoints")).scalar_one())


def _read(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(select(WEBHOOK_ENDPOINTS.c.secret)).scalar_one())


def test_rows_are_sealed_on_write_and_rotated_by_reseal(database: str) -> None:
    engine = attach(make_engine(database), Sealer([KEY]))
    try:
        upgrade(engine)
        _endpoint(engine, SECRET)
        assert SECRET not in _stored(engine) and _stored(engine).startswith(PREFIX)
        assert _read(engine) == SECRET
        rotated = attach(engine, Sealer([NEW_KEY, KEY]))
        with rotated.begin() as connection:
            assert reseal(connection, Sealer([NEW_KEY, KEY])) == 1
            assert reseal(connection, Sealer([NEW_KEY, KEY])) == 0  # idempotent
        attach(engine, Sealer([NEW_KEY]))  # the old key retired
        assert _read(engine) == SECRET
    finally:
        engine.dispose()


def test_the_migration_seals_rows_written_before_it(database: str) -> None:
    """A database at 0013 with a plain secret; migrating with the key seals it."""
    from alembic import command

    from core.store.migrate import _config

    plain = make_engine(database)
    try:
        with plain.begin() as connection:
            command.upgrade(_config(connection), "0013")
        _endpoint(plain, SECRET)
    finally:
        plain.dispose()
    engine = attach(make_engine(database), Sealer([KEY]))
    try:
        upgrade(engine)
        assert SECRET not in _stored(engine)
        assert _read(engine) == SECRET
    finally:
        engine.dispose()
