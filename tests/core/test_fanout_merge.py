"""The merge of the list calls answered by every live core (core/rpc/fanout.py, issue 25): limits,
order, cursors, an item listed by two cores once, and the rag sweep's check refused unless every
partition was served by an answering core."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.rpc.fanout import interleave, merge_cursor_pages, merge_live, merge_pages
from core.services.pages import page_by_id
from ringside.core.v1 import files_pb2
from ringside_server.errors import RingsideError


@dataclass(frozen=True)
class Item:
    id: str


def ids(items: list[Item]) -> list[str]:
    return [item.id for item in items]


def test_pending_lists_take_from_each_core_in_turn_within_the_limit_and_once() -> None:
    a = [Item("a1"), Item("a2"), Item("a3")]
    b = [Item("b1"), Item("a2")]  # a2 listed by both: its partition changing hands
    assert ids(interleave([a, b], lambda i: i.id, 10)) == ["a1", "b1", "a2", "a3"]
    assert ids(interleave([a, b], lambda i: i.id, 2)) == ["a1", "b1"]
    assert interleave([[], []], lambda i: i.id, 5) == []


def test_a_page_of_the_union_newest_first_with_either_cursor() -> None:
    everything = [Item(f"acct_{n:02d}") for n in range(30)]
    halves = [everything[0::2], everything[1::2]]  # two cores' accounts

    def walk(limit: int, backwards: bool = False) -> list[str]:
        seen: list[str] = []
        after, before = "", ""
        for _ in range(100):
            pages = []
            for half in halves:
                mine = sorted(half, key=lambda i: i.id, reverse=True)
                pages.append(page_by_id(mine, lambda i: i.id, limit, after, before))
            page, more = merge_pages(pages, lambda i: i.id, limit, bool(before))
            assert len(page) <= limit
            assert ids(page) == sorted(ids(page), reverse=True)
            seen = ids(page) + seen if backwards else seen + ids(page)
            if not more:
                return seen
            if backwards:
                before = page[0].id
            else:
                after = page[-1].id
        raise AssertionError("no end")

    newest_first = sorted((i.id for i in everything), reverse=True)
    for limit in (1, 3, 7, 30, 100):
        assert walk(limit) == newest_first
    # backwards from the oldest: every page before it, ending at the newest
    halves_before = newest_first[-1]
    pages = [
        page_by_id(sorted(h, key=lambda i: i.id, reverse=True), lambda i: i.id, 4, "", halves_before) for h in halves
    ]
    page, more = merge_pages(pages, lambda i: i.id, 4, True)
    assert ids(page) == newest_first[-5:-1] and more


def test_a_walk_by_ascending_id_stops_where_every_core_has_walked() -> None:
    core_a = [Item(x) for x in ("c01", "c02", "c03", "c09")]
    core_b = [Item(x) for x in ("c04", "c05", "c06", "c07", "c08")]

    def batch(items: list[Item], after: str, limit: int) -> tuple[list[Item], str, bool]:
        rest = [i for i in items if i.id > after]
        chosen = rest[:limit]
        return chosen, (chosen[-1].id if chosen else after), len(rest) > limit

    for limit in (1, 2, 3, 5, 10):
        after, walked = "", []
        for _ in range(50):
            merged, last, more = merge_cursor_pages(
                [batch(core_a, after, limit), batch(core_b, after, limit)], lambda i: i.id, limit
            )
            assert len(merged) <= limit and all(i.id > after for i in merged)
            walked += ids(merged)
            after = last
            if not more:
                break
        assert walked == [f"c0{n}" for n in range(1, 10)], limit  # each once, in order, none missed


def _live(files: list[str], partitions: list[int]) -> files_pb2.LiveRagObjectsResponse:
    answer = files_pb2.LiveRagObjectsResponse(file_ids=files, served_partitions=partitions)
    answer.attachments.add(store_id="vs_1", file_id=files[0])
    return answer


def test_the_rag_check_is_the_union_and_refused_when_a_partition_was_served_by_no_core() -> None:
    mine = _live(["file-a"], [0, 2])
    theirs = _live(["file-b"], [1, 3])
    merged = merge_live(mine, [theirs], 4)
    assert list(merged.file_ids) == ["file-a", "file-b"]
    assert [(p.store_id, p.file_id) for p in merged.attachments] == [("vs_1", "file-a"), ("vs_1", "file-b")]
    assert not merged.served_partitions
    with pytest.raises(RingsideError) as refused:  # partition 3 between two owners: neither served it
        merge_live(mine, [_live(["file-b"], [1])], 4)
    assert refused.value.code == "service_unavailable"
    with pytest.raises(RingsideError):  # the other core did not answer at all
        merge_live(mine, [], 4)
