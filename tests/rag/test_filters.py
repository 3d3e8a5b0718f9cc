"""OpenAI's attribute filters are checked before any engine sees them: a bad one is a 400 naming `filters`."""

from __future__ import annotations

from typing import Any

import pytest

from rag.errors import InvalidRequestError
from rag.filters import MAX_FILTER_CONDITIONS, MAX_FILTER_DEPTH, Comparison, Compound, parse_filter


def test_comparison_and_compound_filters_parse() -> None:
    raw = {
        "type": "and",
        "filters": [
            {"type": "eq", "key": "author", "value": "ada"},
            {
                "type": "or",
                "filters": [
                    {"type": "gte", "key": "year", "value": 2020},
                    {"type": "in", "key": "tag", "value": ["a", "b"]},
                ],
            },
        ],
    }
    assert parse_filter(raw) == Compound(
        "and",
        (
            Comparison("eq", "author", "ada"),
            Compound("or", (Comparison("gte", "year", 2020), Comparison("in", "tag", ("a", "b")))),
        ),
    )


def nested(depth: int) -> dict[str, Any]:
    tree: dict[str, Any] = {"type": "eq", "key": "k", "value": 1}
    for _ in range(depth - 1):
        tree = {"type": "and", "filters": [tree]}
    return tree


@pytest.mark.parametrize(
    "raw",
    [
        "author = ada",
        {"type": "like", "key": "author", "value": "a%"},
        {"type": "eq", "value": "ada"},
        {"type": "eq", "key": "", "value": "ada"},
        {"type": "eq", "key": "k" * 65, "value": "ada"},
        {"type": "eq", "key": "nested.field", "value": "ada"},
        {"type": "eq", "key": "author", "value": None},
        {"type": "eq", "key": "author", "value": {"a": 1}},
        {"type": "gt", "key": "year", "value": "2020"},
        {"type": "lt", "key": "year", "value": True},
        {"type": "in", "key": "tag", "value": []},
        {"type": "in", "key": "tag", "value": ["a", 1]},
        {"type": "nin", "key": "tag", "value": "a"},
        {"type": "and", "filters": []},
        {"type": "or"},
        nested(MAX_FILTER_DEPTH + 1),
        {"type": "or", "filters": [{"type": "eq", "key": "k", "value": n} for n in range(MAX_FILTER_CONDITIONS)]},
    ],
)
def test_a_malformed_filter_is_a_400_on_filters(raw: object) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        parse_filter(raw)
    assert raised.value.param == "filters"


def test_the_bounds_themselves_are_allowed() -> None:
    parse_filter(nested(MAX_FILTER_DEPTH))
    parse_filter(
        {"type": "or", "filters": [{"type": "eq", "key": "k", "value": n} for n in range(MAX_FILTER_CONDITIONS - 1)]}
    )
