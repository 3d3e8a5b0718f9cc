"""A value that satisfies a JSON schema, made from the schema itself: the test model's tool-call
arguments and structured outputs. Covers what function parameters and OpenAI's structured outputs
use (types, properties/required, enum/const, items, string formats and lengths, numeric bounds,
anyOf/oneOf/allOf, local `$ref`s into `$defs`/`definitions`); the same schema and seed always
give the same value."""

from __future__ import annotations

import random
from typing import Any

MAX_DEPTH = 12  # a recursive schema (`$ref` to itself) stops here with its smallest value
MAX_NODES = 10_000  # a schema asking for more (huge minItems, deep nesting) gets a smaller, invalid value
MAX_STRING = 10_000
FORMATS = {
    "date-time": "2025-01-01T00:00:00Z",
    "date": "2025-01-01",
    "time": "00:00:00Z",
    "duration": "P1D",
    "email": "test@example.com",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.com/",
}
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot")


def value_for(schema: Any, seed: int = 0) -> Any:
    """A value valid against `schema` (a dict; `True`/absent accepts anything). A schema this cannot
    read (`properties` that is not an object, …) gets `{}`: the caller's schema never crashes it."""
    try:
        return _Maker(schema if isinstance(schema, dict) else {}, seed).make(schema, 0)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError, RecursionError):
        return {}


def _field(schema: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    """`schema[name]` when it is of `kind`, else `default` (a schema is the caller's, never trusted)."""
    value = schema.get(name)
    return value if isinstance(value, kind) and not isinstance(value, bool) else default


class _Maker:
    def __init__(self, root: dict[str, Any], seed: int) -> None:
        self.root = root
        self.random = random.Random(seed)
        self.nodes = 0

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return schema
        node: Any = self.root
        for part in ref.lstrip("#").strip("/").split("/"):
            if not part:
                continue
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
        return {**(node if isinstance(node, dict) else {}), **{k: v for k, v in schema.items() if k != "$ref"}}

    def make(self, schema: Any, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > 4 * MAX_DEPTH:  # bounded, whatever the caller's schema
            return None
        if not isinstance(schema, dict):
            return "test" if schema is not False else None
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][self.random.randrange(len(schema["enum"]))]
        for combinator in ("anyOf", "oneOf"):
            options = schema.get(combinator)
            if isinstance(options, list) and options:
                # the first non-null branch: a nullable field still gets a real value
                chosen = next((o for o in options if not (isinstance(o, dict) and o.get("type") == "null")), options[0])
                return self.make({**{k: v for k, v in schema.items() if k != combinator}, **chosen}, depth + 1)
        if isinstance(schema.get("allOf"), list):
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                part = self._resolve(part) if isinstance(part, dict) else {}
                merged = {
                    **merged,
                    **part,
                    "properties": {**merged.get("properties", {}), **part.get("properties", {})},
                }
                merged["required"] = [*merged.get("required", []), *part.get("required", [])]
            return self.make(merged, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        return self._typed(str(kind), schema, depth)

    def _typed(self, kind: str, schema: dict[str, Any], depth: int) -> Any:
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, depth)
        if kind in ("integer", "number"):
            return self._number(kind, schema)
        if kind == "boolean":
            return self.random.random() < 0.5
        if kind == "null":
            return None
        return self._string(schema)

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties: dict[str, Any] = _field(schema, "properties", dict, {})
        required = [name for name in schema.get("required") or [] if isinstance(name, str)]
        # past the depth bound only what is required (a recursive schema ends)
        names = required if depth >= MAX_DEPTH else list(dict.fromkeys([*required, *properties]))
        return {name: self.make(properties.get(name, {}), depth + 1) for name in names}

    def _array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        low: int = _field(schema, "minItems", int, 0)
        high: int = _field(schema, "maxItems", int, max(low, 2))
        count = min(low if depth >= MAX_DEPTH else min(max(low, 1), high), MAX_NODES)
        prefix: list[Any] = _field(schema, "prefixItems", list, [])
        items = [self.make(prefix[i] if i < len(prefix) else schema.get("items", {}), depth + 1) for i in range(count)]
        if schema.get("uniqueItems") and len({repr(item) for item in items}) < len(items):
            items = items[:1]  # fewer items than minItems cannot be avoided for a one-value enum
        return items

    def _number(self, kind: str, schema: dict[str, Any]) -> int | float:
        low, high = schema.get("minimum"), schema.get("maximum")
        low_exclusive, high_exclusive = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        lower = low if isinstance(low, int | float) else None
        upper = high if isinstance(high, int | float) else None
        if isinstance(low_exclusive, int | float):
            lower = low_exclusive + (1 if kind == "integer" else 1e-9)
        if isinstance(high_exclusive, int | float):
            upper = high_exclusive - (1 if kind == "integer" else 1e-9)
        start = lower if lower is not None else (upper - 10 if upper is not None else 0)
        end = upper if upper is not None else start + 10
        if kind == "integer":
            start_int, end_int = int(-(-start // 1)), int(end // 1)
            value: int | float = self.random.randint(start_int, max(start_int, end_int))
        else:
            value = round(self.random.uniform(start, end), 3)
            value = min(max(value, start), end)
        step = schema.get("multipleOf")
        if isinstance(step, int | float) and step > 0:
            value = -(-start // step) * step
            value = int(value) if kind == "integer" else value
        return value

    def _string(self, schema: dict[str, Any]) -> str:
        text = FORMATS.get(str(schema.get("format", "")), "") or WORDS[self.random.randrange(len(WORDS))]
        low: int = _field(schema, "minLength", int, 0)
        high: int | None = _field(schema, "maxLength", int, None)
        text += "x" * max(0, min(low, MAX_STRING) - len(text))
        return text[:high] if high is not None else text
