"""The lease journal: what an edge process admitted and finished under its leases, written to a
local file before the call goes upstream (an admission) and before its answer ends (a finish), so
that a call answered just before this process dies is still billed without the answer ever waiting
for the core (DECISIONS.md 14 and 24).

The write is one `write(2)` of a few hundred bytes to an append-only file, without fsync: it lives
in the kernel's page cache, which outlives a killed process (kill -9, OOM, a crash), not a lost
machine. Each record is also reported to the core in the lease's next report (every 50 ms);
the journal only covers the interval between an answer and that report.

Each process writes its own segment files under `<data dir>/lease-journal/`, each held under an
exclusive `flock` while the process lives. A segment is deleted once the core has acknowledged
every record in it. Every edge on the same data directory (before it starts serving, then every
REPLAY_EVERY_S) takes over each segment whose lock it can take (its writer is dead) and reports
it: admissions and finished calls, each at most once (the core ignores what a report repeats),
without closing the lease: its expiry posts what was admitted and never finished at its estimate,
and releases the rest, as for a report that reached the core before the death. A call first
reported after its lease expired is posted then (or corrects the expiry's posting), as any late
report.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pathlib
import secrets
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from ringside.core.v1 import metering_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError

log = logging.getLogger("ringside.edge.journal")
DIRECTORY = "lease-journal"
SUFFIX = ".journal"
SEGMENT_S = 10.0  # a new segment this often, so that a finished one can be deleted
SEGMENT_BYTES = 64 * 1024 * 1024
HEADER = struct.Struct(">I")
MAX_RECORD_BYTES = 1024 * 1024  # a record claiming more is a torn tail: the rest of the file is ignored
REPLAY_CHUNK = 500  # calls per report (the core's bound)
REPLAY_EVERY_S = 2.0  # a pass over the directory this often (a segment whose writer just died)
RETRYABLE = ("service_unavailable", "conversation_locked")


@dataclass(eq=False, slots=True)
class Segment:
    path: pathlib.Path
    fd: int
    opened_at: float
    size: int = 0
    pending: int = 0  # records written and not yet acknowledged by the core


@dataclass(slots=True)
class Replayed:
    """One lease's records in orphaned segments."""

    admitted: dict[str, metering_pb2.LeaseCall] = field(default_factory=dict)
    finished: dict[str, metering_pb2.LeaseCall] = field(default_factory=dict)


class Journal:
    def __init__(self, directory: pathlib.Path) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory = directory
        self._done: list[Segment] = []  # rotated out, waiting for their last acknowledgement
        self._current = self._open_segment()

    def _open_segment(self) -> Segment:
        name = f"{os.getpid()}-{time.time_ns()}-{secrets.token_hex(3)}{SUFFIX}"
        path = self.directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else holds it
        return Segment(path, fd, time.monotonic())

    def write(
        self,
        lease_id: str,
        admitted: metering_pb2.LeaseCall | None = None,
        finished: metering_pb2.LeaseCall | None = None,
    ) -> Segment:
        """Append one record (an admission or a finished call of `lease_id`); the segment it is in,
        to `acknowledged` once the core has it."""
        record = metering_pb2.SettleLeaseCallsRequest(
            lease_id=lease_id,
            admitted=[admitted] if admitted is not None else [],
            calls=[finished] if finished is not None else [],
        ).SerializeToString()
        segment = self._current
        os.write(segment.fd, HEADER.pack(len(record)) + record)
        segment.size += HEADER.size + len(record)
        segment.pending += 1
        return segment

    @staticmethod
    def acknowledged(segments: list[Segment]) -> None:
        for segment in segments:
            segment.pending -= 1

    def tidy(self) -> None:
        """Rotate an old or large segment out; delete the rotated ones the core has every record of."""
        current = self._current
        if current.size and (current.size >= SEGMENT_BYTES or time.monotonic() - current.opened_at >= SEGMENT_S):
            self._done.append(current)
            self._current = self._open_segment()
        kept = []
        for segment in self._done:
            if segment.pending > 0:
                kept.append(segment)
            else:
                _delete(segment.path, segment.fd)
        self._done = kept

    def close(self) -> None:
        """At shutdown, after the last reports: delete what the core has; keep the rest for the next start."""
        self._done.append(self._current)
        for segment in self._done:
            if segment.pending > 0:
                os.close(segment.fd)
            else:
                _delete(segment.path, segment.fd)
        self._done = []


