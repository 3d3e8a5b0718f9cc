"""The Assistants API's objects (assistants, threads, messages, runs): records the core writes, and
who may read one. Kept for compatibility: OpenAI has retired the API (docs/assistants.md)."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("assistant", "thread", "message", "run")
CHILD_KINDS = ("message", "run")  # they belong to a thread
MAX_JSON_CHARS = 64 * 1024 * 1024  # one object (a message of a 32 MiB request)
MAX_PRIVATE_CHARS = 1024 * 1024


@dataclass(frozen=True, slots=True)
class AssistantObject:
    """One object as kept: its OpenAI JSON as made, and Ringside's private state of it."""

    id: str
    kind: str
    account_id: str
    livemode: bool
    customer_id: str  # "" = the account's
    parent_id: str  # a message's or run's thread
    status: str  # a run's status
    body_json: str
    private_json: str
    created: int
    position: int  # creation order within the core (ns, strictly increasing): lists and cursors
    key_id: str = ""  # the key that made it: a run's worker acts for it


@dataclass(frozen=True, slots=True)
class AssistantObjectUpdate:
    """New JSON, private state and status for an object — only while its status is one of
    `only_from` (empty: always), so a worker's write never undoes a cancel that came first."""

    id: str
    status: str
    body_json: str
    private_json: str
    only_from: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AssistantObjectDeletion:
    """An object goes, with everything whose parent it is (a thread's messages and runs)."""

    id: str


@dataclass(frozen=True, slots=True)
class AssistantObjectsErased:
    """Every assistant, thread, message and run of an erased customer goes (API.md "Customers")."""

    customer_id: str


@dataclass(frozen=True, slots=True)
class AssistantObjectPurge:
    """Forget objects created before `created_before` (retention)."""

    created_before: int


class Positions:
    """Creation order within the core: nanoseconds, strictly increasing (two objects of one
    millisecond still list in the order they were made)."""

    def __init__(self) -> None:
        self.last = 0

    def next(self, now_ns: int) -> int:
        self.last = max(self.last + 1, now_ns)
        return self.last


def visible_to(found: AssistantObject, account_id: str, livemode: bool, customer_id: str | None) -> bool:
    """The account's own, in its mode; a caller bound to a customer (`customer_id` not None) sees
    that customer's only — anything else is as if it did not exist."""
    if (found.account_id, found.livemode) != (account_id, livemode):
        return False
    return customer_id is None or found.customer_id == customer_id
