"""Vector stores (OpenAI's Vector Stores API, issue 16): what the core keeps of a store — its
owner, its pinned embedding model, its live index generation — and who may see it. The index
itself is the rag role's; a store's row names its live generation (DECISIONS.md 16)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_NAME = 256


@dataclass(slots=True)
class VectorStore:
    """A store (`vs_…`); `customer_id` None for the account's own. JSON fields are kept as text."""

    id: str
    account_id: str
    livemode: bool
    customer_id: str | None
    name: str
    embedding_model: str  # the fc: ref resolved at create (pinned)
    embedding_model_requested: str  # the ref as given
    chunking_json: str  # the store's default chunking_strategy
    metadata_json: str
    expires_after_days: int | None
    shared: bool  # an account store customers may retrieve and search
    generation: int
    created: int
    last_active_at: int
    deleted_at: int | None = None

    def visible(self, account_id: str, livemode: bool, customer_id: str | None, shared_ok: bool) -> bool:
        """Seen by this tenant as that customer (None: account-level, which sees every store); a
        customer also sees the account's shared stores where `shared_ok` (retrieve and search)."""
        if self.account_id != account_id or self.livemode != livemode or self.deleted_at is not None:
            return False
        if customer_id is None or self.customer_id == customer_id:
            return True
        return shared_ok and self.shared and self.customer_id is None


@dataclass(frozen=True, slots=True)
class VectorStoreUpdate:
    """A store's mutable fields after a modify (the row's mutable columns are rewritten)."""

    store: VectorStore


@dataclass(frozen=True, slots=True)
class VectorStoreDeletion:
    store_id: str
    deleted_at: int
