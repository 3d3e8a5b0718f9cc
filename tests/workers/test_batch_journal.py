"""A batch's journal read back after a crash: results kept, admissions without a result still open,
a torn last record skipped, and the files' lines in the input's order."""

from __future__ import annotations

import asyncio
import pathlib

from workers.batch.journal import Journal


def test_a_journal_read_back_after_a_crash(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "batches" / "batch_1.jsonl"

    async def first_attempt() -> None:
        journal = Journal.open(path)
        await journal.admit(2, "req_b", "b")
        await journal.result(2, "output", b'{"custom_id": "b"}\n')
        await journal.admit(1, "req_a", "a")
        await journal.result(1, "error", b'{"custom_id": "a"}\n')
        await journal.admit(3, "req_c", "c")  # killed here, before its answer

    asyncio.run(first_attempt())
    with path.open("ab") as handle:
        handle.write(b'{"n": 4, "admi')  # a record cut by the crash
    again = Journal.open(path)
    assert again.admitted == {3: ("req_c", "c")}
    assert sorted(again.results) == [1, 2]
    assert (again.count("output"), again.count("error")) == (1, 1)
    assert again.lines_of("output") == [b'{"custom_id": "b"}\n']
