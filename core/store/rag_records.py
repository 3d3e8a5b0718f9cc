"""Statements of managed RAG's records (issue 16): files, so far."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.sql import Executable

from core.domain.files import FileDeletion, StoredFile
from core.store.tables import FILES

FILE_FIELDS = tuple(field.name for field in dataclasses.fields(StoredFile))

STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    StoredFile: (insert(FILES), lambda r: dataclasses.asdict(r)),
    FileDeletion: (
        update(FILES).where(FILES.c.id == bindparam("b_id")).values(deleted_at=bindparam("b_deleted_at")),
        lambda r: {"b_id": r.file_id, "b_deleted_at": r.deleted_at},
    ),
}