def _delete(path: pathlib.Path, fd: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # before the lock goes: a starting edge never sees it half gone
    os.close(fd)


def read_records(data: bytes) -> Iterator[metering_pb2.SettleLeaseCallsRequest]:
    """The records of a segment; a torn last record (the process died mid-write) ends it."""
    offset = 0
    while offset + HEADER.size <= len(data):
        (size,) = HEADER.unpack_from(data, offset)
        start = offset + HEADER.size
        if size > MAX_RECORD_BYTES or start + size > len(data):
            return
        record = metering_pb2.SettleLeaseCallsRequest()
        try:
            record.ParseFromString(data[start : start + size])
        except Exception:  # protobuf's DecodeError: a torn or foreign record
            return
        yield record
        offset = start + size


def by_lease(records: Iterator[metering_pb2.SettleLeaseCallsRequest]) -> dict[str, Replayed]:
    leases: dict[str, Replayed] = {}
    for record in records:
        entry = leases.setdefault(record.lease_id, Replayed())
        for call in record.admitted:
            entry.admitted.setdefault(call.request_id, call)
        for call in record.calls:
            entry.finished.setdefault(call.request_id, call)
    return leases


def _orphans(directory: pathlib.Path) -> Iterator[tuple[pathlib.Path, int, bytes]]:
    """Each segment whose lock can be taken (its writer is dead), locked, with its bytes; the caller
    closes the descriptor (which releases the lock)."""
    for path in sorted(directory.glob("*" + SUFFIX)):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue  # deleted meanwhile by its live writer
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # its writer lives (or another edge is reporting it)
            continue
        try:
            with open(fd, "rb", closefd=False) as file:
                data = file.read()
        except OSError:
            os.close(fd)
            log.exception("could not read %s", path.name)
            continue
        yield path, fd, data


async def replay_orphans(directory: pathlib.Path, core: CoreClient) -> int:
    """One pass: report every segment no live process holds (its writer died), then delete it. A
    segment the core cannot take now stays for the next pass. → segments left for it."""
    left = 0
    for path, fd, data in _orphans(directory):
        try:
            leases = by_lease(read_records(data))
            if not await _report(core, leases):
                left += 1
                continue
            log.warning("reported %s: %d leases of an edge process that died", path.name, len(leases))
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # before the lock goes: nobody reports it twice
        except Exception:
            left += 1
            log.exception("could not report %s; the next pass tries again", path.name)
        finally:
            os.close(fd)
    return left


async def _report(core: CoreClient, leases: dict[str, Replayed]) -> bool:
    """Report each lease's records (admissions with their finished calls); False: the core cannot
    take them now (a repeat later records each call once)."""
    for lease_id, entry in leases.items():
        admitted, finished = list(entry.admitted.values()), list(entry.finished.values())
        for start in range(0, max(len(admitted), len(finished)), REPLAY_CHUNK):
            request = metering_pb2.SettleLeaseCallsRequest(
                lease_id=lease_id,
                admitted=admitted[start : start + REPLAY_CHUNK],
                calls=finished[start : start + REPLAY_CHUNK],
            )
            try:
                await core.internal(core.metering.SettleLeaseCalls, request)
            except RingsideError as error:
                if error.code in RETRYABLE:
                    return False
                log.error("replayed report of lease %s refused: %s", lease_id, error)
    return True
