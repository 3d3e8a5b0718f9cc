"""ringside_server/allowed_models.py: entry forms and bounds, patterns, match: entries, dated
snapshots, and a match: ref resolved among allowed models (API.md "Governance")."""

from __future__ import annotations

import pytest

from ringside_server import allowed_models
from ringside_server.allowed_models import Policy, allows
from ringside_server.errors import RingsideError
from ringside_server.providers.catalog.load import load
from ringside_server.providers.refs import Refs

REFS = Refs.of(load())


def test_validate_keeps_entries_in_order_without_duplicates() -> None:
    given = ["fc:openai/*", "slot:cheap", "match:anthropic/sonnet>=4", "fc:openai/*"]
    assert allowed_models.validate(given) == ("fc:openai/*", "slot:cheap", "match:anthropic/sonnet>=4")
    assert allowed_models.validate(None) is None
    assert allowed_models.validate([]) == ()


@pytest.mark.parametrize(
    "bad",
    [
        "fc:openai/*",
        [None],
        ["gpt-4o"],
        ["fc:"],
        ["fc:openai/gpt 4o"],
        ["slot:"],
        ["match:openai/gpt"],
        ["match:openai/gpt>=x"],
        ["fc:a/\x00"],
        ["fc:a/" + "b" * 300],
        [f"fc:a/{n}" for n in range(101)],
    ],
)
def test_validate_refuses_what_is_not_a_bounded_list_of_entries(bad: object) -> None:
    with pytest.raises(RingsideError) as refused:
        allowed_models.validate(bad)
    assert refused.value.code == "invalid_request" and refused.value.param == "allowed_models"


def test_patterns_match_whole_refs_only() -> None:
    assert allows([("fc:openai/*",)], "fc:openai/gpt-4o", REFS)
    assert not allows([("fc:openai/*",)], "fc:anthropic/claude-sonnet-4-5", REFS)
    assert allows([("fc:anthropic/claude-sonnet-*",)], "fc:anthropic/claude-sonnet-4-5", REFS)
    assert not allows([("fc:openai/gpt-4o",)], "fc:openai/gpt-4o-mini", REFS)  # no implicit prefix
    assert not allows([("fc:openai/gpt.4o",)], "fc:openai/gpt-4o", REFS)  # a dot is a dot, not a wildcard


def test_a_match_entry_allows_every_model_its_selector_could_pick() -> None:
    entries = [("match:openai/gpt-mini>=4",)]
    assert allows(entries, "fc:openai/gpt-5-mini", REFS) and allows(entries, "fc:openai/gpt-4.1-mini", REFS)
    assert not allows(entries, "fc:openai/gpt-4o-mini", REFS)  # another family
    assert not allows([("match:openai/gpt-mini>=5",)], "fc:openai/gpt-4.1-mini", REFS)


def test_a_dated_snapshot_matches_what_its_catalog_model_matches() -> None:
    assert allows([("fc:openai/gpt-4o",)], "fc:openai/gpt-4o-2024-08-06", REFS)
    assert allows([("fc:anthropic/claude-sonnet-4-5",)], "fc:anthropic/claude-sonnet-4-5-20250929", REFS)
    assert allows([("fc:openai/gpt-4o-2024-08-06",)], "fc:openai/gpt-4o-2024-08-06", REFS)
    assert not allows([("fc:openai/gpt-4o-2024-08-06",)], "fc:openai/gpt-4o", REFS)


def test_every_list_must_allow_and_no_list_allows_everything() -> None:
    assert allows([], "fc:openai/o3", REFS)
    assert not allows([("fc:openai/*",), ("fc:openai/gpt-4o",)], "fc:openai/o3", REFS)
    assert allows([("fc:openai/*",), ("fc:openai/o3",)], "fc:openai/o3", REFS)


def test_a_match_ref_resolves_to_its_newest_allowed_candidate() -> None:
    policy = Policy((("fc:openai/gpt-4.1-mini",),))
    assert REFS.resolve("match:openai/gpt-mini>=4").name == "gpt-5-mini"
    chosen = REFS.resolve("match:openai/gpt-mini>=4", lambda model: policy.allows(model, REFS))
    assert chosen.name == "gpt-4.1-mini"
    with pytest.raises(RingsideError) as refused:
        REFS.resolve("match:openai/gpt-mini>=5", lambda model: policy.allows(model, REFS))
    assert refused.value.code == "model_not_allowed" and refused.value.status == 403
