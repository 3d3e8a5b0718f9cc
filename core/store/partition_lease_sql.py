"""The statements of the partition lease loop (PostgreSQL; core/store/partition_leases.py). Every
time is the database's clock (`clock_timestamp()`), so the cores' clocks need not agree."""

from __future__ import annotations

from sqlalchemy import bindparam, text

_NOW_MS = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"

ENSURE = text(
    "INSERT INTO partition_leases (partition, owner, epoch, expires_at_ms) "
    "SELECT p, '', 0, 0 FROM generate_series(0, :count - 1) AS p ON CONFLICT (partition) DO NOTHING"
)
# Rows locked in partition order by every statement here: two claims, or a claim and a commit's
# check, never wait on each other in a cycle.
CLAIM = text(
    "UPDATE partition_leases SET owner = :me, epoch = epoch + 1, "
    f"expires_at_ms = {_NOW_MS} + :ttl_ms "
    "WHERE partition IN (SELECT partition FROM partition_leases WHERE partition IN :wanted "
    f"AND (owner = :me OR owner = '' OR expires_at_ms < {_NOW_MS}) ORDER BY partition FOR UPDATE) "
    "RETURNING partition, epoch"
).bindparams(bindparam("wanted", expanding=True))
RENEW = text(
    f"UPDATE partition_leases SET expires_at_ms = {_NOW_MS} + :ttl_ms "
    "WHERE partition IN (SELECT partition FROM partition_leases WHERE partition IN :held AND owner = :me "
    "ORDER BY partition FOR UPDATE) RETURNING partition, epoch"
).bindparams(bindparam("held", expanding=True))
RELEASE = text(
    "UPDATE partition_leases SET expires_at_ms = 0 WHERE partition = :partition AND owner = :me AND epoch = :epoch"
)
NEXT_LAPSE = text(f"SELECT min(expires_at_ms - {_NOW_MS}) FROM partition_leases WHERE owner <> :me AND owner <> ''")
# A core's liveness lock key (`liveness_key`) computed by PostgreSQL: the first 8 bytes of the
# SHA-256 of the prefixed id, big-endian, signed.
KEY_OF_OWNER = (
    "CAST(CAST('x' || left(encode(sha256(convert_to(:prefix || o.owner, 'UTF8')), 'hex'), 16) AS bit(64)) AS bigint)"
)
# The other cores holding partitions, those of them whose liveness lock is free (their process is
# gone: probed in this statement, each lock taken released as it ends — autocommit), and the
# partitions released (by a hand-back or a clean stop: expires_at_ms = 0) or never claimed, not this
# core's: the death poll's one read of the 256-row table (every DEATH_POLL_S on each core; a
# statement's round trip is most of what an idle core spends). A transaction that takes a dead
# core's partitions (and probes its lock again, `DEAD_OWNERS`) is opened only when one is gone.
OTHERS = text(
    "SELECT array_agg(o.owner ORDER BY o.owner) FILTER (WHERE o.owner <> ''), "
    f"array_agg(o.owner ORDER BY o.owner) FILTER (WHERE o.owner <> '' AND pg_try_advisory_xact_lock({KEY_OF_OWNER})), "
    "(SELECT array_agg(partition ORDER BY partition) FROM partition_leases WHERE owner <> :me AND expires_at_ms = 0) "
    "FROM (SELECT DISTINCT owner FROM partition_leases WHERE owner <> :me) AS o"
)
TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
# The other owners whose liveness lock is free (their process is gone), probed in one statement
# whatever their number, the transaction's idle time bounded by it too (`bound_idle`,
# core/store/partition_fence.py); the locks taken are held until the transaction that takes their
# partitions ends.
DEAD_OWNERS = text(
    "SELECT o.owner, set_config('idle_in_transaction_session_timeout', :ms, true) "
    "FROM unnest(CAST(:owners AS text[]), CAST(:keys AS bigint[])) AS o(owner, key) "
    "WHERE pg_try_advisory_xact_lock(o.key) ORDER BY o.owner"
)
TAKE_FROM = text(
    f"UPDATE partition_leases SET owner = :me, epoch = epoch + 1, expires_at_ms = {_NOW_MS} + :ttl_ms "
    "WHERE partition IN (SELECT partition FROM partition_leases WHERE owner = :dead ORDER BY partition FOR UPDATE) "
    "RETURNING partition, epoch"
)
# Another core's partitions whose lease lapsed without a release (expires_at_ms > 0: a release sets
# 0): their owner stopped renewing (frozen, cut off from the database) while its liveness lock may
# still be held. A released partition is left to the core that prefers it.
CLAIM_LAPSED = text(
    "UPDATE partition_leases SET owner = :me, epoch = epoch + 1, "
    f"expires_at_ms = {_NOW_MS} + :ttl_ms "
    "WHERE partition IN (SELECT partition FROM partition_leases WHERE owner <> :me AND owner <> '' "
    f"AND expires_at_ms > 0 AND expires_at_ms < {_NOW_MS} ORDER BY partition FOR UPDATE) "
    "RETURNING partition, epoch"
)
# A core's sessions are named (application_name) by a hash of its id: a core claiming another's
# lapsed partitions ends that core's sessions left idle in a transaction longer than the TTL — a
# core frozen mid-commit keeps the lease rows it locked FOR SHARE, and the TTL bound of
# `bound_idle` (core/store/partition_fence.py) does not fire after a pipelined executemany
# (psycopg), where the backend never went idle at a Sync. Its leases lapsed and its transaction
# sat a TTL: ending it loses no write that could still land (the fence would refuse it).
END_FROZEN = text(
    "SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a WHERE a.datname = current_database() "
    "AND a.pid <> pg_backend_pid() AND a.application_name IN :names "
    "AND a.state IN ('idle in transaction', 'idle in transaction (aborted)') "
    "AND a.state_change < clock_timestamp() - make_interval(secs => :idle_s)"
).bindparams(bindparam("names", expanding=True))
LAPSED_OWNERS = text(
    "SELECT DISTINCT owner FROM partition_leases WHERE owner <> :me AND owner <> '' "
    f"AND expires_at_ms > 0 AND expires_at_ms < {_NOW_MS}"
)
OWNERS = text(f"SELECT partition, owner, epoch, expires_at_ms - {_NOW_MS} FROM partition_leases ORDER BY partition")
# A claim waits at most TTL / 4 for row locks, then gives up this round
# (`PartitionLeases._claim_waiting`): it runs under the lease mutex, and a claim blocked for good by
# a frozen core's transaction would stall this core's own renewals; the next round ends that
# transaction first (`END_FROZEN`).
LOCK_WAIT = text("SELECT set_config('lock_timeout', :ms, true)")
