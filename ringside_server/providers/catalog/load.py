"""Loads and validates the YAML catalog: priced models (`CatalogModel`) and how to reach each
provider (`ProviderEntry`). One file per provider ships here; `RINGSIDE_PROVIDERS_FILE` adds or
overrides providers and models without a release (same schema, see `parse_providers_file`)."""

from __future__ import annotations

import pathlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args

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
ModelKind = Literal["chat", "embedding", "moderation", "image", "speech", "transcription"]
ConnectionKind = Literal["openai", "azure", "anthropic", "gemini", "cohere", "bedrock", "test", "local"]
KINDS: tuple[ModelKind, ...] = get_args(ModelKind)
CAPABILITIES = ("tools", "vision", "json", "reasoning")
CONNECTION_KINDS: tuple[ConnectionKind, ...] = get_args(ConnectionKind)
MODEL_FIELDS = {
    *PRICE_CLASSES,
    "kind",
    "max_output_tokens",
    "max_image_tokens",
    "family",
    "version",
    "context_window",
    "capabilities",
    "deprecated",
    "source",
    "dimensions",
    "image_prices",
}
CONNECTION_FIELDS = {
    "kind",
    "base_url",
    "key_env",
    "base_url_env",
    "base_url_path",
    "api_version",
    "api_version_env",
    "deployments",
    "responses",
    "batch_api",
    "batch_discount_pct",
}
# How a provider serves POST /v1/responses: "" (Ringside translates it to chat completions) or
# "native" (the provider speaks OpenAI's Responses API itself: the request is relayed; kinds openai
# and azure — Azure's v1 route, `/openai/v1/responses`, with the deployment as the model).
RESPONSES_SUPPORT = ("", "native")
# A provider's batch API a batch may be forwarded to (API.md "Batch money"; default: none).
BATCH_APIS = ("openai",)
CATALOG_DIR = pathlib.Path(__file__).resolve().parent
NANO_PER_USD = Decimal(1_000_000_000)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_VERSION = re.compile(r"^\d{1,4}(\.\d{1,4}){0,3}$")
MAX_MODELS_PER_PROVIDER = 10_000


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """One priced model. Prices are nano-USD per 1M tokens."""

    provider: str
    name: str
    kind: ModelKind
    prices: dict[str, int]
    max_output_tokens: int
    max_image_tokens: int
    family: str = ""
    version: tuple[int, ...] = ()
    context_window: int = 0
    capabilities: tuple[str, ...] = ()
    deprecated: str = ""
    dimensions: int = 0  # an embedding model's vector length (its default when `dimensions` is not asked)
    # image models: USD nano per image by "<quality>/<size>" (images/pricing.py reads them)
    image_prices: Mapping[str, int] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"fc:{self.provider}/{self.name}"


@dataclass(frozen=True, slots=True)
class Connection:
    """How to reach a provider. Credentials are named (environment variables), never stored here."""

    kind: ConnectionKind
    base_url: str = ""
    key_env: str = ""
    base_url_env: str = ""
    base_url_path: str = ""
    api_version: str = ""
    api_version_env: str = ""
    deployments: Mapping[str, str] = field(default_factory=dict)
    responses: str = ""  # RESPONSES_SUPPORT
    batch_api: str = ""  # "openai": batches of this provider's models are forwarded to its batch API
    batch_discount_pct: int = 0  # the batch API's discount on the catalog's prices (OpenAI's: 50)


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    id: str
    connection: Connection
    # A model of this provider that is not listed is callable at this price (local servers).
    unlisted: CatalogModel | None = None


@dataclass(slots=True)
class Catalog:
    models: dict[str, CatalogModel] = field(default_factory=dict)
    providers: dict[str, ProviderEntry] = field(default_factory=dict)


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


def _count(entry: Mapping[str, Any], name: str, where: str) -> int:
    value = entry.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**9:
        raise ValueError(f"{where}: {name} must be an integer 0..1e9")
    return value


def parse_model(provider: str, name: str, entry: object, where: str) -> CatalogModel:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: must be a mapping")
    unknown = set(entry) - MODEL_FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown fields {sorted(unknown)}")
    kind = entry.get("kind", "chat")
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {KINDS}")
    version = str(entry.get("version", ""))
    if version and not _VERSION.match(version):
        raise ValueError(f"{where}: version must look like 4 or 4.5")
    family = entry.get("family", "")
    if not isinstance(family, str) or (family and not _NAME.match(family)):
        raise ValueError(f"{where}: family must be a lowercase name")
    capabilities = entry.get("capabilities", [])
    if not isinstance(capabilities, list) or not set(capabilities) <= set(CAPABILITIES):
        raise ValueError(f"{where}: capabilities must be a list of {CAPABILITIES}")
    return CatalogModel(
        provider,
        name,
        kind,
        {cls: _nano_per_mtok(entry.get(cls, 0), where) for cls in PRICE_CLASSES},
        _count(entry, "max_output_tokens", where),
        _count(entry, "max_image_tokens", where),
        family=family,
        version=tuple(int(part) for part in version.split(".")) if version else (),
        context_window=_count(entry, "context_window", where),
        capabilities=tuple(c for c in CAPABILITIES if c in capabilities),
        deprecated=str(entry.get("deprecated", "")),
        dimensions=_count(entry, "dimensions", where),
        image_prices=_image_prices(entry.get("image_prices", {}), where),
    )


def _image_prices(prices: object, where: str) -> dict[str, int]:
    """`{"<quality>/<size>": USD per image}` → nano-USD per image."""
    if not isinstance(prices, dict) or len(prices) > 100:
        raise ValueError(f"{where}: image_prices must map at most 100 quality/size keys to prices")
    return {str(key): _nano_per_mtok(usd, f"{where} image_prices[{key}]") for key, usd in prices.items()}


