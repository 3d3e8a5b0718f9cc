"""A hand-built State, Meter and fake clock for the domain tests: no database, no network."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from hypothesis import settings

from core.domain.calls import CallRequest
from core.domain.entities import Account, ApiKey, Customer, Denial, Transfer, hash_secret
from core.domain.metering import Admission, Meter
from core.domain.periods import period_bounds
from core.domain.state import State
from ringside_server.admission import estimate_nano
from ringside_server.money import Price, Usage

FAST = settings(max_examples=200, deadline=None)

GPT_4O_MINI = Price(input=150_000_000, output=600_000_000)  # 150 nano per input token, 600 per output
MODEL_MAX_OUTPUT = 16_384
HOLD_TTL_S = 900
WRITE_SECRET = "sk_test_" + "w" * 40
READ_SECRET = "sk_test_" + "r" * 40
OTHER_SECRET = "sk_test_" + "o" * 40
START = int(datetime(2025, 3, 10, 12, 0, tzinfo=UTC).timestamp())


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _key(key_id: str, account_id: str, secret: str, scopes: frozenset[str]) -> ApiKey:
    return ApiKey(
        id=key_id,
        account_id=account_id,
        livemode=False,
        name=key_id,
        scopes=scopes,
        secret_hash=hash_secret(secret),
        redacted=secret[:8] + "…",
        created=START,
    )


@dataclass
class World:
    state: State = field(default_factory=State)
    clock: FakeClock = field(default_factory=lambda: FakeClock(START))
    meter: Meter = field(init=False)
    account: Account = field(default_factory=lambda: Account(id="acct_1", name="Acme", created=START))

    def __post_init__(self) -> None:
        self.meter = Meter(self.state, HOLD_TTL_S, self.clock)
        self.state.accounts[self.account.id] = self.account
        self.state.accounts["acct_2"] = Account(id="acct_2", name="Other", created=START)
        self.state.add_key(_key("key_w", self.account.id, WRITE_SECRET, frozenset({"api:write"})))
        self.state.add_key(_key("key_r", self.account.id, READ_SECRET, frozenset({"api:read"})))
        self.state.add_key(_key("key_o", "acct_2", OTHER_SECRET, frozenset({"api:write"})))

    def customer(
        self,
        customer_id: str = "cus_1",
        *,
        budget_nano: int | None = None,
        external_id: str | None = None,
        blocked: bool = False,
        account_id: str = "acct_1",
        livemode: bool = False,
        wallet_nano: int | None = None,
    ) -> Customer:
        customer = Customer(
            id=customer_id,
            account_id=account_id,
            livemode=livemode,
            external_id=external_id,
            name="",
            email="",
            metadata={},
            budget_nano=budget_nano,
            budget_explicit=budget_nano is not None,
            rate_limit_rpm=None,
            rate_limit_tpm=None,
            blocked=blocked,
            billing_anchor_day=1,
            wallet_enabled=wallet_nano is not None,
            wallet_low_threshold_nano=0,
            created=START,
            period_start=period_bounds(START)[0],
            wallet_balance_nano=wallet_nano or 0,
        )
        self.state.add_customer(customer)
        return customer

    def admit(
        self,
        *,
        customer_ref: str = "cus_1",
        user: str = "",
        input_tokens: int = 1_000,
        output_tokens: int = 1_000,
        choices: int = 1,
        secret: str = WRITE_SECRET,
        price: Price = GPT_4O_MINI,
        request_id: str = "",
    ) -> Admission | Denial:
        return self.meter.admit(
            CallRequest(
                api_key=secret,
                customer_ref=customer_ref,
                user=user,
                model_ref="fc:openai/gpt-4o-mini",
                provider="openai",
                price=price,
                input_tokens_bound=input_tokens,
                requested_output_tokens=output_tokens,
                model_max_output_tokens=MODEL_MAX_OUTPUT,
                choices=choices,
                request_id=request_id,
            )
        )

    def admitted(self, **kwargs: object) -> Admission:
        decision = self.admit(**kwargs)  # type: ignore[arg-type]
        assert isinstance(decision, Admission), decision
        return decision

    def settle(self, admission: Admission, usage: Usage) -> None:
        self.meter.apply(self.meter.plan_settle(admission.hold, usage, "completed", False, "gpt-4o-mini"))


def estimate(input_tokens: int, output_tokens: int, choices: int = 1, markup_bp: int = 0) -> int:
    return estimate_nano(input_tokens, output_tokens, choices, GPT_4O_MINI, markup_bp)


def denial_code(decision: Admission | Denial) -> str:
    assert isinstance(decision, Denial), decision
    return decision.code


def transfers(records: list[object], kind: str) -> list[Transfer]:
    return [record for record in records if isinstance(record, Transfer) and record.kind == kind]
