"""Why an ingest step failed, in OpenAI's `last_error.code` terms, and why a request is refused."""

from __future__ import annotations

from typing import Literal

IngestErrorCode = Literal["unsupported_file", "invalid_file", "server_error"]


class IngestError(Exception):
    """A file that cannot be ingested. `code` is what the vector-store file's `last_error.code`
    shows; `message` is safe to show the customer (no paths, no stack, no document text)."""

    def __init__(self, code: IngestErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: IngestErrorCode = code
        self.message = message


class InvalidRequestError(ValueError):
    """A parameter out of its documented bounds (the route renders it as 400 `invalid_request`,
    naming `param`)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message
