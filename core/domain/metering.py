"""Admission of model calls: holds on the ledger, exact under concurrency.

The rule (API.md "Budgets"): a call is admitted only if posted spend + open holds + its estimate
fit under the cap (and the wallet); when the room cannot pay for the whole output bound, the call is
admitted with the largest output bound the room pays for (≥ 1 token). Admission reserves in memory
synchronously, so concurrent calls can never all pass the same check; the caller makes the hold
durable before answering and calls `release` if that fails.

The fast path reserves a lease instead: a hold covering a few calls like the one asking, never more
than LEASE_ROOM_SHARE of the room, which an edge admits calls against by itself (see lease_settlement.py).

Who is calling (key, attribution, block) is decided in callers.py; the hold an admission reserves
and the room a customer has left, in reservations.py: both are bases of `Meter`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from core.domain import prepaid
from core.domain.callers import Callers
from core.domain.calls import CallRequest
from core.domain.entities import ApiKey, Customer, Denial, Hold
from core.domain.lease_settlement import LeaseSettlement
from core.domain.limits import Limits, effective, rate_layers
from core.domain.periods import period_bounds
from core.domain.ratelimit import Layer, RateDefaults, RateLimiter, Refusal, Status
from core.domain.recent_counts import RecentCounts
from core.domain.reservations import Reservations
from core.domain.settlement import SettlePlan
from core.domain.state import State
from ringside_server.admission import (
    MAX_LEASE_CALLS,
    call_bound,
    estimate_nano,
    max_affordable_output,
    output_ceiling,
)
from ringside_server.ids import new_lease_id, new_request_id

__all__ = ["LEASE_ROOM_SHARE", "MAX_LEASE_CALLS", "Admission", "Meter", "SettlePlan"]

# A lease covers at most MAX_LEASE_CALLS calls like the one asking (ringside_server/admission.py: the
# edge asks for as many), and at most this share of the room left under a cap: what a crashed edge
# can over-charge is bounded by both.
LEASE_ROOM_SHARE = 4  # 1/4


@dataclass(slots=True)
class Admission:
    hold: Hold
    key: ApiKey
    customer: Customer | None
    max_output_tokens: int
    output_limited: bool
    records: list[object]
    rate_status: Status = field(default_factory=Status)
    lease_calls: int = 0  # a lease: how many calls it covers
    lease_tokens: int = 0  # a lease: the tokens they may take (0: no token limit)
    replayed: bool = False  # an existing hold answered again (its request id resent): nothing to write


class Meter(Callers, Reservations, LeaseSettlement):
    def __init__(
        self,
        state: State,
        hold_ttl_s: int,
        clock: Callable[[], float],
        rate_defaults: RateDefaults | None = None,
        lease_window_s: float = 1.0,
    ) -> None:
        self.state = state
        self.hold_ttl_s = hold_ttl_s
        self.clock = clock
        self.rate_defaults = rate_defaults or RateDefaults()
        self.lease_window_s = lease_window_s
        self.limiter = RateLimiter(self.rate_defaults.window_s)
        self.recent_counts = RecentCounts(self.rate_defaults.window_s)
        # Several active cores (core/services/ownership.py): called with every key looked up (by
        # hash or id; None: not in this core's memory), it raises NotOwner for another core's key.
        self.route_key: Callable[[str, str, ApiKey | None], None] | None = None
        # Several active cores (core/domain/ip_blocks.py `Borrower.layers`): replaces an IP's layer
        # by the block borrowed from its owner when another core owns it. None: today's path.
        self.ip_layers: Callable[[list[Layer], float], list[Layer]] | None = None

    # -- admission ---------------------------------------------------------------------------------

    def output_ceiling(self, request: CallRequest, key: ApiKey) -> int:
        """max_tokens as sent, else the account's default, else the model's maximum (never above it)."""
        account = self.state.accounts[key.account_id]
        return output_ceiling(
            request.requested_output_tokens, account.default_max_output_tokens, request.model_max_output_tokens
        )

    def markup_bp(self, key: ApiKey, limits: Limits | None) -> int:
        """The customer's tier's markup, else the account's."""
        return limits.markup_bp if limits is not None else self.state.accounts[key.account_id].markup_bp

    def _limits_and_layers(
        self, request: CallRequest, key: ApiKey, customer: Customer | None, clock: float
    ) -> tuple[Limits | None, list[Layer]] | Denial:
        """The customer's effective limits (worked out once per admission) and its rate-limit
        layers; refused when a layer has no request left."""
        limits = effective(self.state, customer) if customer is not None else None
        layers = rate_layers(self.rate_defaults, request, key, customer, limits)
        if self.ip_layers is not None:
            layers = self.ip_layers(layers, clock)
        refused = self.limiter.check_requests(layers, clock)
        return _rate_denial(refused) if refused is not None else (limits, layers)

    def count_request(self, layers: list[Layer], request_id: str = "") -> Status | Denial:
        """A request that is not a model call (DECISIONS 15): one request in each of `layers`
        (limits.request_layers), or the first layer without room as its 429. Counted again under
        the same `request_id` (its first answer cut off): the first answer, nothing counted."""
        clock = self.clock()
        if request_id:
            answered = self.recent_counts.answer(request_id, clock)
            if answered is not None:
                return answered
        if self.ip_layers is not None:
            layers = self.ip_layers(layers, clock)
        refused = self.limiter.check_requests(layers, clock)
        if refused is not None:
            return _rate_denial(refused)  # nothing counted: a repeat is decided again
        status = self.limiter.charge(layers, clock, clock, 1, 0).status
        if request_id:
            self.recent_counts.remember(request_id, clock, status)
        return status

    def admit(self, request: CallRequest) -> Admission | Denial:
        checked = self.check_caller(request)
        if isinstance(checked, Denial):
            return checked
        key, customer = checked
        if request.request_id and (
            request.request_id in self.state.holds or self.state.settled.get(request.request_id)
        ):
            return self._admitted_again(request, key, customer)
        clock = self.clock()
        now = int(clock)
        terms = self._limits_and_layers(request, key, customer, clock)
        if isinstance(terms, Denial):
            return terms
        limits, layers = terms
        markup = self.markup_bp(key, limits)
        choices = max(1, request.choices)
        ceiling = self.output_ceiling(request, key)
        output_bound = ceiling
        tokens_room, tokens_layer = self.limiter.room(layers, "tokens", clock)
        if tokens_room is not None and tokens_layer is not None and request.tokens_bound(ceiling) > tokens_room:
            output_bound = (tokens_room - request.input_tokens_bound) // choices
            if output_bound < 1:
                return _rate_denial(self.limiter.tokens_refusal(tokens_layer, clock, request.tokens_bound(1)))
        prepaid_account = prepaid.draws_on_prepaid(self.state, key.account_id, key.livemode)
        if prepaid_account:
            output_bound = prepaid.affordable_output(
                self.state, key.account_id, request.input_tokens_bound, choices, request.rates, output_bound
            )
            if output_bound < 1:
                return Denial("wallet_empty", prepaid.WALLET_EMPTY)
        estimate = estimate_nano(request.input_tokens_bound, output_bound, choices, request.rates, markup)
        if customer is not None:
            customer.roll_period(period_bounds(now, customer.billing_anchor_day)[0])
            room, limiting = self._room(customer, limits)
            if room is not None and estimate > room:
                output_bound = max_affordable_output(
                    request.input_tokens_bound, choices, request.rates, markup, room, output_bound
                )
                if output_bound < 1:
                    return self._refuse(customer, limiting)
                estimate = estimate_nano(request.input_tokens_bound, output_bound, choices, request.rates, markup)
        hold_id = request.request_id or new_request_id()
        hold, records = self._hold(hold_id, "call", key, customer, estimate, request, now, markup)
        hold.output_tokens = output_bound
        if prepaid_account:
            cost_bound = prepaid.cost_bound(request.input_tokens_bound, output_bound, choices, request.rates)
            prepaid.reserve(self.state, hold, cost_bound)
        hold.rate_charge = self.limiter.charge(layers, clock, clock, 1, request.tokens_bound(output_bound))
        return Admission(
            hold,
            key,
            customer,
            output_bound,
            output_bound < ceiling,
            self._with_new(customer, records),
            hold.rate_charge.status,
        )

    def _admitted_again(self, request: CallRequest, key: ApiKey, customer: Customer | None) -> Admission | Denial:
        """The same call authorized again under the request id its caller chose (a resend after its
        first answer was cut off, maybe by the core's death, answered by the taker from the adopted
        hold): the hold it already has, reserved once. Nothing is admitted, charged or written. A
        hold of another caller's call, or one settled or being settled, is never handed out."""
        hold = self.state.holds.get(request.request_id)
        if hold is None or hold.settling or hold.kind != "call":
            return Denial("invalid_request", "That request id names another call.", "request_id")
        if (
            hold.account_id != key.account_id
            or hold.livemode != key.livemode
            or hold.model_ref != request.model_ref
            or hold.customer_id != (customer.id if customer is not None else None)
        ):
            return Denial("invalid_request", "That request id names another call.", "request_id")
        ceiling = self.output_ceiling(request, key)
        # The first answer's bound, kept with the hold: the room, a TPM window or the prepaid
        # balance may have cut it below what its amount covers (rounding up the estimate leaves
        # room for more). A hold written before it was kept: the largest bound the amount covers.
        choices = max(1, request.choices)
        output_bound = hold.output_tokens or max_affordable_output(
            request.input_tokens_bound, choices, request.rates, hold.markup_bp, hold.amount_nano, ceiling
        )
        status = hold.rate_charge.status if hold.rate_charge is not None else Status()
        return Admission(hold, key, customer, output_bound, output_bound < ceiling, [], status, replayed=True)

    def acquire_lease(self, request: CallRequest, calls: int, lease_id: str = "") -> Admission | Denial | None:
        """A lease for up to `calls` calls like `request`, or None when the room cannot spare one
        (the edge then authorizes this call alone, which applies the full room rule).

        A lease reserves each call's request slot (and its tokens under a TPM limit) in every rate
        limit layer, never more than LEASE_ROOM_SHARE of what a layer has left. `lease_id`: the id
        its caller chose; asked again under it, the lease it names is answered (`_leased_again`)."""
        checked = self.check_caller(request)
        if isinstance(checked, Denial):
            return checked
        key, customer = checked
        if lease_id and (lease_id in self.state.holds or self.state.expired.get(lease_id) is not None):
            return self._leased_again(lease_id, request, key, customer)
        if (customer is not None and customer.wallet_enabled) or prepaid.draws_on_prepaid(
            self.state, key.account_id, key.livemode
        ):
            # Wallet calls take the per-call path: their responses carry the exact balance after
            # the call (X-Ringside-Wallet-Balance), which only the core knows; a prepaid account's
            # balance is kept exact the same way.
            return None
        clock = self.clock()
        now = int(clock)
        terms = self._limits_and_layers(request, key, customer, clock)
        if isinstance(terms, Denial):
            return terms
        limits, layers = terms
        markup = self.markup_bp(key, limits)
        bound = call_bound(
            request.input_tokens_bound,
            request.choices,
            request.requested_output_tokens,
            self.state.accounts[key.account_id].default_max_output_tokens,
            request.model_max_output_tokens,
            request.rates,
            markup,
        )
        estimate = bound.estimate_nano
        slots = max(1, min(calls, MAX_LEASE_CALLS))
        requests_room, _ = self.limiter.room(layers, "requests", clock)
        if requests_room is not None:
            slots = min(slots, requests_room // LEASE_ROOM_SHARE)
        tokens_room, _ = self.limiter.room(layers, "tokens", clock)
        if tokens_room is not None:
            slots = min(slots, tokens_room // LEASE_ROOM_SHARE // max(1, bound.tokens))
        amount = estimate * slots
        if customer is not None:
            customer.roll_period(period_bounds(now, customer.billing_anchor_day)[0])
            room, _ = self._room(customer, limits)
            if room is not None:
                amount = min(amount, room // LEASE_ROOM_SHARE)
        if slots < 1 or amount < estimate:
            return None
        if estimate:
            slots = min(slots, amount // estimate)
        # else a free model's calls (fc:local/*, priced 0): a lease of nothing but rate-limit slots,
        # as the per-call path admits them whatever the room (a search's query embedding no longer
        # waits on two group commits)
        hold, records = self._hold(lease_id or new_lease_id(), "lease", key, customer, amount, request, now, markup)
        hold.lease_calls = slots
        tokens = slots * bound.tokens if tokens_room is not None else 0
        hold.lease_tokens = tokens
        # Dated at the end of the lease's admission window: each of its calls counts for 60 s
        # after whichever moment inside that window it was admitted.
        hold.rate_charge = self.limiter.charge(layers, clock, clock + self.lease_window_s, slots, tokens, lease=True)
        return Admission(
            hold,
            key,
            customer,
            bound.output_tokens,
            False,
            self._with_new(customer, records),
            hold.rate_charge.status,
            lease_calls=slots,
            lease_tokens=tokens,
        )

    def _leased_again(
        self, lease_id: str, request: CallRequest, key: ApiKey, customer: Customer | None
    ) -> Admission | Denial:
        """The same lease asked again under the id its caller chose (a resend after its first answer
        was cut off, maybe by the core's death, answered by the taker from the adopted lease): the
        lease it already has, reserved once. Nothing is admitted, charged or written. Another
        caller's lease, or one expired, closing or being posted, is never handed out."""
        lease = self.state.holds.get(lease_id)
        if (
            lease is None
            or lease.kind != "lease"
            or lease.settling
            or lease.account_id != key.account_id
            or lease.livemode != key.livemode
            or lease.model_ref != request.model_ref
            or lease.customer_id != (customer.id if customer is not None else None)
        ):
            return Denial("invalid_request", "That lease id names another lease, or one no longer open.", "lease_id")
        status = lease.rate_charge.status if lease.rate_charge is not None else Status()
        return Admission(
            lease,
            key,
            customer,
            0,
            False,
            [],
            status,
            lease_calls=lease.lease_calls,
            lease_tokens=lease.lease_tokens,
            replayed=True,
        )

    def release(self, admission: Admission) -> None:
        """Undo an admission whose hold could not be made durable."""
        if admission.hold.rate_charge is not None:
            self.limiter.refund(admission.hold.rate_charge)
        prepaid.unreserve(self.state, admission.hold)
        hold = self.state.holds.pop(admission.hold.id, None)
        if hold is not None and admission.customer is not None:
            admission.customer.held_nano -= hold.remaining_nano
        customer = admission.customer
        if customer is not None and customer in admission.records:  # its creation failed with it
            self.state.customers.pop(customer.id, None)
            if customer.external_id is not None:
                self.state.customers_by_external.pop(
                    (customer.account_id, customer.livemode, customer.external_id), None
                )


def _rate_denial(refusal: Refusal) -> Denial:
    """A rate limiter's refusal as the answer to the call (with when to retry, when it can)."""
    if math.isinf(refusal.retry_after_s):
        return Denial(refusal.code, refusal.message + " This call is larger than the limit allows.")
    wait_ms = max(1, math.ceil(refusal.retry_after_s * 1000))
    return Denial(
        refusal.code,
        refusal.message,
        retry_after_seconds=max(1, math.ceil(wait_ms / 1000)),
        should_retry=True,
        retry_after_ms=wait_ms,
        settles_by=refusal.settles_by,
    )
