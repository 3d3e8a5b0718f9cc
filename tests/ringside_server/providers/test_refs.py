"""ringside_server/providers/refs.py: fc: and match: refs against the catalog, and the operator's file."""

from __future__ import annotations

import pathlib

import pytest

from ringside_server.errors import RingsideError
from ringside_server.providers.catalog.load import load
from ringside_server.providers.refs import Refs

SHIPPED = load()


def refs(operator_file: pathlib.Path | None = None) -> Refs:
    return Refs.of(load(operator_file=operator_file))


def test_match_picks_the_newest_model_of_the_family_at_or_above_the_major() -> None:
    shipped = Refs.of(SHIPPED)
    newest_sonnet = shipped.resolve("match:anthropic/sonnet>=4")
    assert newest_sonnet.family == "sonnet"
    assert all(m.version <= newest_sonnet.version for m in SHIPPED.models.values() if m.family == "sonnet"), (
        "not the newest sonnet"
    )
    assert shipped.resolve("match:openai/gpt>=4").ref == "fc:openai/gpt-5"
    assert shipped.resolve("match:openai/gpt-mini>=4").ref == "fc:openai/gpt-5-mini"


def test_match_rolls_forward_when_the_catalog_gains_a_newer_version(tmp_path: pathlib.Path) -> None:
    before = refs().resolve("match:anthropic/sonnet>=4")
    file = tmp_path / "providers.yaml"
    file.write_text(
        "providers:\n"
        "  - id: anthropic\n"
        "    models:\n"
        '      claude-sonnet-9: {family: sonnet, version: "9.1", input: "3", output: "15", max_output_tokens: 64000}\n'
    )
    after = refs(file).resolve("match:anthropic/sonnet>=4")
    assert before.name != "claude-sonnet-9"
    assert after.ref == "fc:anthropic/claude-sonnet-9"
    assert after.prices["input"] == 3_000_000_000
    # the shipped provider keeps its connection; the older versions are still there by fc:
    assert refs(file).resolve(before.ref) == before


def test_match_below_no_model_names_what_the_family_has() -> None:
    with pytest.raises(RingsideError) as error:
        Refs.of(SHIPPED).resolve("match:anthropic/sonnet>=99")
    assert error.value.code == "invalid_model_ref"
    assert "claude-sonnet" in error.value.message


@pytest.mark.parametrize(
    "ref",
    [
        "gpt-4o",
        "openai/gpt-4o",
        "match:anthropic/sonnet",
        "match:anthropic/sonnet>4",
        "match:Anthropic/x>=1",
        "x" * 400,
    ],
)
def test_anything_else_is_invalid_model_ref_naming_the_valid_forms(ref: str) -> None:
    with pytest.raises(RingsideError) as error:
        Refs.of(SHIPPED).resolve(ref)
    assert error.value.code == "invalid_model_ref" and error.value.status == 400
    for form in ("fc:<provider>/<model>", "slot:<name>", "match:<provider>/<family>>=<major>"):
        assert form in error.value.message


def test_an_unknown_fc_model_is_invalid_unless_its_provider_allows_unlisted_models() -> None:
    shipped = Refs.of(SHIPPED)
    with pytest.raises(RingsideError, match="not a model this installation knows"):
        shipped.resolve("fc:openai/gpt-nope")
    local = shipped.resolve("fc:ollama/some-model:7b")
    assert local.ref == "fc:ollama/some-model:7b"
    assert local.prices["input"] == 0 and local.max_output_tokens > 0


def test_the_operator_file_adds_a_provider_with_its_own_prices_and_unlisted_policy(tmp_path: pathlib.Path) -> None:
    file = tmp_path / "providers.yaml"
    file.write_text(
        "providers:\n"
        "  - id: my-vllm\n"
        "    kind: openai\n"
        "    base_url: http://10.0.0.5:8000/v1\n"
        "    key_env: MY_VLLM_KEY\n"
        '    unlisted: {input: "0.01", output: "0.02", max_output_tokens: 2048}\n'
        "    models:\n"
        '      llama-70b: {family: llama, version: "3.3", input: "0.5", output: "0.75", max_output_tokens: 4096}\n'
    )
    catalog = load(operator_file=file)
    entry = catalog.providers["my-vllm"]
    assert (entry.connection.kind, entry.connection.base_url, entry.connection.key_env) == (
        "openai",
        "http://10.0.0.5:8000/v1",
        "MY_VLLM_KEY",
    )
    resolved = Refs.of(catalog)
    assert resolved.resolve("match:my-vllm/llama>=3").prices["output"] == 750_000_000
    assert resolved.resolve("fc:my-vllm/other").prices["input"] == 10_000_000


def test_a_providers_file_entry_turns_on_its_batch_api_keeping_the_shipped_connection(tmp_path: pathlib.Path) -> None:
    file = tmp_path / "providers.yaml"
    file.write_text("providers:\n  - id: openai\n    batch_api: openai\n    batch_discount_pct: 50\n")
    connection = load(operator_file=file).providers["openai"].connection
    assert (connection.batch_api, connection.batch_discount_pct, connection.key_env) == ("openai", 50, "OPENAI_API_KEY")
    assert load().providers["openai"].connection.batch_api == ""  # off by default


@pytest.mark.parametrize(
    "text",
    [
        "providers: {}\n",
        "providers:\n  - kind: openai\n",
        "providers:\n  - id: x\n    kind: smtp\n    base_url: http://a\n",
        "providers:\n  - id: x\n    kind: openai\n    models: {m: {input: '-1'}}\n",
        "providers:\n  - id: openai\n    batch_api: anthropic\n",
        "providers:\n  - id: openai\n    batch_api: openai\n    batch_discount_pct: 100\n",
        "providers:\n  - id: openai\n    batch_discount_pct: '50'\n",
    ],
)
def test_a_bad_operator_file_stops_the_start_with_a_clear_error(tmp_path: pathlib.Path, text: str) -> None:
    file = tmp_path / "providers.yaml"
    file.write_text(text)
    with pytest.raises(ValueError):
        load(operator_file=file)


@pytest.mark.parametrize(
    ("dated", "base"),
    [
        ("fc:openai/gpt-4o-2024-08-06", "fc:openai/gpt-4o"),
        ("fc:anthropic/claude-sonnet-4-5-20250929", "fc:anthropic/claude-sonnet-4-5"),
    ],
)
def test_a_dated_snapshot_is_priced_as_its_catalog_model_and_named_as_given(dated: str, base: str) -> None:
    shipped = Refs.of(SHIPPED)
    model = shipped.resolve(dated)
    assert model.ref == dated
    assert model.prices == shipped.resolve(base).prices
    with pytest.raises(RingsideError):
        shipped.resolve("fc:openai/gpt-nonexistent-2024-08-06")
