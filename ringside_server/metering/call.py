"""MeteredCall: the life of one metered call, whatever the route and whoever makes it.

    prepare: resolve the ref(s) → the route's model kind → the provider serves the route →
             (live) the provider is configured — every refusal here comes before anything is held
    run:     for each attempt (a slot's models in order, retried per fallbacks.py, the breaker
             skipping a failing provider): admit (lease or per-call Authorize, its own hold) →
             open upstream → answer (a complete body, or a relay of SSE frames) → settle once

The caller renders the Answer (or the Denial) in its own transport; a relay settles when it ends or
is closed (client gone, cancelled). Nothing here knows HTTP servers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ringside.core.v1 import metering_pb2
from ringside_server.errors import RingsideError
from ringside_server.metering import fallbacks
from ringside_server.metering.attempt import Attempt, shielded_settle
from ringside_server.metering.gateway import TEST_PROVIDER, Gateway
from ringside_server.metering.request import Answer, Caller, MeteredRequest
from ringside_server.metering.settlement import admit, price_of
from ringside_server.money_proto import classes_message
from ringside_server.observability import calls
from ringside_server.providers import registry
from ringside_server.providers.catalog.load import CatalogModel
from ringside_server.providers.local import LOCAL_PROVIDER

KIND_NAMES = {
    "chat": "a chat",
    "embedding": "an embedding",
    "moderation": "a moderation",
    "image": "an image",
    "speech": "a speech",
    "transcription": "a transcription",
}


class MeteredCall:
    """One metered call: `await MeteredCall.prepare(...)`, then `await call.run()`."""

    def __init__(self, gateway: Gateway, caller: Caller, request: MeteredRequest, models: list[CatalogModel]) -> None:
        self.gateway = gateway
        self.caller = caller
        self.request = request
        self.models = models
        # A call Ringside makes on a key's behalf may name each attempt's request id itself: a
        # batch's worker journals the id before the hold exists, so a crash at any point leaves no
        # hold it does not know of (each line is settled once, never run twice and billed twice).
        self.request_id_for_attempt: Callable[[], Awaitable[str]] | None = None

    @classmethod
    async def prepare(cls, gateway: Gateway, caller: Caller, request: MeteredRequest) -> MeteredCall:
        """Resolve and check everything that can be refused before anything is held."""
        models = await cls.resolve(gateway, caller, request.model_ref, request.body)
        return cls.of_models(gateway, caller, request, models)

    @staticmethod
    async def resolve(gateway: Gateway, caller: Caller, model_ref: object, body: dict[str, Any]) -> list[CatalogModel]:
        """The models a ref names for this caller (allowed ones only), in the order they are tried: a
        route whose request depends on the provider (Responses: relayed or translated) reads them
        before it builds its request."""
        given_user = body.get("user")
        user = given_user if isinstance(given_user, str) else ""
        calls.asked(str(model_ref)[:300], (caller.api_key, caller.client_token, caller.customer_ref, user))
        policy = await gateway.policy(
            caller.api_key, caller.client_token, caller.customer_ref, user, key_id=caller.key_id
        )
        return await gateway.resolve_model(model_ref, caller.api_key, policy, key_id=caller.key_id)

    @classmethod
    def of_models(
        cls, gateway: Gateway, caller: Caller, request: MeteredRequest, models: list[CatalogModel]
    ) -> MeteredCall:
        """A call of models resolved (and allowed) already — by `prepare`, or when the work was
        asked for (an Assistants run resolves its model at create; its worker calls it later)."""
        for model in models:
            # the provider first: a provider that cannot serve the route says what it can serve
            entry = gateway.refs.providers.get(model.provider)
            kind_of_provider = entry.connection.kind if entry is not None else "openai"
            registry.require(kind_of_provider, model.provider, request.route)
            if request.model_kind is not None and model.kind != request.model_kind:
                kind = KIND_NAMES.get(request.model_kind, request.model_kind)
                raise RingsideError("invalid_request", f"'{model.ref}' is not {kind} model.", "model")
        models = [request.priced(model) for model in models]
        # 503 before holding anything; test keys reach only the local models' own provider
        if caller.live or all(model.provider == LOCAL_PROVIDER for model in models):
            models = _configured(gateway, models)
        return cls(gateway, caller, request, models)

    async def run(self) -> Answer | metering_pb2.Denial:
        """Admit, call and settle each attempt until one answers; a Denial when the caller is refused
        (budget, wallet, rate limits: no further attempt would be allowed either)."""
        models, gateway = self.models, self.gateway
        # Only a slot's list is retried and fallen back along; a single ref is called once.
        tries = fallbacks.TRIES_PER_MODEL if len(models) > 1 else 1
        attempts = [(model, number) for model in models for number in range(tries)][: fallbacks.MAX_ATTEMPTS]
        skip: CatalogModel | None = None
        failure: fallbacks.Failure | None = None
        for index, (model, try_number) in enumerate(attempts):
            last = index == len(attempts) - 1
            if model is skip or (self.caller.live and not last and not gateway.breakers.available(model.provider)):
                continue
            attempt = await self._admitted(model)
            if isinstance(attempt, metering_pb2.Denial):
                return attempt
            try:
                if not last:
                    failure = await attempt.try_open()
                    if failure is not None:  # settled as failed: nothing was sent to the caller yet
                        wait = fallbacks.wait_before_retry_s(try_number, failure)
                        if wait is None:
                            skip = model
                        else:
                            await asyncio.sleep(wait)
                        continue
                return await attempt.answer()
            except asyncio.CancelledError:
                # Cut at shutdown once the drain is over: settled as aborted (the provider may
                # bill what it did), for what was counted.
                if not attempt.settled and not attempt.streaming:
                    await shielded_settle(attempt, aborted=True)
                raise
            finally:
                # An unexpected error: never leave it open. A relay handed out settles itself
                # when it ends or is closed.
                if not attempt.settled and not attempt.streaming:
                    await shielded_settle(attempt)
        # The last model was given up on early (a timeout, or a long retry-after): its failure is the answer.
        code = failure.code if failure is not None else "model_unavailable"
        raise RingsideError(code, "No model of this slot answered; the last one failed with " + code + ".")

    async def _admitted(self, model: CatalogModel) -> Attempt | metering_pb2.Denial:
        """One attempt, authorized on its own: the core (or a lease) holds this model's upper bound."""
        input_bound = self.request.input_tokens_bound(model)
        authorize = self.authorize_request(model, input_bound)
        if self.request_id_for_attempt is not None:
            authorize.request_id = await self.request_id_for_attempt()
        decision = await admit(self.gateway, authorize)
        if isinstance(decision, metering_pb2.Denial):
            return decision
        return Attempt(self.gateway, self.request, model, decision, input_bound)

    def authorize_request(self, model: CatalogModel, input_bound: int) -> metering_pb2.AuthorizeRequest:
        """What the core is asked to hold for one attempt of this call."""
        caller, request = self.caller, self.request
        user = request.body.get("user")
        return metering_pb2.AuthorizeRequest(
            api_key=caller.api_key,
            customer_ref=caller.customer_ref,
            user=user if isinstance(user, str) else "",
            model_ref=model.ref,
            provider=model.provider,
            price=price_of(model),
            input_tokens_bound=input_bound,
            requested_output_tokens=request.requested_output_tokens,
            model_max_output_tokens=model.max_output_tokens,
            choices=request.choices,
            client_ip=caller.client_ip,
            client_token=caller.client_token,
            client_token_id=caller.client_token_id,
            key_id=caller.key_id,
            classes=classes_message(request.price_classes) if request.price_classes is not None else None,
        )


def _configured(gateway: Gateway, models: list[CatalogModel]) -> list[CatalogModel]:
    """The models whose provider is configured; the first one's 503 when none is."""
    available = [model for model in models if model.provider in gateway.providers or model.provider == TEST_PROVIDER]
    if not available:
        gateway.provider_for(models[0], livemode=True)
    return available
