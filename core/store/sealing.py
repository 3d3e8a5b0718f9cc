"""Secrets at rest (issue 15, item 5): webhook signing secrets, Stripe keys and the Client Token
signing keys are stored sealed with AES-256-GCM (`cryptography`) under RINGSIDE_SECRET_KEY.

A sealed value is `sealed:v1:<kid>:<base64url(nonce | ciphertext | tag)>`; the column's name is the
associated data, so a value copied into another column does not open. `kid` names the key that
sealed it, so a key can be rotated: the new key seals, retired keys (RINGSIDE_SECRET_KEY_PREVIOUS)
still open, and `reseal` rewrites every value not under the current key (run by each starting core
and by migration 0017). A value without the prefix is a row written before sealing: read as it is,
sealed by the next `reseal`.

The columns' type is `SealedText`; the engine carries its `Sealer` on its dialect (`attach`), so the
writer's and the loader's statements seal and open without knowing it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, Engine, Text, bindparam, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

PREFIX = "sealed:v1:"
NONCE_BYTES = 12
# (table, primary key columns, sealed columns): every secret Ringside keeps
SEALED_COLUMNS = (
    ("webhook_endpoints", ("id",), ("secret", "previous_secret")),
    ("stripe_settings", ("account_id", "livemode"), ("secret_key",)),
    ("signing_keys", ("kid",), ("private_pem",)),
)


class SealingError(RuntimeError):
    """A sealed value that no configured key opens (a lost or wrong RINGSIDE_SECRET_KEY)."""


class Sealer:
    """Seals with the first key; opens with any of them."""

    def __init__(self, keys: list[str]) -> None:
        if not keys or any(len(key) < 16 for key in keys):
            raise ValueError("RINGSIDE_SECRET_KEY must be at least 16 characters")
        self._ciphers: dict[str, AESGCM] = {}
        self.kid = ""
        for key in keys:
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ringside secrets at rest v1").derive(
                key.encode()
            )
            kid = hashlib.sha256(derived).hexdigest()[:8]
            self._ciphers.setdefault(kid, AESGCM(derived))
            self.kid = self.kid or kid

    def seal(self, plain: str, column: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.kid].encrypt(nonce, plain.encode(), column.encode())
        return f"{PREFIX}{self.kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, column: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before sealing
        kid, _, payload = stored[len(PREFIX) :].partition(":")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise SealingError(f"{column} is sealed under key {kid}, which is not configured (RINGSIDE_SECRET_KEY)")
        raw = base64.urlsafe_b64decode(payload)
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], column.encode()).decode()
        except InvalidTag:
            raise SealingError(f"{column} does not open under key {kid}: altered, or another column's") from None

    def current(self, stored: str) -> bool:
        return stored.startswith(f"{PREFIX}{self.kid}:")


def attach(engine: Engine, sealer: Sealer | None) -> Engine:
    """Let `engine`'s statements seal and open SealedText columns with `sealer`."""
    engine.dialect.ringside_sealer = sealer  # type: ignore[attr-defined]
    return engine


def _sealer(dialect: Dialect) -> Sealer | None:
    sealer: Sealer | None = getattr(dialect, "ringside_sealer", None)
    return sealer


class SealedText(TypeDecorator[str]):
    """Text sealed on the way in and opened on the way out (plain when the engine has no sealer,
    as in a test's scratch engine; a sealed value then cannot be read)."""

    impl = Text
    cache_ok = True

    def __init__(self, column: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.column = column

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        sealer = _sealer(dialect)
        if not value or sealer is None or value.startswith(PREFIX):
            return value
        return sealer.seal(value, self.column)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if not value or not value.startswith(PREFIX):
            return value
        sealer = _sealer(dialect)
        if sealer is None:
            raise SealingError(f"{self.column} is sealed and this engine has no RINGSIDE_SECRET_KEY")
        return sealer.open(value, self.column)


def reseal(connection: Connection, sealer: Sealer) -> int:
    """Seal every stored secret that is plain or under a retired key with the current key; returns
    how many values were rewritten. Idempotent: a second run rewrites nothing."""
    rewritten = 0
    for table, keys, columns in SEALED_COLUMNS:
        for column in columns:
            select = text(f"SELECT {', '.join(keys)}, {column} FROM {table}")
            rows = connection.execute(select).all()
            stale = [row for row in rows if row[-1] and not sealer.current(row[-1])]
            if not stale:
                continue
            where = " AND ".join(f"{key} = :k_{key}" for key in keys)
            update = text(f"UPDATE {table} SET {column} = :value WHERE {where}").bindparams(bindparam("value"))
            for row in stale:
                plain = sealer.open(row[-1], column)
                params = {f"k_{key}": row[index] for index, key in enumerate(keys)}
                connection.execute(update, {"value": sealer.seal(plain, column), **params})
                rewritten += 1
    return rewritten
