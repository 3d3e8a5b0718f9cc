"""What every handler reaches through the app: settings, the core client, models and providers."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from edge_http.leases import LeaseManager
from edge_http.providers.base import Provider
from edge_http.providers.catalog.load import CatalogModel
from edge_http.providers.test_model import TestModelProvider
from ringside.core_client import CoreClient
from ringside.errors import RingsideError
from ringside.settings import Settings

TEST_PROVIDER = "ringside"


@dataclass(slots=True)
class Edge:
    settings: Settings
    core: CoreClient
    catalog: dict[str, CatalogModel]
    providers: dict[str, Provider] = field(default_factory=dict)
    test_model: TestModelProvider = field(default_factory=TestModelProvider)
    leases: LeaseManager | None = None

    def resolve(self, model_ref: object) -> CatalogModel:
        """`fc:<provider>/<model>` → the catalog entry (slot: and match: come with the models issue)."""
        if not isinstance(model_ref, str) or not model_ref:
            raise RingsideError("invalid_request", "you must provide a model parameter", "model")
        if not model_ref.startswith("fc:"):
            raise RingsideError(
                "invalid_model_ref",
                f"'{model_ref[:200]}' is not a model ref: use fc:<provider>/<model> (e.g. fc:openai/gpt-4o-mini).",
                "model",
            )
        model = self.catalog.get(model_ref)
        if model is None:
            raise RingsideError(
                "invalid_model_ref",
                f"Unknown model '{model_ref[:200]}'. GET /v1/models lists the refs this installation serves.",
                "model",
            )
        return model

    def provider_for(self, model: CatalogModel, livemode: bool) -> Provider:
        """Test keys never reach a provider: the test model serves every ref they call."""
        if not livemode or model.provider == TEST_PROVIDER:
            return self.test_model
        provider = self.providers.get(model.provider)
        if provider is None:
            raise RingsideError(
                "model_unavailable",
                f"Provider '{model.provider}' is not configured on this "
                "Ringside (set its API key / base URL), or use a test key.",
                "model",
            )
        return provider


EDGE = web.AppKey("edge", Edge)
