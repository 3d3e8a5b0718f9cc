"""`Model` builders give the documented ref strings, and refuse what the server would refuse."""

from __future__ import annotations

import pytest

from ringside import Model


def test_builders_give_plain_ref_strings() -> None:
    assert Model.fc("openai", "gpt-4o-mini") == "fc:openai/gpt-4o-mini"
    assert Model.fc("ollama", "llama3:8b") == "fc:ollama/llama3:8b"
    assert Model.slot("chat-default") == "slot:chat-default"
    ref = Model.match("anthropic", "sonnet").min_version(4).build()
    assert ref == "match:anthropic/sonnet>=4" and type(ref) is str
    assert Model.match("openai", "gpt").build() == "match:openai/gpt>=0"


@pytest.mark.parametrize(
    "build",
    [
        lambda: Model.fc("OpenAI", "gpt-4o"),
        lambda: Model.fc("openai", ""),
        lambda: Model.fc("openai", "gpt 4o"),
        lambda: Model.fc("open/ai", "gpt-4o"),
        lambda: Model.slot("a:b"),
        lambda: Model.slot(""),
        lambda: Model.slot("x" * 101),
        lambda: Model.match("anthropic", "son net"),
        lambda: Model.match("anthropic", "sonnet").min_version(-1),
        lambda: Model.match("anthropic", "sonnet").min_version(10_000),
        lambda: Model.fc("openai", "m" * 300),
    ],
)
def test_invalid_refs_fail_where_they_are_built(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]
