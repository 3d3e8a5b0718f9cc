"""Who is calling: the key (or Client Token) a model call presents, the customer it is attributed to
(API.md "Attribution of a model call"), refused when revoked, unscoped, blocked or unattributed
where the account requires a customer. A base of `core.domain.metering.Meter`."""

from __future__ import annotations

from collections.abc import Callable

from core.domain import client_tokens
from core.domain.calls import CallRequest
from core.domain.entities import ApiKey, Customer, Denial, has_scope, hash_secret
from core.domain.periods import period_bounds
from core.domain.state import State
from ringside_server.ids import new_sortable_id


class Callers:
    state: State
    clock: Callable[[], float]
    route_key: Callable[[str, str, ApiKey | None], None] | None

    def authenticate(self, secret: str) -> ApiKey | None:
        if not secret:
            return None
        digest = hash_secret(secret)
        key = self.state.keys_by_hash.get(digest)
        if self.route_key is not None:
            self.route_key("secret_hash", digest, key)
        return key

    def key_by_id(self, key_id: str) -> ApiKey | None:
        key = self.state.keys_by_id.get(key_id)
        if self.route_key is not None:
            self.route_key("id", key_id, key)
        return key

    def attribute(self, key: ApiKey, customer_ref: str, user: str) -> Customer | Denial | None:
        """API.md "Attribution": FC-Customer, else the body's `user`, else unattributed (None). An
        unknown `ext:` reference or `user` becomes a new customer when the account auto-creates them
        (in memory now; the caller persists it with the call's hold and keeps `created` in mind)."""
        if customer_ref:
            customer = self.state.find_customer(key.account_id, key.livemode, customer_ref)
            if customer is None and customer_ref.startswith("ext:"):
                customer = self._auto_create(key, customer_ref[4:])
            if customer is None:
                return Denial("customer_not_found", f"No such customer: '{customer_ref[:300]}'.", "FC-Customer")
            return customer
        if user:
            return self.state.find_customer(key.account_id, key.livemode, "ext:" + user) or self._auto_create(key, user)
        return None

    def _auto_create(self, key: ApiKey, external_id: str) -> Customer | None:
        if not self.state.accounts[key.account_id].auto_create_customers or not 1 <= len(external_id) <= 255:
            return None
        now = int(self.clock())
        customer = Customer(
            id=new_sortable_id("cus"),
            account_id=key.account_id,
            livemode=key.livemode,
            external_id=external_id,
            name="",
            email="",
            metadata={},
            budget_nano=None,
            budget_explicit=False,
            rate_limit_rpm=None,
            rate_limit_tpm=None,
            blocked=False,
            billing_anchor_day=1,
            wallet_enabled=False,
            wallet_low_threshold_nano=0,
            created=now,
            period_start=period_bounds(now)[0],
            unsaved=True,
        )
        self.state.add_customer(customer)
        return customer

    def check_caller(self, request: CallRequest) -> tuple[ApiKey, Customer | None] | Denial:
        """Key valid and scoped → attribution → not blocked (API.md "Attribution of a model call")."""
        if request.client_token:
            return client_tokens.caller(self.state, request.client_token, request.customer_ref, self.clock())
        key = self.key_by_id(request.key_id) if request.key_id else self.authenticate(request.api_key)
        if key is not None and key.revoked_at is not None:
            key = None
        if key is None:
            return Denial("invalid_api_key", "Invalid API key provided.")
        if not has_scope(key.scopes, "api:write"):
            return Denial("insufficient_scope", "This key lacks the api:write scope needed for model calls.")
        attributed = self.attribute(key, request.customer_ref, request.user)
        if isinstance(attributed, Denial):
            return attributed
        if attributed is not None and attributed.blocked:
            return Denial("customer_blocked", f"Customer {attributed.id} is blocked.")
        if attributed is None and self.state.accounts[key.account_id].require_customer(key.livemode):
            return Denial(
                "customer_required",
                "This account requires a customer on every metered call: send FC-Customer: cus_… or ext:…, "
                "a `user` naming a customer, or call with a Client Token (or PATCH /v1/account "
                '{"require_customer": false}).',
                "FC-Customer",
            )
        return key, attributed
