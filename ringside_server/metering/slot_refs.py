"""A slot's stored form: its refs in order, comma-separated, each with an optional `*<weight>`
(`fc:openai/gpt-4o-mini*3,match:anthropic/haiku>=4*1`). With weights, a call's first model is drawn
by weight (weight 0: only ever a fallback) and the others follow in the slot's order."""

from __future__ import annotations

import random
from collections.abc import Callable

MAX_WEIGHT = 1000


def encode(refs: list[str], weights: list[int] | None) -> str:
    if weights is None:
        return ",".join(refs)
    return ",".join(f"{ref}*{weight}" for ref, weight in zip(refs, weights, strict=True))


def decode(stored: str) -> tuple[list[str], list[int] | None]:
    """(refs, weights or None)."""
    refs, weights = [], []
    for entry in stored.split(","):
        ref, star, weight = entry.rpartition("*") if "*" in entry else (entry, "", "")
        refs.append(ref)
        weights.append(int(weight) if star and weight.isdigit() else 1)
    return refs, (weights if "*" in stored else None)


def in_order(stored: str, draw: Callable[[list[int]], int] | None = None) -> list[str]:
    """The refs in the order a call tries them."""
    refs, weights = decode(stored)
    if weights is None or len(refs) < 2 or not any(weights):
        return refs
    first = (draw or _draw)(weights)
    return [refs[first], *refs[:first], *refs[first + 1 :]]


def _draw(weights: list[int]) -> int:
    return random.choices(range(len(weights)), weights=weights)[0]
