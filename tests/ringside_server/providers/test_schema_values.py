"""ringside_server/providers/schema_values.py: values made from a schema validate against it."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ringside_server.providers.schema_values import value_for

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"city": {"type": "string", "minLength": 12}}, "required": ["city"]},
    {"type": "array", "items": {"type": "integer", "minimum": 5, "maximum": 9}, "minItems": 3, "maxItems": 3},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    {"type": "integer", "multipleOf": 7, "minimum": 10},
    {"enum": ["a", "b", 3]},
    {"type": ["string", "null"], "format": "date-time", "maxLength": 40},
    {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"x": {"const": 1}}, "required": ["x"]}]},
    {"allOf": [{"properties": {"a": {"type": "boolean"}}, "required": ["a"]}, {"required": ["b"]}]},
    {
        "$defs": {"node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}}}},
        "$ref": "#/$defs/node",
    },
]


@pytest.mark.parametrize("schema", SCHEMAS)
@pytest.mark.parametrize("seed", [0, 1, 99])
def test_the_value_validates_against_its_schema(schema: dict[str, Any], seed: int) -> None:
    Draft202012Validator(schema).validate(value_for(schema, seed))


def test_the_same_seed_gives_the_same_value_and_another_seed_another() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "w": {"type": "string"}}}
    assert value_for(schema, 3) == value_for(schema, 3)
    assert len({repr(value_for(schema, seed)) for seed in range(5)}) > 1


def test_a_schema_asking_for_too_much_gets_a_bounded_answer() -> None:
    huge = {"type": "array", "minItems": 10**9, "items": {"type": "array", "minItems": 10**9}}
    assert len(repr(value_for(huge))) < 1_000_000


@pytest.mark.parametrize(
    "schema",
    [
        {"allOf": [{"properties": 5}]},
        {"type": "object", "properties": {"a": {"$ref": "#/nowhere/at/all"}}, "required": "a"},
        {"type": "integer", "minimum": "3"},
        {"anyOf": "x"},
    ],
)
def test_a_schema_it_cannot_read_never_raises(schema: dict[str, Any]) -> None:
    value_for(schema)
