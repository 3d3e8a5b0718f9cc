"""Where each core listens, and which partitions each live core should own (PostgreSQL; issue 25).

A core writes its advertised address (`RINGSIDE_CORE_ADVERTISE_ADDRESS`, default its listen
address) under its id; joined with `partition_leases` this is the **partition map**: partition →
the address of the core holding it now. Live cores are the registered ones whose liveness lock
(core/store/partition_leases.py) is held: a dead process's goes with its session. Of those, the
split counts the **renewing** ones: `updated_at_ms` is a heartbeat, written in each renewal's
transaction (`PartitionLeases.on_renew`), and a core whose heartbeat is older than half the lease
TTL — frozen (SIGSTOP, a VM pause) or cut off from the database, its liveness lock still held — is
left out, so no partition is handed back to it (a core frozen mid-round would otherwise be handed
back the partitions just claimed from it at their lapse, and nobody would serve them until it was
resumed, found itself fenced and stopped).

**The share rule** (`preferred_partitions`): the live core ids sorted; the core at index i of N
prefers the partitions p with p % N == i — ceil(P/N) or floor(P/N) of them, every core computing
the same split from the same live set. A core claims its preferred partitions when they are free
or lapsed, takes a dead core's partitions at once (all of them, as before: the next rounds hand the
ones another live core prefers back), and hands back a partition it holds but does not prefer only
when the core preferring it is live. Fencing stays the epoch's: a share changes hands by the same
claim that fences its previous owner.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from core.store.engine import polled_reads
from core.store.partition_leases import liveness_key

_NOW_MS = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
_ADVERTISE = text(
    "INSERT INTO core_addresses (core_id, address, updated_at_ms) "
    f"VALUES (:core_id, :address, {_NOW_MS}) "
    "ON CONFLICT (core_id) DO UPDATE SET address = excluded.address, updated_at_ms = excluded.updated_at_ms"
)
# Registered with no heartbeat yet (0): other cores count it live only from its first renewal
# once its share loop runs — after its state is loaded and its port open — so none hands it a
# partition it cannot serve yet.
_REGISTER = text(
    "INSERT INTO core_addresses (core_id, address, updated_at_ms) VALUES (:core_id, :address, 0) "
    "ON CONFLICT (core_id) DO UPDATE SET address = excluded.address, updated_at_ms = 0"
)
_REGISTERED = text(f"SELECT core_id, updated_at_ms > {_NOW_MS} - :fresh_ms FROM core_addresses ORDER BY core_id")
_FORGET = text("DELETE FROM core_addresses WHERE core_id = :core_id")
_TRY_XACT_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")
_MAP = text(
    "SELECT l.partition, a.address FROM partition_leases l JOIN core_addresses a ON a.core_id = l.owner "
    f"WHERE l.owner <> '' AND l.expires_at_ms > {_NOW_MS} ORDER BY l.partition"
)
_ADDRESSES = text("SELECT core_id, address FROM core_addresses")
# A registered core seen dead this long ago is forgotten (its row would only cost a lock probe).
FORGET_AFTER_MS = 3_600_000
_FORGET_OLD = text(f"DELETE FROM core_addresses WHERE core_id = :core_id AND updated_at_ms < {_NOW_MS} - :after_ms")


def advertise(engine: Engine, core_id: str, address: str) -> None:
    """Registers (or refreshes) this core's address, before its first claim."""
    with engine.begin() as connection:
        heartbeat(connection, core_id, address)


def register(engine: Engine, core_id: str, address: str) -> None:
    """Registers this core's address before its first claim, not yet live to the others (`_REGISTER`)."""
    with engine.begin() as connection:
        connection.execute(_REGISTER, {"core_id": core_id, "address": address[:300]})


def heartbeat(connection: Connection, core_id: str, address: str) -> None:
    """This core's address and heartbeat, in the caller's transaction (each renewal's: a core whose
    renewal found a partition lost writes none)."""
    connection.execute(_ADVERTISE, {"core_id": core_id, "address": address[:300]})


def forget(engine: Engine, core_id: str) -> None:
    """A clean stop: this core is no longer one of the live cores."""
    with engine.begin() as connection:
        connection.execute(_FORGET, {"core_id": core_id})


def live_cores(engine: Engine, me: str, fresh_ms: int = FORGET_AFTER_MS) -> list[str]:
    """The registered cores whose liveness lock is held (their process runs) and whose heartbeat
    is younger than `fresh_ms` (they renew), `me` among them; sorted. A dead one's row is dropped
    an hour after its last refresh."""
    with polled_reads(engine) as connection:
        registered = [(str(row[0]), bool(row[1])) for row in connection.execute(_REGISTERED, {"fresh_ms": fresh_ms})]
    live = {me}
    for core_id, fresh in registered:
        if core_id == me:
            continue
        with engine.begin() as connection:
            free = bool(connection.execute(_TRY_XACT_LOCK, {"key": liveness_key(core_id)}).scalar())
            if free:  # its process is gone (the transaction's lock ends with this block)
                connection.execute(_FORGET_OLD, {"core_id": core_id, "after_ms": FORGET_AFTER_MS})
            elif fresh:  # running and renewing (held but stale: frozen, or cut off from the database)
                live.add(core_id)
    return sorted(live)


def preferred_partitions(partitions: int, live: list[str], me: str) -> set[int]:
    """This core's share of `partitions` among the `live` cores (see the module's docstring)."""
    ordered = sorted(set(live) | {me})
    index, count = ordered.index(me), len(ordered)
    return {p for p in range(partitions) if p % count == index}


def preferring_core(partition: int, live: list[str]) -> str:
    """The live core that prefers `partition`."""
    ordered = sorted(set(live))
    return ordered[partition % len(ordered)]


def partition_map(engine: Engine) -> dict[int, str]:
    """Partition → the address of the core holding it now (lapsed leases left out)."""
    with polled_reads(engine) as connection:  # every round, and every list call fanned out
        return {int(row[0]): str(row[1]) for row in connection.execute(_MAP)}


def addresses(engine: Engine) -> dict[str, str]:
    """Core id → its advertised address (every registered core)."""
    with polled_reads(engine) as connection:
        return {str(row[0]): str(row[1]) for row in connection.execute(_ADDRESSES)}


def owners_map(engine: Engine, live: list[str], partitions: int) -> dict[int, str]:
    """The partition map a "not owner" answer names owners from: a held partition's holder, and a
    partition nobody holds now (handed back and not claimed yet, released by a clean stop, lapsed)
    the live core that prefers it — the one that claims it next — so a caller is never sent back to
    a core that let it go."""
    held = partition_map(engine)
    registered = addresses(engine)
    expected = {p: registered.get(preferring_core(p, live), "") for p in range(partitions) if p not in held}
    return {**{p: a for p, a in expected.items() if a}, **held}
