"""ringside_server/jsonio.py: JSON out with exact decimals, and user data untouched (issue 13, item 7)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ringside_server.jsonio import dumps

FAST = settings(max_examples=300, deadline=None)

# Strings a marker-based encoder could mistake for its own marker, mixed with any text.
_LOOKALIKES = st.builds(
    lambda sign, digits: f"\u00a7DEC{sign}{digits}",
    st.sampled_from(["", "-"]),
    st.from_regex(r"[0-9.]{1,12}", fullmatch=True),
)
_TEXT = st.one_of(st.text(), _LOOKALIKES)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_TEXT, children, max_size=5),
    max_leaves=30,
)


@FAST
@given(_JSON)
def test_any_json_value_round_trips_unchanged(value: Any) -> None:
    assert orjson.loads(dumps(value)) == value


def test_a_string_that_looks_like_a_decimal_stays_a_string() -> None:
    assert dumps({"name": "\u00a7DEC12"}) == '{"name":"\u00a7DEC12"}'.encode()


@FAST
@given(st.decimals(allow_nan=False, allow_infinity=False, places=9, min_value=-(10**12), max_value=10**12), _TEXT)
def test_decimals_become_numbers_with_their_exact_digits(amount: Decimal, name: str) -> None:
    body = dumps({"amount": amount, "name": name})
    parsed = orjson.loads(body)
    assert parsed["name"] == name
    # Read back as a Decimal from the text itself, no binary float in between.
    number = body.split(b'"amount":', 1)[1].split(b",", 1)[0]
    assert Decimal(number.decode()) == amount
    assert b"e" not in number.lower()
