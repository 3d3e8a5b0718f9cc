"""Model refs → catalog models: `fc:<provider>/<model>` and `match:<provider>/<family>>=<major>`.

`slot:<name>` goes through the core (edge_http/context.py); everything else is 400
`invalid_model_ref` with a message that names the valid forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ringside_server.errors import RingsideError
from ringside_server.providers.catalog.load import Catalog, CatalogModel, ProviderEntry

VALID_FORMS = (
    "use fc:<provider>/<model> (e.g. fc:openai/gpt-4o-mini), slot:<name> (a slot of your account) "
    "or match:<provider>/<family>>=<major> (e.g. match:anthropic/sonnet>=4)"
)
MAX_REF = 300
MATCH_SELECTOR = re.compile(r"^match:([a-z0-9][a-z0-9_.-]{0,63})/([a-z0-9][a-z0-9_.-]{0,63})>=(\d{1,4})$")
# A dated snapshot: a catalog name plus `-2024-08-06` (OpenAI) or `-20250929` (Anthropic).
_DATED = re.compile(r"^(.+)-(\d{4}-\d{2}-\d{2}|\d{8})$")


def invalid_ref(model_ref: str, why: str = "is not a model ref") -> RingsideError:
    return RingsideError("invalid_model_ref", f"'{model_ref[:200]}' {why}: {VALID_FORMS}.", "model")


@dataclass(slots=True)
class Refs:
    """The catalog, indexed for the per-request lookups of every ref form."""

    models: dict[str, CatalogModel]
    providers: dict[str, ProviderEntry]
    # (provider, family) → its chat models, newest version first
    families: dict[tuple[str, str], list[CatalogModel]] = field(default_factory=dict)

    @classmethod
    def of(cls, catalog: Catalog) -> Refs:
        families: dict[tuple[str, str], list[CatalogModel]] = {}
        for model in catalog.models.values():
            if model.family and model.version:
                families.setdefault((model.provider, model.family), []).append(model)
        for members in families.values():
            members.sort(key=lambda m: (m.version, not m.deprecated, m.name), reverse=True)
        return cls(catalog.models, catalog.providers, families)

    def resolve(self, model_ref: object, accept: Callable[[CatalogModel], bool] | None = None) -> CatalogModel:
        """The catalog model a ref names. `accept` (allowed_models) narrows what a `match:` selector
        picks to the newest accepted candidate; it does not judge `fc:` refs."""
        if not isinstance(model_ref, str) or not model_ref:
            raise RingsideError("invalid_request", "you must provide a model parameter", "model")
        if len(model_ref) > MAX_REF:
            raise invalid_ref(model_ref, "is too long")
        if model_ref.startswith("fc:"):
            return self._direct(model_ref)
        if model_ref.startswith("match:"):
            return self.match(model_ref, accept)
        raise invalid_ref(model_ref)

    def _direct(self, model_ref: str) -> CatalogModel:
        model = self.models.get(model_ref)
        if model is not None:
            return model
        provider, _, name = model_ref[3:].partition("/")
        dated = _DATED.match(name)
        snapshot_of = self.models.get(f"fc:{provider}/{dated.group(1)}") if dated else None
        if snapshot_of is not None:  # priced as its catalog model, sent upstream and named as given
            return replace(snapshot_of, name=name)
        entry = self.providers.get(provider)
        if entry is not None and entry.unlisted is not None and name and name.isprintable():
            return replace(entry.unlisted, name=name)
        raise invalid_ref(model_ref, "is not a model this installation knows (GET /v1/models lists the refs it serves)")

    def candidates(self, selector: str) -> list[CatalogModel]:
        """Every catalog model a `match:` selector could pick, newest first ([] when none or invalid)."""
        parsed = MATCH_SELECTOR.match(selector)
        if parsed is None:
            return []
        provider, family, major = parsed.group(1), parsed.group(2), int(parsed.group(3))
        return [model for model in self.families.get((provider, family), []) if model.version[0] >= major]

    def match(self, model_ref: str, accept: Callable[[CatalogModel], bool] | None = None) -> CatalogModel:
        """The newest catalog model of that provider's family at or above that major version (the
        newest that `accept` takes, when given; 403 model_not_allowed when it takes none)."""
        parsed = MATCH_SELECTOR.match(model_ref)
        if parsed is None:
            raise invalid_ref(model_ref, "is not a valid match: selector")
        family = parsed.group(2)
        found = self.candidates(model_ref)
        for model in found:  # newest first
            if accept is None or accept(model):
                return model
        if found:
            raise RingsideError(
                "model_not_allowed",
                f"No model '{model_ref[:200]}' could pick is among the models this key or customer may call "
                "(allowed_models).",
                "model",
            )
        members = self.families.get((parsed.group(1), family), [])
        known = ", ".join(f"{m.name} ({'.'.join(map(str, m.version))})" for m in members[:5]) or "none"
        raise invalid_ref(model_ref, f"matches no model in the catalog (family '{family}' has: {known})")
