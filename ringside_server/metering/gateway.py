"""What every metered call reaches, whichever role makes it: settings, the core client, the catalog
and its refs, the configured providers, the test model, leases, breakers, slot resolution."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ringside.core.v1 import slots_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.metering import slot_refs
from ringside_server.metering.breaker import Breakers
from ringside_server.metering.keepalive import KeepAlive
from ringside_server.metering.leases import LeaseManager
from ringside_server.providers.base import Provider
from ringside_server.providers.catalog.load import CatalogModel
from ringside_server.providers.refs import Refs
from ringside_server.providers.test_model import TestModelProvider
from ringside_server.settings import Settings

TEST_PROVIDER = "ringside"
SLOT_CACHE_S = 1.0
SLOT_CACHE_MAX = 10_000
DEFAULT_HOLD_TTL_S = 900


@dataclass(slots=True)
class Gateway:
    """The state a metered call needs; a role holds one (the edge's `Edge` is built around it)."""

    settings: Settings
    core: CoreClient
    refs: Refs
    providers: dict[str, Provider] = field(default_factory=dict)
    test_model: TestModelProvider = field(default_factory=TestModelProvider)
    leases: LeaseManager | None = None
    # (api key, slot name) → (target ref, monotonic expiry): slots resolve through the core at most
    # once a second per caller and name.
    slot_cache: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)
    breakers: Breakers = field(default_factory=Breakers)
    keepalive: KeepAlive = field(init=False)

    def __post_init__(self) -> None:
        hold_ttl_s = self.settings.hold_ttl_s if self.settings is not None else DEFAULT_HOLD_TTL_S
        self.keepalive = KeepAlive(self.core, hold_ttl_s)

    async def answered_calls_recorded(self) -> None:
        """Before a read of spend or usage: the calls this process has answered are recorded (their
        lease reports sent now). Per-call settles are recorded before the answer's last byte already."""
        if self.leases is not None:
            await self.leases.sync()

    async def resolve_model(self, model_ref: object, api_key: str, peer: bool) -> list[CatalogModel]:
        """The models to try in order: one for `fc:` and `match:` refs; a slot's list (its first ref,
        then its fallbacks) for `slot:<name>` and, on the peer proxy's routes, a bare name."""
        if isinstance(model_ref, str) and (model_ref.startswith("slot:") or (peer and ":" not in model_ref)):
            name = model_ref.removeprefix("slot:")[:100]
            target = await self._slot_target(api_key, name)
            if not target:
                raise RingsideError(
                    "invalid_model_ref",
                    f"No slot named '{name}' on this account: create one with "
                    "POST /v1/slots, or use fc:<provider>/<model>.",
                    "model",
                )
            return [self.resolve(ref) for ref in slot_refs.in_order(target)]
        return [self.resolve(model_ref)]

    async def _slot_target(self, api_key: str, name: str) -> str:
        now = time.monotonic()
        cached = self.slot_cache.get((api_key, name))
        if cached is not None and cached[1] > now:
            return cached[0]
        response = await self.core.internal(
            self.core.slots.ResolveSlot, slots_pb2.ResolveSlotRequest(api_key=api_key, name=name)
        )
        if len(self.slot_cache) > SLOT_CACHE_MAX:
            self.slot_cache.clear()  # bound: it is only a cache
        self.slot_cache[(api_key, name)] = (response.model, now + SLOT_CACHE_S)
        return response.model

    @property
    def catalog(self) -> dict[str, CatalogModel]:
        return self.refs.models

    def resolve(self, model_ref: object) -> CatalogModel:
        """`fc:<provider>/<model>` or `match:<provider>/<family>>=<major>` → the catalog entry."""
        return self.refs.resolve(model_ref)

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
