"""Re-embed migrations of a vector store (issue 17): what the core keeps of one — its models, the
index generations it goes from and to, its progress and its rollback window. The swap and the
rollback each flip the store's row (model and live generation) in one core write (DECISIONS.md 16)."""

from __future__ import annotations

from dataclasses import dataclass

ROLLBACK_WINDOW_S = 7 * 86_400
STATUSES = ("in_progress", "completed", "failed", "cancelled", "rolled_back")
MAX_LIST = 100


@dataclass(slots=True)
class VectorStoreMigration:
    """A migration (`vsmig_…`). `retired` once the durable timer has dropped the index that is no
    longer live (the old one, or after a rollback the new one): rollback is refused from then on."""

    id: str
    store_id: str
    account_id: str
    livemode: bool
    customer_id: str | None
    status: str
    from_model: str
    to_model: str
    to_model_requested: str
    from_model_requested: str  # the store's ref as given before: what a rollback shows again
    from_generation: int
    to_generation: int
    key_id: str  # the key that asked: the re-embedding is metered as its call, to the store's owner
    created: int
    updated: int
    completed_at: int | None = None
    rollback_until: int | None = None
    files_total: int = 0
    files_done: int = 0
    chunks_done: int = 0
    embedding_tokens: int = 0
    last_error_code: str = ""
    last_error_message: str = ""
    retired: bool = False


@dataclass(frozen=True, slots=True)
class VectorStoreMigrationUpdate:
    """A migration's mutable fields after a change (the row's mutable columns are rewritten)."""

    migration: VectorStoreMigration
