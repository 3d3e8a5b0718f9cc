"""core/services/pages.py: the OpenAI-style page (`after`/`before`) that vector stores, their files,
migrations, files and batches list by."""

from __future__ import annotations

import pytest

from core.services.pages import cursor_page
from ringside_server.errors import RingsideError

IDS = ["vs_5", "vs_4", "vs_3", "vs_2", "vs_1"]  # in the order asked (here newest first)


def test_a_page_after_a_cursor_starts_past_it_and_says_whether_more_follow() -> None:
    assert cursor_page(IDS, str, 2, "", "", "vector store") == (["vs_5", "vs_4"], True)
    assert cursor_page(IDS, str, 2, "vs_4", "", "vector store") == (["vs_3", "vs_2"], True)
    assert cursor_page(IDS, str, 2, "vs_2", "", "vector store") == (["vs_1"], False)


def test_a_page_before_a_cursor_is_the_nearest_items_ahead_of_it() -> None:
    assert cursor_page(IDS, str, 2, "", "vs_2", "vector store") == (["vs_4", "vs_3"], True)
    assert cursor_page(IDS, str, 2, "", "vs_4", "vector store") == (["vs_5"], False)


@pytest.mark.parametrize(("after", "before", "param"), [("vs_9", "", "after"), ("", "vs_9", "before")])
def test_a_cursor_naming_no_item_is_refused_under_its_own_parameter(after: str, before: str, param: str) -> None:
    with pytest.raises(RingsideError) as refused:
        cursor_page(IDS, str, 2, after, before, "vector store")
    assert (refused.value.code, refused.value.param) == ("invalid_request", param)
    assert "No such vector store: 'vs_9'" in str(refused.value)
