"""What every metered call reaches, whichever role makes it: settings, the core client, the catalog
and its refs, the configured providers, the test model, leases, breakers, slot resolution."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ringside.core.v1 import metering_pb2, slots_pb2
from ringside_server import allowed_models
from ringside_server.allowed_models import EVERYTHING, Policy
from ringside_server.answering import Answering
from ringside_server.background_writes import BackgroundWrites
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.metering import slot_refs
from ringside_server.metering.breaker import Breakers
from ringside_server.metering.keepalive import KeepAlive
from ringside_server.metering.leases import LeaseManager
from ringside_server.observability.metrics import EdgeMetrics
from ringside_server.providers.base import Provider
from ringside_server.providers.catalog.load import CatalogModel
from ringside_server.providers.local import LOCAL_PROVIDER
from ringside_server.providers.refs import Refs
from ringside_server.providers.test_model import TestModelProvider
from ringside_server.rag_client import RagClient
from ringside_server.settings import Settings
from ringside_server.single_flight import SingleFlight, refresh_due

TEST_PROVIDER = "ringside"
SLOT_CACHE_S = 1.0
SLOT_CACHE_MAX = 10_000
# (api key, client token, FC-Customer, user, key only, key id) → the caller's allowed_models lists
PolicyKey = tuple[str, str, str, str, bool, str]
# A leased caller's lists are asked for with its lease's report once this old (issue 24): before a
# call would refresh them ahead (refresh_due: the last third of SLOT_CACHE_S).
POLICY_BY_REPORT_AFTER_S = 0.4
MAX_BARE_NAME = 200
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
    # (api key, slot name) → (target ref, bare_model_provider, monotonic expiry): slots resolve
    # through the core at most once a second per caller and name.
    slot_cache: dict[tuple[str, str], tuple[str, str, float]] = field(default_factory=dict)
    slot_flights: SingleFlight[tuple[str, str], tuple[str, str]] = field(default_factory=SingleFlight)  # in flight
    slot_generation: int = 0  # +1 at every forget_slots: an answer asked before it is not cached
    breakers: Breakers = field(default_factory=Breakers)
    # allowed_models lists per caller, from the core at most once a second (like slots: a changed
    # list takes effect on every edge within 1 s)
    policy_cache: dict[PolicyKey, tuple[Policy, float]] = field(default_factory=dict)
    policy_flights: SingleFlight[PolicyKey, Policy] = field(default_factory=SingleFlight)  # ModelPolicy in flight
    policy_generation: int = 0  # +1 at every forget_policies: an answer asked before it is not cached
    policy_forgotten_at: float = 0.0  # monotonic, the last forget_policies: a grant asked before it is not cached
    metrics: EdgeMetrics | None = None  # None: this role exposes no call metrics
    # The rag role's client (vector indexes, the local models); None only in tests of other parts.
    rag: RagClient | None = None
    # Searches' query log entries, written off the response path (read through this process after a drain)
    query_log: BackgroundWrites = field(default_factory=BackgroundWrites)
    keepalive: KeepAlive = field(init=False)
    # The requests in flight here: refreshes ahead wait for a spell with none (answering.py).
    answering: Answering = field(default_factory=Answering)

    def __post_init__(self) -> None:
        hold_ttl_s = self.settings.hold_ttl_s if self.settings is not None else DEFAULT_HOLD_TTL_S
        self.keepalive = KeepAlive(self.core, hold_ttl_s)
        if self.leases is not None:
            self.leases.use_policies(self)

    def policy_wanted(self, question: metering_pb2.ModelPolicyRequest, now: float) -> bool:
        """A lease's report asks for its caller's lists once they were read POLICY_BY_REPORT_AFTER_S
        ago: its reports (every ~0.1-0.15 s) renew them before a call would refresh them ahead."""
        cached = self.policy_cache.get(_policy_key(question))
        return cached is None or cached[1] - now < SLOT_CACHE_S - POLICY_BY_REPORT_AFTER_S

    def policy_learned(
        self, question: metering_pb2.ModelPolicyRequest, answer: metering_pb2.ModelPolicyResponse, asked_at: float
    ) -> None:
        """A lease's grant or report read its caller's lists (as ModelPolicy answers them) after
        `asked_at`: cached as a ModelPolicy asked then would be, good for SLOT_CACHE_S from then — the
        same bound for a change made through another edge — so a leased caller asks no ModelPolicy."""
        if asked_at < self.policy_forgotten_at:
            return  # the lists changed through this edge meanwhile: the next call asks
        cache_key = _policy_key(question)
        expires_at = asked_at + SLOT_CACHE_S
        cached = self.policy_cache.get(cache_key)
        if cached is not None and cached[1] >= expires_at:
            return  # a fresher answer is cached already
        self._cache_policy(cache_key, _policy_of(answer), expires_at)

    async def answered_calls_recorded(self) -> None:
        """Before a read of spend or usage: the calls this process has answered are recorded (their
        lease reports sent now). Per-call settles are recorded before the answer's last byte already."""
        if self.leases is not None:
            await self.leases.sync()

    async def policy(
        self,
        api_key: str,
        client_token: str = "",
        customer_ref: str = "",
        user: str = "",
        key_only: bool = False,
        key_id: str = "",
    ) -> Policy:
        """The allowed_models lists this caller's calls must pass (API.md "Governance"); `key_id`
        instead of `api_key` for a call Ringside makes on a key's behalf (a batch's line)."""
        cache_key: PolicyKey = (api_key, client_token, customer_ref, user, key_only, key_id)
        now = time.monotonic()
        cached = self.policy_cache.get(cache_key)
        if cached is not None and cached[1] > now:
            if refresh_due(cached[1], SLOT_CACHE_S, now):  # ahead of its end, off this call's path
                quiet = self.answering.quiet_within(cached[1], now)
                self.policy_flights.refresh(cache_key, lambda: self._fetch_policy(cache_key), quiet)
            return cached[0]
        # the calls that find the entry expired share one ModelPolicy (single_flight.py)
        return await self.policy_flights.run(cache_key, lambda: self._fetch_policy(cache_key))

    async def _fetch_policy(self, cache_key: PolicyKey) -> Policy:
        api_key, client_token, customer_ref, user, key_only, key_id = cache_key
        now, generation = time.monotonic(), self.policy_generation
        response = await self.core.internal(
            self.core.metering.ModelPolicy,
            metering_pb2.ModelPolicyRequest(
                api_key=api_key,
                client_token=client_token,
                customer_ref=customer_ref,
                user=user,
                key_only=key_only,
                key_id=key_id,
            ),
        )
        policy = _policy_of(response)
        if generation != self.policy_generation:
            return policy  # the lists changed meanwhile: the next call asks again
        self._cache_policy(cache_key, policy, now + SLOT_CACHE_S)
        return policy

    def _cache_policy(self, cache_key: PolicyKey, policy: Policy, expires_at: float) -> None:
        if len(self.policy_cache) > SLOT_CACHE_MAX:
            self.policy_cache.clear()  # bound: it is only a cache
        self.policy_cache[cache_key] = (policy, expires_at)

    def forget_policies(self) -> None:
        """A customer, tier, slot or account setting changed through this edge: its next call
        reads the lists anew (read-your-writes on this edge; other edges within a second): not from
        the cache, nor from a question asked before the change and still in flight."""
        self.policy_cache.clear()
        self.policy_flights.forget()
        self.policy_generation += 1
        self.policy_forgotten_at = time.monotonic()

    def forget_slots(self) -> None:
        """A slot or the account's bare_model_provider changed through this edge (or the catalog was
        reloaded): names resolve anew here at once (other edges within a second), not from the cache
        nor from a question asked before the change and still in flight (a refresh ahead)."""
        self.slot_cache.clear()
        self.slot_flights.forget()
        self.slot_generation += 1

    async def resolve_model(
        self, model_ref: object, api_key: str, policy: Policy = EVERYTHING, key_id: str = ""
    ) -> list[CatalogModel]:
        """The models to try in order: one for `fc:` and `match:` refs; a slot's list (its first ref,
        then its fallbacks) for `slot:<name>`. A bare name (API.md "Model calls"): the account's slot
        of that name, else its `bare_model_provider`'s model of that name, else 400. Under `policy`
        only allowed models: a `match:` picks its newest allowed candidate, a slot keeps its allowed
        models; 403 model_not_allowed when none is left."""
        if isinstance(model_ref, str) and model_ref.startswith("slot:"):
            name = model_ref.removeprefix("slot:")[:100]
            target, _ = await self._slot_target(api_key, name, key_id)
            if not target:
                raise RingsideError(
                    "invalid_model_ref",
                    f"No slot named '{name}' on this account: create one with "
                    "POST /v1/slots, or use fc:<provider>/<model>.",
                    "model",
                )
            return self._allowed_of(slot_refs.in_order(target), policy, model_ref)
        if isinstance(model_ref, str) and model_ref and ":" not in model_ref and len(model_ref) <= MAX_BARE_NAME:
            return await self._bare(model_ref, api_key, policy, key_id)
        if not policy.lists:
            return [self.resolve(model_ref)]
        model = self.refs.resolve(model_ref, lambda candidate: policy.allows(candidate, self.refs))
        if not policy.allows(model, self.refs):
            raise allowed_models.not_allowed(str(model_ref))
        return [model]

    def _allowed_of(self, refs: list[str], policy: Policy, asked: str) -> list[CatalogModel]:
        """A slot's models in order, only those `policy` allows (403 model_not_allowed when none is)."""
        if not policy.lists:
            return [self.resolve(ref) for ref in refs]
        models = [model for ref in refs if (model := self.allowed_model(ref, policy)) is not None]
        if not models:
            raise allowed_models.not_allowed(asked)
        return models

    def allowed_model(self, ref: str, policy: Policy) -> CatalogModel | None:
        """A ref (`fc:` or `match:`) resolved among the models `policy` allows; None when it names
        none of them (a slot's fallback skipped, a selector GET /v1/models leaves out)."""
        try:
            model = self.refs.resolve(ref, lambda candidate: policy.allows(candidate, self.refs))
        except RingsideError as error:
            if error.code == "model_not_allowed":
                return None
            raise
        return model if policy.allows(model, self.refs) else None

    async def _bare(self, name: str, api_key: str, policy: Policy, key_id: str = "") -> list[CatalogModel]:
        # a Client Token's call has no key to look slots up with: only the 400 below applies
        has_key = bool(api_key or key_id)
        target, bare_provider = await self._slot_target(api_key, name, key_id) if has_key else ("", "")
        if target:
            return self._allowed_of(slot_refs.in_order(target), policy, name)
        if bare_provider:
            ref = f"fc:{bare_provider}/{name}"
            try:
                self.resolve(ref)
            except RingsideError:
                pass  # that provider does not list it: the bare-name 400 below says what does
            else:
                return self._allowed_of([ref], policy, name)
        carriers = sorted(ref for ref, model in self.catalog.items() if model.name == name)[:5]
        named = f"use {' or '.join(carriers)}" if carriers else "use fc:<provider>/<model> (GET /v1/models lists them)"
        raise RingsideError(
            "invalid_model_ref",
            f"'{name}' is a bare model name and every model ref needs a prefix: {named}, create a slot named "
            f"'{name}' (POST /v1/slots), or set the account's bare_model_provider (PATCH /v1/account "
            '{"bare_model_provider": "openai"}) so a bare name means that provider\'s model.',
            "model",
        )

    async def _slot_target(self, api_key: str, name: str, key_id: str = "") -> tuple[str, str]:
        """(the slot's target ref or "", the account's bare_model_provider or ""), cached ≤ 1 s."""
        now = time.monotonic()
        caller = api_key or "id:" + key_id  # a secret key never starts with "id:"
        cached = self.slot_cache.get((caller, name))

        async def fetch() -> tuple[str, str]:
            asked_at, generation = time.monotonic(), self.slot_generation
            response = await self.core.internal(
                self.core.slots.ResolveSlot, slots_pb2.ResolveSlotRequest(api_key=api_key, name=name, key_id=key_id)
            )
            if generation != self.slot_generation:
                return response.model, response.bare_model_provider  # changed meanwhile: not cached
            if len(self.slot_cache) > SLOT_CACHE_MAX:
                self.slot_cache.clear()  # bound: it is only a cache
            self.slot_cache[(caller, name)] = (response.model, response.bare_model_provider, asked_at + SLOT_CACHE_S)
            return response.model, response.bare_model_provider

        if cached is not None and cached[2] > now:
            if refresh_due(cached[2], SLOT_CACHE_S, now):  # ahead of its end, off this call's path
                self.slot_flights.refresh((caller, name), fetch, self.answering.quiet_within(cached[2], now))
            return cached[0], cached[1]
        return await self.slot_flights.run((caller, name), fetch)

    @property
    def catalog(self) -> dict[str, CatalogModel]:
        return self.refs.models

    def resolve(self, model_ref: object) -> CatalogModel:
        """`fc:<provider>/<model>` or `match:<provider>/<family>>=<major>` → the catalog entry."""
        return self.refs.resolve(model_ref)

    def provider_for(self, model: CatalogModel, livemode: bool) -> Provider:
        """Test keys never reach a paid provider: the test model serves every ref they call, but for
        the local models, which cost nothing and answer test keys as they answer live ones."""
        if model.provider == LOCAL_PROVIDER:
            return self._configured(model)
        if not livemode or model.provider == TEST_PROVIDER:
            return self.test_model.serving(model)
        return self._configured(model)

    def _configured(self, model: CatalogModel) -> Provider:
        provider = self.providers.get(model.provider)
        if provider is None:
            raise RingsideError(
                "model_unavailable",
                f"Provider '{model.provider}' is not configured on this "
                "Ringside (set its API key / base URL), or use a test key.",
                "model",
            )
        return provider


def _policy_key(question: metering_pb2.ModelPolicyRequest) -> PolicyKey:
    return (
        question.api_key,
        question.client_token,
        question.customer_ref,
        question.user,
        question.key_only,
        question.key_id,
    )


def _policy_of(answer: metering_pb2.ModelPolicyResponse) -> Policy:
    return Policy(tuple(tuple(entries.entries) for entries in answer.lists)) if answer.lists else EVERYTHING
