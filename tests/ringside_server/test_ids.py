"""Ids from the buffered CSPRNG (plain and sortable): well formed, never repeated, not shared with a fork."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable

from ringside_server import ids

_SORTABLE = re.compile(r"^tr_[0-9A-Za-z]{24}$")
_PLAIN = re.compile(r"^req_[0-9A-Za-z]{24}$")


def made_in_threads(make: Callable[[], str], threads: int = 4, each: int = 2_000) -> list[str]:
    """`each` ids from `make` in each of `threads` threads at once (~8 refills of the buffer each)."""
    made: list[list[str]] = [[] for _ in range(threads)]
    running = [
        threading.Thread(target=lambda into: into.extend(make() for _ in range(each)), args=(into,)) for into in made
    ]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=30)
    return [i for into in made for i in into]


def made_in_a_fork(make: Callable[[], str]) -> str:
    """The id a forked child makes next (the child leaves without running the test session's exit)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, make().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    return child


def test_sortable_ids_are_unique_across_refills_and_threads() -> None:
    every = made_in_threads(lambda: ids.new_sortable_id("tr"))
    assert len(every) == 8_000 and len(set(every)) == 8_000
    assert all(_SORTABLE.match(i) for i in every)


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    ids.new_sortable_id("tr")  # the buffer holds unread characters now
    child = made_in_a_fork(lambda: ids.new_sortable_id("tr"))
    assert _SORTABLE.match(child)
    assert child[11:] != ids.new_sortable_id("tr")[11:]  # the random parts, past the time stamp


def test_sortable_ids_made_in_one_millisecond_sort_in_the_order_they_were_made() -> None:
    made = [ids.new_sortable_id("tr") for _ in range(5_000)]  # hundreds per millisecond
    assert made == sorted(made) and len(set(made)) == len(made)
    stamps = [i[3:11] for i in made]
    assert len(set(stamps)) < len(made)  # several per millisecond, so the step was exercised


def test_plain_ids_share_the_buffer_with_sortable_ones_and_are_never_repeated() -> None:
    def plain_after_a_sortable() -> str:  # both kinds drawing on the one buffer at once
        ids.new_sortable_id("tr")
        return ids.new_id("req")

    every = made_in_threads(plain_after_a_sortable)
    assert len(every) == 8_000 and len(set(every)) == 8_000
    assert all(_PLAIN.match(i) for i in every)
    child = made_in_a_fork(lambda: ids.new_id("req"))
    assert _PLAIN.match(child) and child != ids.new_id("req")


def _decoded(stamp: str) -> int:
    value = 0
    for char in stamp:
        value = value * 62 + ids._ALPHABET.index(char)
    return value


def test_stamps_encode_their_millisecond_across_the_cached_windows_edges() -> None:
    # The stamp's first 6 characters are cached per 3,844 ms window: in order, backwards (a clock
    # stepped back) and far apart, each stamp still decodes to its own millisecond.
    now = 1_764_800_000_000
    edge = now - now % 3_844
    sequence = [edge - 2, edge - 1, edge, edge + 1, edge + 3_843, edge + 3_844, edge - 1, edge, 0, 62**8 - 1, now]
    stamps = [ids._stamp(millis) for millis in sequence]
    assert all(len(stamp) == 8 for stamp in stamps)
    assert [_decoded(stamp) for stamp in stamps] == sequence
    forward = [ids._stamp(millis) for millis in range(edge - 5, edge + 3_850)]
    assert forward == sorted(forward) and len(set(forward)) == len(forward)


def test_request_ids_are_well_formed_and_sort_in_the_order_they_were_made() -> None:
    # a call's rows (hold, usage record, pending transfer) are keyed by it: in creation order they
    # go in at the right edge of their indexes
    made = [ids.new_request_id() for _ in range(5_000)]
    assert all(_PLAIN.match(i) for i in made)
    assert made == sorted(made) and len(set(made)) == len(made)


def test_lease_ids_sort_in_the_order_they_were_made() -> None:
    made = [ids.new_lease_id() for _ in range(2_000)]
    assert all(re.match(r"^lse_[0-9A-Za-z]{24}$", i) for i in made)
    assert made == sorted(made) and len(set(made)) == len(made)
