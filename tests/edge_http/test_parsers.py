"""Hypothesis fuzzing of the edge's body parser and money parsers (issue 15, item 8): any input is a
value within its bounds or a 400 RingsideError — never another exception (which would be a 500)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_http.handlers.common import MAX_BUDGET_NANO, MAX_OPERATION_NANO, amount_usd, budget_nano, count, markup_bp
from edge_http.openai.jsonio import parse_model_body, parse_object
from ringside_server.errors import RingsideError

FAST = settings(max_examples=300, deadline=None)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)  # orjson reads larger ones as floats
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
numberish = (
    st.integers()
    | st.floats()
    | st.decimals(allow_nan=True).map(str)
    | st.sampled_from(["1e999999999", "-1e999999999", "sNaN", "NaN", "Infinity", "-0", "٣", "²", "1_000", " 1 "])
    | st.text(max_size=70)
    | json_values
)


def refused(error: RingsideError) -> None:
    assert error.status == 400, error


@FAST
@given(raw=st.binary(max_size=200) | json_values.map(lambda value: json.dumps(value).encode()))
def test_the_body_parser_answers_any_bytes_with_an_object_or_a_400(raw: bytes) -> None:
    try:
        body = parse_object(raw)
    except RingsideError as error:
        refused(error)
        return
    assert isinstance(body, dict)
    assert "\x00" not in json.dumps(body, ensure_ascii=False)


@FAST
@given(value=json_values, nul_at=st.integers(min_value=0, max_value=3))
def test_a_nul_anywhere_in_a_ringside_body_is_refused_but_relayed_in_a_model_body(value: Any, nul_at: int) -> None:
    body = {"a": [value, {"deep": "x" * nul_at + "\x00"}]}
    raw = json.dumps(body).encode()
    assert parse_model_body(raw) == body
    try:
        parse_object(raw)
    except RingsideError as error:
        refused(error)
    else:
        raise AssertionError("a NUL was accepted in a stored text field")


def test_the_body_parser_refuses_deep_nesting_without_a_recursion_error() -> None:
    for depth in (1000, 1100, 100_000):
        try:
            parse_object(b'{"a":' + b"[" * depth + b"]" * depth + b"}")
        except RingsideError as error:
            refused(error)


@FAST
@given(value=numberish)
def test_amounts_are_within_one_wallet_operation_or_a_400(value: Any) -> None:
    try:
        nano = amount_usd({"amount_usd": value})
    except RingsideError as error:
        refused(error)
        assert error.param == "amount_usd"
        return
    assert abs(nano) <= MAX_OPERATION_NANO


@FAST
@given(value=numberish)
def test_budgets_are_between_0_and_1e9_usd_or_a_400(value: Any) -> None:
    try:
        nano = budget_nano(value, "budget_usd")
    except RingsideError as error:
        refused(error)
        return
    assert 0 <= nano <= MAX_BUDGET_NANO


@FAST
@given(value=numberish)
def test_markups_are_between_0_and_1000_pct_in_basis_points_or_a_400(value: Any) -> None:
    try:
        bp = markup_bp(value)
    except RingsideError as error:
        refused(error)
        return
    assert 0 <= bp <= 100_000


@FAST
@given(value=numberish)
def test_counts_are_between_0_and_1e9_or_a_400(value: Any) -> None:
    try:
        parsed = count({"n": value}, "n")
    except RingsideError as error:
        refused(error)
        return
    assert parsed is None or 0 <= parsed <= 10**9
