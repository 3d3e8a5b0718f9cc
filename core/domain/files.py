"""Files (OpenAI's Files API, issue 16): the metadata the core keeps of a file whose bytes are in
the file store. Who may see one is `visible`: the account sees all of its own, a customer only its."""

from __future__ import annotations

from dataclasses import dataclass

PURPOSES = ("assistants", "attachments", "user_data", "batch")  # what an upload may name
LISTED_PURPOSES = (*PURPOSES, "batch_output")  # a batch's output and error files are Ringside's
MAX_FILENAME = 512


@dataclass(slots=True)
class StoredFile:
    """A file (`file-…`); `customer_id` None for the account's own."""

    id: str
    account_id: str
    livemode: bool
    customer_id: str | None
    filename: str
    purpose: str
    bytes: int
    sha256: str
    created: int
    deleted_at: int | None = None

    def visible(self, account_id: str, livemode: bool, customer_id: str | None) -> bool:
        """Seen by this tenant, as that customer (None: account-level, which sees every file)."""
        return (
            self.account_id == account_id
            and self.livemode == livemode
            and self.deleted_at is None
            and (customer_id is None or self.customer_id == customer_id)
        )


@dataclass(frozen=True, slots=True)
class FileDeletion:
    file_id: str
    deleted_at: int
