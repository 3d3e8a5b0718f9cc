"""ringside_server/metering/journal.py: a leased call's admission and finish are written locally before
its answer ends; a segment goes once the core has every record of it; an edge starting on the same
data directory reports what a dead one left (DECISIONS.md 14: no answer waits for a report)."""

from __future__ import annotations

import asyncio
import os
import pathlib

import pytest

from ringside_server.errors import RingsideError
from ringside_server.metering import journal
from ringside_server.metering.journal import Journal, replay_orphans
from ringside_server.metering.leases import LeaseManager
from tests.ringside_server.metering.lease_fakes import SETTLE, WINDOW_S, FakeCore, flush_until_quiet, outcome, ticket


def kill(written: Journal) -> None:
    """What a kill -9 leaves: the files, their locks released, nothing reported or deleted."""
    for segment in [*written._done, written._current]:
        os.close(segment.fd)


def segments(directory: pathlib.Path) -> list[pathlib.Path]:
    return sorted(directory.glob("*" + journal.SUFFIX))


async def test_calls_answered_before_a_death_are_reported_by_the_next_edge(tmp_path: pathlib.Path) -> None:
    dead_core, next_core = FakeCore(), FakeCore()
    dead = LeaseManager(dead_core, "edge-dead", WINDOW_S, Journal(tmp_path))  # type: ignore[arg-type]
    answered = await ticket(dead)
    in_flight = await ticket(dead)
    dead.finish(answered, outcome(output_tokens=300))
    # No report ever left it: what the core would have had without the journal is nothing.
    assert not dead_core.sent(SETTLE)
    await replay_orphans(tmp_path, next_core)  # type: ignore[arg-type]
    assert not next_core.sent(SETTLE), "a live process's segment is never taken over"

    kill(dead.journal)  # type: ignore[arg-type]
    async with asyncio.timeout(5):
        await replay_orphans(tmp_path, next_core)  # type: ignore[arg-type]
    (report,) = next_core.reports(answered.lease.id)
    assert {c.request_id for c in report.admitted} == {answered.request_id, in_flight.request_id}
    assert [c.request_id for c in report.calls] == [answered.request_id]
    assert report.calls[0].usage.output_tokens == 300 and report.calls[0].estimate_nano_usd == answered.estimate_nano
    assert not report.close, "the lease's expiry posts the call that was in flight"
    assert not segments(tmp_path)


async def test_a_segment_is_deleted_once_the_core_has_every_record(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = FakeCore()
    manager = LeaseManager(core, "edge-test", WINDOW_S, Journal(tmp_path))  # type: ignore[arg-type]
    monkeypatch.setattr(journal, "SEGMENT_S", 0.0)  # every round rotates a written segment out
    first = await ticket(manager)
    manager.finish(first, outcome())
    (written,) = segments(tmp_path)
    core.report_error = RingsideError("service_unavailable", "down")
    await manager.flush()  # rotated out, its records not acknowledged: kept
    assert written in segments(tmp_path)
    core.report_error = None
    await flush_until_quiet(manager, core)
    assert written not in segments(tmp_path)
    assert core.reported_ids() == [first.request_id]
    await manager.close(1.0)
    assert not segments(tmp_path), "a clean stop leaves nothing to replay"


async def test_a_torn_last_record_ends_the_segment(tmp_path: pathlib.Path) -> None:
    core, next_core = FakeCore(), FakeCore()
    dead = LeaseManager(core, "edge-dead", WINDOW_S, Journal(tmp_path))  # type: ignore[arg-type]
    admitted = await ticket(dead)
    kill(dead.journal)  # type: ignore[arg-type]
    (path,) = segments(tmp_path)
    with path.open("ab") as file:
        file.write(journal.HEADER.pack(200) + b"\x0a\x05lse_")  # killed in the middle of a write
    await replay_orphans(tmp_path, next_core)  # type: ignore[arg-type]
    assert [c.request_id for r in next_core.reports() for c in r.admitted] == [admitted.request_id]


async def test_a_core_away_keeps_the_segment_for_the_next_pass(tmp_path: pathlib.Path) -> None:
    dead = LeaseManager(FakeCore(), "edge-dead", WINDOW_S, Journal(tmp_path))  # type: ignore[arg-type]
    await ticket(dead)
    kill(dead.journal)  # type: ignore[arg-type]
    away = FakeCore(report_error=RingsideError("service_unavailable", "down"))
    await replay_orphans(tmp_path, away)  # type: ignore[arg-type]
    assert len(segments(tmp_path)) == 1
    back = FakeCore()
    await replay_orphans(tmp_path, back)  # type: ignore[arg-type]
    assert len(back.reports()) == 1 and not segments(tmp_path)
