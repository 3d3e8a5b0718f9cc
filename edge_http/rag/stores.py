"""The bodies of /v1/vector_stores, with OpenAI's bounds: name, metadata (16 pairs, keys ≤ 64,
values ≤ 512 characters), expires_after (`last_active_at`, 1..365 days), chunking_strategy (`auto`,
or `static` with 100..4096 tokens and an overlap ≤ half, never above the model's window)."""

from __future__ import annotations

from typing import Any

from ringside_server.errors import RingsideError
from ringside_server.providers.catalog.load import CatalogModel

CREATE_FIELDS = frozenset(
    {"name", "file_ids", "expires_after", "chunking_strategy", "metadata", "embedding_model", "shared", "description"}
)
MAX_FILE_IDS = 500  # OpenAI's bound on file_ids, at store create and in a file batch
UPDATE_FIELDS = frozenset({"name", "expires_after", "metadata"})
ATTACH_FIELDS = frozenset({"file_id", "attributes", "chunking_strategy"})
MAX_FILE_ID = 100
MAX_NAME = 256
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
MAX_EXPIRY_DAYS = 365
MIN_CHUNK, MAX_CHUNK = 100, 4096
MAX_LIST = 100


def refuse_unknown(body: dict[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise RingsideError(
            "invalid_request", f"Unrecognized request argument supplied: {unknown[0][:64]}", unknown[0][:64]
        )


def name_of(body: dict[str, Any]) -> str:
    name = body.get("name")
    if name is None:
        return ""
    if not isinstance(name, str) or len(name) > MAX_NAME or "\x00" in name:
        raise RingsideError("invalid_request", f"name must be a string of at most {MAX_NAME} characters.", "name")
    return name


def flag(body: dict[str, Any], field: str) -> bool:
    value = body.get(field, False)
    if not isinstance(value, bool):
        raise RingsideError("invalid_request", f"{field} must be a boolean.", field)
    return value


def metadata_of(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_METADATA_PAIRS:
        raise RingsideError(
            "invalid_request", f"metadata must be an object of at most {MAX_METADATA_PAIRS} pairs.", "metadata"
        )
    for key, item in value.items():
        if len(key) > MAX_METADATA_KEY or not isinstance(item, str) or len(item) > MAX_METADATA_VALUE:
            raise RingsideError(
                "invalid_request",
                f"metadata keys are at most {MAX_METADATA_KEY} characters, "
                f"values strings of at most {MAX_METADATA_VALUE}.",
                "metadata",
            )
        if "\x00" in key or "\x00" in item:
            raise RingsideError("invalid_request", "metadata may not hold NUL characters.", "metadata")
    return dict(value)


def expiry_of(value: object) -> int:
    """Days after last activity; 0 for never (null)."""
    if value is None:
        return 0
    days = value.get("days") if isinstance(value, dict) else None
    if (
        not isinstance(value, dict)
        or value.get("anchor") != "last_active_at"
        or set(value) - {"anchor", "days"}
        or not isinstance(days, int)
        or isinstance(days, bool)
        or not 1 <= days <= MAX_EXPIRY_DAYS
    ):
        raise RingsideError(
            "invalid_request",
            f'expires_after must be {{"anchor": "last_active_at", "days": 1..{MAX_EXPIRY_DAYS}}}.',
            "expires_after",
        )
    return days


def chunking_of(value: object, model: CatalogModel) -> dict[str, Any]:
    """The strategy as stored: `auto`, or `static` within OpenAI's bounds and the model's window."""
    if value is None or value == {"type": "auto"}:
        return {"type": "auto"}
    static = value.get("static") if isinstance(value, dict) else None
    size = static.get("max_chunk_size_tokens") if isinstance(static, dict) else None
    overlap = static.get("chunk_overlap_tokens") if isinstance(static, dict) else None
    if (
        not isinstance(value, dict)
        or value.get("type") != "static"
        or set(value) != {"type", "static"}
        or not isinstance(static, dict)
        or set(static) != {"max_chunk_size_tokens", "chunk_overlap_tokens"}
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in (size, overlap))
    ):
        raise RingsideError(
            "invalid_request",
            'chunking_strategy must be {"type": "auto"} or {"type": "static", "static": '
            '{"max_chunk_size_tokens": …, "chunk_overlap_tokens": …}}.',
            "chunking_strategy",
        )
    assert isinstance(size, int) and isinstance(overlap, int)
    if not MIN_CHUNK <= size <= MAX_CHUNK or not 0 <= overlap <= size // 2:
        raise RingsideError(
            "invalid_request",
            f"max_chunk_size_tokens must be {MIN_CHUNK}..{MAX_CHUNK} and chunk_overlap_tokens at most half of it.",
            "chunking_strategy",
        )
    if model.context_window and size > model.context_window:
        raise RingsideError(
            "invalid_request",
            f"max_chunk_size_tokens {size} is above {model.ref}'s input window of {model.context_window} tokens.",
            "chunking_strategy",
        )
    return {"type": "static", "static": {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap}}


def limit_of(raw: str) -> int:
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 3 or not 1 <= int(raw) <= MAX_LIST:
        raise RingsideError("invalid_request", f"limit must be an integer between 1 and {MAX_LIST}.", "limit")
    return int(raw)


def attributes_of(value: object) -> dict[str, str | float | bool]:
    """A store file's attributes (OpenAI's: 16 pairs, keys ≤ 64 characters, values strings ≤ 512
    characters, numbers or booleans)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_METADATA_PAIRS:
        raise RingsideError(
            "invalid_request", f"attributes must be an object of at most {MAX_METADATA_PAIRS} pairs.", "attributes"
        )
    for key, item in value.items():
        fits = isinstance(item, (bool, int, float)) or (isinstance(item, str) and len(item) <= MAX_METADATA_VALUE)
        if not key or len(key) > MAX_METADATA_KEY or "\x00" in key or not fits:
            raise RingsideError(
                "invalid_request",
                f"attributes keys are 1..{MAX_METADATA_KEY} characters, values numbers, booleans "
                f"or strings of at most {MAX_METADATA_VALUE}.",
                "attributes",
            )
    return dict(value)


def file_id_of(value: object, param: str = "file_id") -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_FILE_ID:
        raise RingsideError("invalid_request", f"{param} must be a file id.", param)
    return value
