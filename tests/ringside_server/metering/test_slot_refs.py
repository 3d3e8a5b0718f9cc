"""ringside_server/metering/slot_refs.py: a slot's refs and weights, stored in one string, and the try order."""

from __future__ import annotations

from ringside_server.metering.slot_refs import decode, encode, in_order

REFS = ["fc:openai/gpt-4o-mini", "match:anthropic/haiku>=4", "fc:ollama/qwen3:8b"]


def test_refs_and_weights_round_trip_and_a_plain_list_has_no_weights() -> None:
    assert decode(encode(REFS, [3, 0, 1])) == (REFS, [3, 0, 1])
    assert decode(encode(REFS, None)) == (REFS, None)
    assert encode(REFS[:1], None) == "fc:openai/gpt-4o-mini"


def test_the_drawn_model_goes_first_and_the_others_keep_their_order() -> None:
    stored = encode(REFS, [1, 1, 1])
    assert in_order(stored, draw=lambda weights: 2) == [REFS[2], REFS[0], REFS[1]]
    assert in_order(stored, draw=lambda weights: 0) == REFS
    assert in_order(encode(REFS, None), draw=lambda weights: 2) == REFS  # no weights: as listed


def test_a_zero_weight_is_never_drawn_first() -> None:
    stored = encode(REFS, [0, 5, 0])
    assert {in_order(stored)[0] for _ in range(50)} == {REFS[1]}
