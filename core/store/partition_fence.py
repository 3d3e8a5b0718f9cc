"""The fence every commit checks (PostgreSQL only; DECISIONS.md 25; the design is in
core/store/partition_leases.py): in its own transaction, this core still holds each written account's
partition at the epoch it claimed, or the transaction rolls back whole (`PartitionFenced`).

Writes that name no account (outbox relays and delivery attempts, retention purges, idempotency
pruning, resealing at rest) are fenced on the **system partition** (`SYSTEM_PARTITION`, 0): the commit
checks this core holds it at its epoch, like any account's, so a stale core writes none of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, text

from ringside_server.errors import RingsideError
from ringside_server.partitions import partition_of

# The partition account-less writes are fenced on: only its owner may write them.
SYSTEM_PARTITION = 0

_CHECK = text(
    "SELECT partition, owner, epoch FROM partition_leases WHERE partition IN :partitions ORDER BY partition FOR SHARE"
).bindparams(bindparam("partitions", expanding=True))
# `_BOUND_IDLE` and `_CHECK` in one statement (the group commit's fence, Fence.check): one row per
# lease row locked, or one row of NULLs when none is, so that set_config runs either way.
_CHECK_BOUNDED = text(
    "SELECT held.partition, held.owner, held.epoch, set_config('idle_in_transaction_session_timeout', :ms, true) "
    "FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT partition, owner, epoch FROM partition_leases "
    "WHERE partition IN :partitions ORDER BY partition FOR SHARE) AS held ON true"
).bindparams(bindparam("partitions", expanding=True))
# How long a transaction that locks lease rows (a commit's fence check, a claim, a renewal) may sit
# idle before PostgreSQL ends its session: a core frozen mid-transaction (SIGSTOP, a VM pause) would
# otherwise keep those rows, and the ledger rows its commit wrote, locked until it is resumed — and
# every core claiming its lapsed partitions, or writing for the same customers, would wait on it.
_BOUND_IDLE = text("SELECT set_config('idle_in_transaction_session_timeout', :ms, true)")


class PartitionFenced(RingsideError):
    """This core no longer holds the partition at the epoch it claimed: its write did not land."""

    def __init__(self, partitions: Iterable[int]) -> None:
        listed = sorted(partitions)
        self.partitions = listed
        super().__init__(
            "service_unavailable",
            f"This core no longer owns partition {listed[0]} of these accounts; retry the request.",
        )


@dataclass
class Fence:
    """What the group commit checks: the partitions this core holds and at which epoch. Replaced
    whole (never edited in place) by the lease loop, read by the writer's thread."""

    core_id: str
    partitions: int
    held: dict[int, int] = field(default_factory=dict)
    # The longest this core's transactions that lock lease rows may sit idle (`_BOUND_IDLE`), in
    # milliseconds (the lease TTL: a core stalled that long has lost its partitions anyway); 0: unbounded.
    idle_ms: int = 0

    def check(self, connection: Connection, account_ids: Iterable[str], system: bool = False) -> None:
        """In the commit's transaction: every account's partition (and with `system`, the system
        partition) is still this core's at its epoch, or PartitionFenced (the transaction then
        rolls back). The transaction's idle time is bounded too (`_BOUND_IDLE`), on PostgreSQL by
        the statement that locks the lease rows (`_CHECK_BOUNDED`)."""
        wanted = {partition_of(account_id, self.partitions) for account_id in account_ids}
        if system:
            wanted.add(SYSTEM_PARTITION)
        held = self.held
        stale = {p for p in wanted if p not in held}
        asked = sorted(wanted - stale)
        if asked and self.idle_ms > 0 and connection.dialect.name == "postgresql":
            # One round trip a commit instead of two: the bound is set by the statement that locks.
            bounded = connection.execute(_CHECK_BOUNDED, {"partitions": asked, "ms": str(self.idle_ms)})
            rows = [row for row in bounded if row[0] is not None]
        else:
            bound_idle(connection, self.idle_ms)
            rows = list(connection.execute(_CHECK, {"partitions": asked})) if asked else []
        found = {int(row[0]): (str(row[1]), int(row[2])) for row in rows}
        stale |= {p for p in wanted - stale if found.get(p) != (self.core_id, held[p])}
        if stale:
            raise PartitionFenced(stale)


def bound_idle(connection: Connection, idle_ms: int) -> None:
    """This transaction's session ends if it sits idle `idle_ms` (its row locks go with it); 0: no bound."""
    if idle_ms > 0 and connection.dialect.name == "postgresql":
        connection.execute(_BOUND_IDLE, {"ms": str(idle_ms)})
