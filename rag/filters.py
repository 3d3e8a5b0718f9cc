"""OpenAI's vector-store search `filters` on file attributes, checked and turned into a small tree
that each index implementation translates to its engine's filter.

Comparison: `{"type": "eq"|"ne"|"gt"|"gte"|"lt"|"lte"|"in"|"nin", "key": str, "value": …}`;
compound: `{"type": "and"|"or", "filters": [ … ]}` (nested).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from rag.errors import InvalidRequestError

ComparisonType = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]
Scalar = str | int | float | bool

_COMPARISONS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"})
_RANGES = frozenset({"gt", "gte", "lt", "lte"})
# Bounds on one filter, so a request cannot make the engine walk an unbounded tree.
MAX_FILTER_DEPTH = 8
MAX_FILTER_CONDITIONS = 64
MAX_IN_VALUES = 100
MAX_KEY_LENGTH = 64
PARAM = "filters"


@dataclass(frozen=True)
class Comparison:
    """`key` compared with `value` (a list of scalars for `in`/`nin`)."""

    type: ComparisonType
    key: str
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class Compound:
    """All (`and`) or any (`or`) of `filters`."""

    type: Literal["and", "or"]
    filters: tuple[Filter, ...]


Filter = Comparison | Compound


def parse_filter(raw: object) -> Filter:
    """The filter tree of an OpenAI `filters` object; raises InvalidRequestError (a 400)."""
    counter = [0]
    return _parse(raw, depth=1, counter=counter)


def _parse(raw: object, depth: int, counter: list[int]) -> Filter:
    if not isinstance(raw, Mapping):
        raise InvalidRequestError(PARAM, "each filter must be an object")
    if depth > MAX_FILTER_DEPTH:
        raise InvalidRequestError(PARAM, f"filters nest at most {MAX_FILTER_DEPTH} levels deep")
    counter[0] += 1
    if counter[0] > MAX_FILTER_CONDITIONS:
        raise InvalidRequestError(PARAM, f"filters hold at most {MAX_FILTER_CONDITIONS} conditions")
    kind = raw.get("type")
    if kind in ("and", "or"):
        children = raw.get("filters")
        if not isinstance(children, list) or not children:
            raise InvalidRequestError(PARAM, f"an '{kind}' filter needs a non-empty 'filters' list")
        return Compound(kind, tuple(_parse(child, depth + 1, counter) for child in children))
    if kind not in _COMPARISONS:
        raise InvalidRequestError(PARAM, "filter type must be one of and, or, eq, ne, gt, gte, lt, lte, in, nin")
    return _comparison(kind, raw)


def _comparison(kind: ComparisonType, raw: Mapping[str, Any]) -> Comparison:
    key = raw.get("key")
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequestError(PARAM, f"a comparison filter needs a 'key' of 1 to {MAX_KEY_LENGTH} characters")
    # The engines read keys as JSON paths: a dot or bracket would address a nested field instead.
    if any(character in key for character in '.[]"'):
        raise InvalidRequestError(PARAM, "a filter key cannot contain '.', '[', ']' or '\"'")
    value = raw.get("value")
    if kind in ("in", "nin"):
        if not isinstance(value, list) or not value or len(value) > MAX_IN_VALUES:
            raise InvalidRequestError(PARAM, f"an '{kind}' filter needs a list of 1 to {MAX_IN_VALUES} values")
        if not all(isinstance(item, str) for item in value) and not all(_is_integer(item) for item in value):
            raise InvalidRequestError(PARAM, f"an '{kind}' filter's values must be all strings or all integers")
        return Comparison(kind, key, tuple(value))
    if kind in _RANGES:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise InvalidRequestError(PARAM, f"a '{kind}' filter compares numbers: its value must be a number")
        return Comparison(kind, key, value)
    if not isinstance(value, str | int | float | bool):
        raise InvalidRequestError(PARAM, f"an '{kind}' filter's value must be a string, number or boolean")
    return Comparison(kind, key, value)


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_Built = TypeVar("_Built")


class FilterBuilder(Protocol[_Built]):
    """How one engine writes a filter; `translate` walks the tree once for every engine."""

    def all_of(self, parts: list[_Built]) -> _Built:
        """Every part holds."""

    def any_of(self, parts: list[_Built]) -> _Built:
        """At least one part holds."""

    def none_of(self, parts: list[_Built]) -> _Built:
        """No part holds (a point without the attribute passes, as with OpenAI's `ne` and `nin`)."""

    def match(self, key: str, value: str | int | bool) -> _Built:
        """The attribute equals the value."""

    def match_any(self, key: str, values: list[str] | list[int]) -> _Built:
        """The attribute equals one of the values."""

    def range(self, key: str, bounds: dict[str, float]) -> _Built:
        """The attribute is a number within the bounds (keys among gt, gte, lt, lte)."""


def translate(tree: Filter, builder: FilterBuilder[_Built]) -> _Built:
    """An engine's filter for the tree; keys are the attribute names as the customer wrote them."""
    if isinstance(tree, Compound):
        parts = [translate(child, builder) for child in tree.filters]
        return builder.all_of(parts) if tree.type == "and" else builder.any_of(parts)
    value = tree.value
    if isinstance(value, tuple):
        matched = builder.match_any(tree.key, list(value))  # type: ignore[arg-type]
        return matched if tree.type == "in" else builder.none_of([matched])
    if tree.type in _RANGES:
        return builder.range(tree.key, {tree.type: float(value)})
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A number equals a number of the same value whether stored as 3 or 3.0 (JSON does not tell
        # them apart, and the engines' match compares types): an exact range says what is meant.
        equal = builder.range(tree.key, {"gte": float(value), "lte": float(value)})
    else:
        equal = builder.match(tree.key, value)
    return equal if tree.type == "eq" else builder.none_of([equal])