def parse(document: dict[str, object], source: str) -> list[CatalogModel]:
    provider = document.get("provider")
    models = document.get("models")
    if not isinstance(provider, str) or not isinstance(models, dict):
        raise ValueError(f"{source}: needs `provider` and a `models` mapping")
    if len(models) > MAX_MODELS_PER_PROVIDER:
        raise ValueError(f"{source}: at most {MAX_MODELS_PER_PROVIDER} models per provider")
    return [parse_model(provider, str(name), entry, f"{source}: {provider}/{name}") for name, entry in models.items()]


def parse_connection(entry: object, where: str) -> Connection:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: connection must be a mapping")
    unknown = set(entry) - CONNECTION_FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown connection fields {sorted(unknown)}")
    if entry.get("kind") not in CONNECTION_KINDS:
        raise ValueError(f"{where}: connection kind must be one of {CONNECTION_KINDS}")
    deployments = entry.get("deployments", {})
    if not isinstance(deployments, dict) or not all(isinstance(v, str) for v in deployments.values()):
        raise ValueError(f"{where}: deployments must map model names to deployment names")
    values = {name: entry.get(name, "") for name in CONNECTION_FIELDS - {"deployments", "batch_discount_pct"}}
    if not all(isinstance(value, str) for value in values.values()):
        raise ValueError(f"{where}: connection fields must be strings")
    if values["responses"] not in RESPONSES_SUPPORT or (
        values["responses"] and entry["kind"] not in ("openai", "azure")
    ):
        raise ValueError(f"{where}: responses must be 'native' (kinds openai and azure only) or left out")
    if values["batch_api"] not in ("", *BATCH_APIS):
        raise ValueError(f"{where}: batch_api must be one of {BATCH_APIS}")
    discount = entry.get("batch_discount_pct", 0)
    if not isinstance(discount, int) or isinstance(discount, bool) or not 0 <= discount < 100:
        raise ValueError(f"{where}: batch_discount_pct must be an integer from 0 to 99")
    return Connection(**values, deployments={str(k): v for k, v in deployments.items()}, batch_discount_pct=discount)


def parse_provider(document: dict[str, Any], source: str) -> tuple[ProviderEntry | None, list[CatalogModel]]:
    """One provider document: `provider`, optional `connection` and `unlisted`, `models`."""
    models = parse({**document, "models": document.get("models") or {}}, source)
    provider = str(document["provider"])
    if not _NAME.match(provider):
        raise ValueError(f"{source}: provider id must be a lowercase name (a-z, 0-9, _ . -)")
    if "connection" not in document:
        return None, models
    unlisted = document.get("unlisted")
    template = parse_model(provider, "", unlisted, f"{source}: {provider} unlisted") if unlisted else None
    return ProviderEntry(provider, parse_connection(document["connection"], source), template), models


def load_catalog(directory: pathlib.Path = CATALOG_DIR) -> dict[str, CatalogModel]:
    """Every model of every YAML file in `directory`, by ref (`fc:openai/gpt-4o-mini`)."""
    return load(directory).models


def load(directory: pathlib.Path = CATALOG_DIR, operator_file: pathlib.Path | None = None) -> Catalog:
    """The shipped catalog, then the operator's providers file on top of it."""
    catalog = Catalog()
    for path in sorted(directory.glob("*.yaml")):
        _add(catalog, yaml.safe_load(path.read_text()), path.name)
    if operator_file is not None:
        document = yaml.safe_load(operator_file.read_text())
        if not isinstance(document, dict) or not isinstance(document.get("providers"), list):
            raise ValueError(f"{operator_file}: needs a `providers` list")
        for index, entry in enumerate(document["providers"]):
            if not isinstance(entry, dict):
                raise ValueError(f"{operator_file}: providers[{index}] must be a mapping")
            _add(catalog, _operator_document(catalog, entry), f"{operator_file.name}: providers[{index}]")
    return catalog


def _operator_document(catalog: Catalog, entry: dict[str, Any]) -> dict[str, Any]:
    """The providers file's flat form (`id`, `kind`, `base_url`, `key_env`, …) as a catalog document;
    connection fields it leaves out keep the shipped provider's values."""
    provider = entry.get("id")
    if not isinstance(provider, str):
        raise ValueError("every entry of `providers` needs an `id`")
    document: dict[str, Any] = {"provider": provider, "models": entry.get("models") or {}}
    if "unlisted" in entry:
        document["unlisted"] = entry["unlisted"]
    given = {name: entry[name] for name in CONNECTION_FIELDS if name in entry}
    shipped = catalog.providers.get(provider)
    if given or shipped is None:
        base = {} if shipped is None else _connection_fields(shipped.connection)
        document["connection"] = {**base, **given}
    return document


def _connection_fields(connection: Connection) -> dict[str, Any]:
    fields = {name: getattr(connection, name) for name in CONNECTION_FIELDS}
    fields["deployments"] = dict(connection.deployments)
    return fields


def _add(catalog: Catalog, document: object, source: str) -> None:
    if not isinstance(document, dict):
        raise ValueError(f"{source}: must be a mapping")
    entry, models = parse_provider(document, source)
    if entry is not None:
        shipped = catalog.providers.get(entry.id)
        if shipped is not None and entry.unlisted is None:
            entry = replace(entry, unlisted=shipped.unlisted)
        catalog.providers[entry.id] = entry
    for model in models:
        catalog.models[model.ref] = model
