"""Loads and validates the YAML price files into `CatalogModel`s."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import yaml

PRICE_CLASSES = (
    "input",
    "cached_input",
    "cache_write",
    "output",
    "reasoning",
    "audio_input",
    "audio_output",
    "image_input",
)
KINDS = ("chat", "embedding")
CATALOG_DIR = pathlib.Path(__file__).resolve().parent
NANO_PER_USD = Decimal(1_000_000_000)


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """One priced model. Prices are nano-USD per 1M tokens."""

    provider: str
    name: str
    kind: str
    prices: dict[str, int]
    max_output_tokens: int
    max_image_tokens: int

    @property
    def ref(self) -> str:
        return f"fc:{self.provider}/{self.name}"


def _nano_per_mtok(usd: object, where: str) -> int:
    try:
        value = Decimal(str(usd))
    except InvalidOperation:
        raise ValueError(f"{where}: price {usd!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{where}: price {usd!r} must be a finite number")
    nano = value * NANO_PER_USD
    if value < 0 or nano != nano.to_integral_value():
        raise ValueError(f"{where}: price {usd!r} must be ≥ 0 with at most 9 decimals")
    return int(nano)


def parse(document: dict[str, object], source: str) -> list[CatalogModel]:
    provider = document.get("provider")
    models = document.get("models")
    if not isinstance(provider, str) or not isinstance(models, dict):
        raise ValueError(f"{source}: needs `provider` and a `models` mapping")
    parsed = []
    for name, entry in models.items():
        where = f"{source}: {provider}/{name}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a mapping")
        unknown = set(entry) - {*PRICE_CLASSES, "kind", "max_output_tokens", "max_image_tokens"}
        if unknown:
            raise ValueError(f"{where}: unknown fields {sorted(unknown)}")
        kind = entry.get("kind", "chat")
        if kind not in KINDS:
            raise ValueError(f"{where}: kind must be one of {KINDS}")
        prices = {cls: _nano_per_mtok(entry.get(cls, 0), where) for cls in PRICE_CLASSES}
        limits = [entry.get(name, 0) for name in ("max_output_tokens", "max_image_tokens")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in limits):
            raise ValueError(f"{where}: max_output_tokens and max_image_tokens must be integers ≥ 0")
        parsed.append(
            CatalogModel(
                provider,
                str(name),
                kind,
                prices,
                int(entry.get("max_output_tokens", 0)),
                int(entry.get("max_image_tokens", 0)),
            )
        )
    return parsed


def load_catalog(directory: pathlib.Path = CATALOG_DIR) -> dict[str, CatalogModel]:
    """Every model of every YAML file in `directory`, by ref (`fc:openai/gpt-4o-mini`)."""
    catalog: dict[str, CatalogModel] = {}
    for path in sorted(directory.glob("*.yaml")):
        for model in parse(yaml.safe_load(path.read_text()), path.name):
            catalog[model.ref] = model
    return catalog
