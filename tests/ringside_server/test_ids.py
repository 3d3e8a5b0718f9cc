"""Sortable ids from the buffered CSPRNG: well formed, never repeated, not shared with a fork."""

from __future__ import annotations

import os
import re
import threading

from ringside_server import ids

_SORTABLE = re.compile(r"^tr_[0-9A-Za-z]{24}$")


def test_sortable_ids_are_unique_across_refills_and_threads() -> None:
    made: list[list[str]] = [[] for _ in range(4)]

    def make(into: list[str]) -> None:
        into.extend(ids.new_sortable_id("tr") for _ in range(2_000))  # ~8 refills of the buffer each

    threads = [threading.Thread(target=make, args=(into,)) for into in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    every = [i for into in made for i in into]
    assert len(every) == 8_000 and len(set(every)) == 8_000
    assert all(_SORTABLE.match(i) for i in every)


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    ids.new_sortable_id("tr")  # the buffer holds unread characters now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, then out without running the test session's exit
        os.write(write, ids.new_sortable_id("tr").encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert _SORTABLE.match(child)
    assert child[11:] != ids.new_sortable_id("tr")[11:]  # the random parts, past the time stamp


def test_sortable_ids_made_in_one_millisecond_sort_in_the_order_they_were_made() -> None:
    made = [ids.new_sortable_id("tr") for _ in range(5_000)]  # hundreds per millisecond
    assert made == sorted(made) and len(set(made)) == len(made)
    stamps = [i[3:11] for i in made]
    assert len(set(stamps)) < len(made)  # several per millisecond, so the step was exercised


_PLAIN = re.compile(r"^req_[0-9A-Za-z]{24}$")


def test_plain_ids_from_the_shared_buffer_are_unique_across_threads_and_not_repeated_by_a_fork() -> None:
    made: list[list[str]] = [[] for _ in range(4)]

    def make(into: list[str]) -> None:
        for _ in range(2_000):  # plain and sortable ids drawing on the one buffer at once
            ids.new_sortable_id("tr")
            into.append(ids.new_id("req"))

    threads = [threading.Thread(target=make, args=(into,)) for into in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    every = [i for into in made for i in into]
    assert len(every) == 8_000 and len(set(every)) == 8_000
    assert all(_PLAIN.match(i) for i in every)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, ids.new_id("req").encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert _PLAIN.match(child) and child != ids.new_id("req")
