"""ringside_server/providers/catalog/load.py: the shipped price files, and what a price file may say."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from ringside_server.providers.catalog.load import (
    PRICE_CLASSES,
    CatalogModel,
    load,
    load_catalog,
    parse,
    parse_connection,
)


@pytest.fixture(scope="module")
def catalog() -> dict[str, CatalogModel]:
    return load_catalog()


def document(**entry: Any) -> dict[str, object]:
    return {"provider": "acme", "models": {"m1": {"kind": "chat", "input": "1", **entry}}}


def test_the_shipped_catalog_prices_every_class_of_every_model_as_integers(catalog: dict[str, CatalogModel]) -> None:
    assert len(catalog) > 10
    for ref, model in catalog.items():
        assert ref == model.ref == f"fc:{model.provider}/{model.name}"
        assert set(model.prices) == set(PRICE_CLASSES)
        assert all(type(price) is int and price >= 0 for price in model.prices.values()), ref
        assert model.kind in ("chat", "embedding", "moderation", "image", "speech", "transcription")
        assert bool(model.image_prices) == (model.kind == "image"), ref  # an image model is priced per image
        if model.kind == "chat":
            assert model.max_output_tokens > 0, ref


def test_openai_moderation_models_are_in_the_catalog_free(catalog: dict[str, CatalogModel]) -> None:
    for name in ("omni-moderation-latest", "text-moderation-latest"):
        model = catalog[f"fc:openai/{name}"]
        assert model.kind == "moderation"
        assert set(model.prices.values()) == {0}


def test_gpt_4o_mini_is_priced_in_nano_usd_per_million_tokens(catalog: dict[str, CatalogModel]) -> None:
    model = catalog["fc:openai/gpt-4o-mini"]
    assert model.prices["input"] == 150_000_000  # $0.15 / 1M
    assert model.prices["output"] == 600_000_000  # $0.60 / 1M
    assert model.prices["cached_input"] == 75_000_000
    assert model.prices["reasoning"] == 0  # a class the model does not have costs nothing


def test_the_built_in_test_model_is_in_the_catalog(catalog: dict[str, CatalogModel]) -> None:
    model = catalog["fc:ringside/test"]
    assert model.kind == "chat"
    assert model.max_output_tokens > 0


def test_embedding_models_are_listed_as_embeddings(catalog: dict[str, CatalogModel]) -> None:
    assert catalog["fc:openai/text-embedding-3-small"].kind == "embedding"
    assert catalog["fc:openai/text-embedding-3-small"].prices["input"] == 20_000_000


def test_parse_reads_prices_given_as_strings_numbers_and_nine_decimals() -> None:
    (model,) = parse(document(input="0.15", output=2, cached_input=0.075, audio_input="0.000000001"), "t.yaml")
    assert model.prices["input"] == 150_000_000
    assert model.prices["output"] == 2_000_000_000
    assert model.prices["cached_input"] == 75_000_000
    assert model.prices["audio_input"] == 1
    assert model.prices["image_input"] == 0
    assert model.kind == "chat"


def test_parse_defaults_kind_to_chat() -> None:
    (model,) = parse({"provider": "acme", "models": {"m1": {"input": "1"}}}, "t.yaml")
    assert model.kind == "chat"


def test_parse_rejects_unknown_fields() -> None:
    with pytest.raises(ValueError, match=r"unknown fields \['input_price'\]"):
        parse(document(input_price="1"), "t.yaml")


@pytest.mark.parametrize("price", ["-0.01", -1])
def test_parse_rejects_negative_prices(price: object) -> None:
    with pytest.raises(ValueError, match="acme/m1"):
        parse(document(output=price), "t.yaml")


@pytest.mark.parametrize("price", ["0.0000000001", "1.1234567891"])
def test_parse_rejects_more_than_nine_decimals(price: str) -> None:
    with pytest.raises(ValueError, match="at most 9 decimals"):
        parse(document(input=price), "t.yaml")


@pytest.mark.parametrize("price", ["abc", True, None, ""])
def test_parse_rejects_prices_that_are_not_numbers(price: object) -> None:
    with pytest.raises(ValueError, match="acme/m1"):
        parse(document(input=price), "t.yaml")


@pytest.mark.parametrize("price", [float("inf"), float("nan"), "Infinity"])
def test_parse_rejects_non_finite_prices_with_a_clear_error(price: object) -> None:
    with pytest.raises(ValueError, match="acme/m1"):
        parse(document(input=price), "t.yaml")


@pytest.mark.parametrize("kind", ["completion", "", 1])
def test_parse_rejects_an_unknown_kind(kind: object) -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        parse(document(kind=kind), "t.yaml")


@pytest.mark.parametrize(
    "bad",
    [{"models": {}}, {"provider": "acme"}, {"provider": "acme", "models": []}, {"provider": 1, "models": {}}],
)
def test_parse_rejects_a_document_without_provider_and_models(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="needs `provider`"):
        parse(bad, "t.yaml")


def test_parse_rejects_a_model_that_is_not_a_mapping() -> None:
    with pytest.raises(ValueError, match="must be a mapping"):
        parse({"provider": "acme", "models": {"m1": "0.15"}}, "t.yaml")


def test_load_catalog_reads_every_yaml_file_of_a_directory(tmp_path: pathlib.Path) -> None:
    (tmp_path / "a.yaml").write_text('provider: a\nmodels:\n  one: {input: "1", output: "2", max_output_tokens: 10}\n')
    (tmp_path / "b.yaml").write_text("provider: b\nmodels:\n  two: {kind: embedding, input: 0.02}\n")
    (tmp_path / "notes.txt").write_text("not a price file")
    catalog = load_catalog(tmp_path)
    assert set(catalog) == {"fc:a/one", "fc:b/two"}
    assert catalog["fc:a/one"].prices["output"] == 2_000_000_000
    assert catalog["fc:a/one"].max_output_tokens == 10
    assert catalog["fc:b/two"].prices["input"] == 20_000_000


def test_only_openai_is_relayed_responses_and_only_kind_openai_may_say_so() -> None:
    providers = load().providers
    assert {name for name, entry in providers.items() if entry.connection.responses == "native"} == {"openai"}
    assert parse_connection({"kind": "openai", "responses": "native"}, "x").responses == "native"
    for bad in ({"kind": "anthropic", "responses": "native"}, {"kind": "openai", "responses": "yes"}):
        with pytest.raises(ValueError, match="responses must be"):
            parse_connection(bad, "x")
