"""Accounts and API keys."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.domain import ledger, prepaid
from core.domain.entities import (
    SCOPES,
    Account,
    AccountUpdate,
    ApiKey,
    KeyRevocation,
    hash_secret,
    mode_name,
    new_secret,
)
from core.domain.periods import period_bounds
from core.services.core import Core, Principal, require_scope
from core.services.pages import page, page_by_id
from core.store.tables import ACCOUNTS, TRANSFERS
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

MAX_NAME = 256


@dataclass(frozen=True, slots=True)
class NewKey:
    key: ApiKey
    secret: str


@dataclass(frozen=True, slots=True)
class NewAccount:
    account: Account
    live_key: NewKey
    test_key: NewKey


def _require_admin(principal: Principal) -> None:
    if not principal.admin:
        raise RingsideError("insufficient_scope", "Accounts are managed with the operator's admin key.")


def _check_name(name: str) -> None:
    if len(name) > MAX_NAME:
        raise RingsideError("invalid_request", f"name must be at most {MAX_NAME} characters.", "name")


def _new_key(core: Core, account_id: str, livemode: bool, scopes: frozenset[str], name: str) -> NewKey:
    secret = new_secret(livemode)
    key = ApiKey(
        id=new_sortable_id("key"),
        account_id=account_id,
        livemode=livemode,
        name=name,
        scopes=scopes,
        secret_hash=hash_secret(secret),
        redacted=secret[:12] + "…",
        created=core.now(),
    )
    return NewKey(key, secret)


async def create_account(core: Core, principal: Principal, name: str) -> NewAccount:
    _require_admin(principal)
    return await _create_account(core, name)


async def _create_account(core: Core, name: str) -> NewAccount:
    _check_name(name)
    account = Account(id=_account_id(core), name=name or "default", created=core.now())
    live = _new_key(core, account.id, True, frozenset(SCOPES), "default live key")
    test = _new_key(core, account.id, False, frozenset(SCOPES), "default test key")

    def add() -> None:
        core.state.accounts[account.id] = account
        core.state.add_key(live.key)
        core.state.add_key(test.key)

    await core.writer.write_then_apply([account, live.key, test.key], add)
    return NewAccount(account, live, test)


def _account_id(core: Core) -> str:
    """A new account's id; with several active cores, one in a partition this core serves (its
    records are fenced on that partition, and its state is this core's to keep)."""
    for _ in range(100_000):  # ~N tries with N active cores
        account_id = new_sortable_id("acct")
        if core.ownership.serves_account(account_id):
            return account_id
    raise RingsideError("service_unavailable", "This core serves no partition yet; retry shortly.")


async def bootstrap(core: Core) -> NewAccount | None:
    """The first start of an empty database creates a default account (None when one exists).
    With several active cores (a partial state) the database is asked, by the system partition's
    owner only."""
    if core.state.accounts:
        return None
    if core.ownership.serving is not None:
        if 0 not in core.ownership.serving:
            return None
        with core.engine.connect() as connection:
            if connection.execute(select(ACCOUNTS.c.id).limit(1)).first() is not None:
                return None
    return await _create_account(core, "default")


def _stored(core: Core, account_id: str) -> bool:
    """An account another core serves (the operator's cursor; one primary-key read)."""
    with core.engine.connect() as connection:
        return connection.execute(select(ACCOUNTS.c.id).where(ACCOUNTS.c.id == account_id[:64])).first() is not None


def list_accounts(
    core: Core, principal: Principal, limit: int, starting_after: str, ending_before: str
) -> tuple[list[Account], bool]:
    _require_admin(principal)
    accounts = sorted(core.state.accounts.values(), key=lambda a: a.id, reverse=True)
    if core.ownership.serving is not None:  # several active cores: this core's part (core/rpc/fanout.py)
        for cursor, param in ((starting_after, "starting_after"), (ending_before, "ending_before")):
            if cursor and cursor not in core.state.accounts and not _stored(core, cursor):
                raise RingsideError("invalid_request", f"No such object: '{cursor[:100]}'.", param)
        return page_by_id(accounts, lambda a: a.id, limit, starting_after, ending_before)
    return page(accounts, lambda a: a.id, limit, starting_after, ending_before)


async def create_key(
    core: Core,
    principal: Principal,
    livemode: bool,
    scopes: list[str],
    name: str,
    allowed_models: tuple[str, ...] | None = None,
) -> NewKey:
    require_scope(principal, "api:admin")
    _check_name(name)
    if livemode and not principal.livemode:
        raise RingsideError("insufficient_scope", "A test key cannot create live keys.", "mode")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise RingsideError(
            "invalid_request", f"Unknown scopes: {', '.join(unknown)}. Known: {', '.join(SCOPES)}.", "scopes"
        )
    new = _new_key(
        core, principal.account_id, livemode, frozenset(scopes or SCOPES), name or f"{mode_name(livemode)} key"
    )
    new.key.allowed_models = _within_creators(core, principal, allowed_models)
    await core.writer.write_then_apply([new.key], lambda: core.state.add_key(new.key))
    return new


def _within_creators(
    core: Core, principal: Principal, allowed_models: tuple[str, ...] | None
) -> tuple[str, ...] | None:
    """A key restricted by allowed_models cannot make a key that may call more: without a list the
    new key gets the creator's, and a list may only name entries of the creator's list."""
    creator = core.state.keys_by_id.get(principal.key_id)
    limit = creator.allowed_models if creator is not None else None
    if limit is None:
        return allowed_models
    if allowed_models is None:
        return limit
    beyond = [entry for entry in allowed_models if entry not in limit]
    if beyond:
        raise RingsideError(
            "insufficient_scope",
            f"This key may only create keys within its own allowed_models; {beyond[0][:100]!r} is not in it.",
            "allowed_models",
        )
    return allowed_models


def list_keys(
    core: Core, principal: Principal, limit: int, starting_after: str, ending_before: str
) -> tuple[list[ApiKey], bool]:
    require_scope(principal, "api:admin")
    keys = sorted(
        (
            k
            for k in core.state.keys_by_id.values()
            if k.account_id == principal.account_id and k.livemode == principal.livemode and k.revoked_at is None
        ),
        key=lambda k: k.id,
        reverse=True,
    )
    return page(keys, lambda k: k.id, limit, starting_after, ending_before)


async def delete_key(core: Core, principal: Principal, key_id: str) -> ApiKey:
    require_scope(principal, "api:admin")
    key = core.state.keys_by_id.get(key_id)
    if (
        key is None
        or key.account_id != principal.account_id
        or key.livemode != principal.livemode
        or key.revoked_at is not None
    ):
        raise RingsideError("not_found", f"No such API key: '{key_id}'.", "id")
    revoked_at = core.now()
    await core.writer.write_then_apply(
        [KeyRevocation(key.id, revoked_at)], lambda: core.state.revoke_key(key, revoked_at)
    )
    return key


def verify_key(core: Core, secret: str) -> ApiKey:
    key = core.meter.authenticate(secret)
    if key is None:
        raise RingsideError("invalid_api_key", "Invalid API key provided.")
    return key


MAX_MARKUP_BP = 100_000  # 1000 %
MAX_DEFAULT_OUTPUT_TOKENS = 1_000_000


def account_settings(core: Core, principal: Principal) -> Account:
    require_scope(principal, "api:admin")
    return core.state.accounts[principal.account_id]


async def update_account_settings(
    core: Core,
    principal: Principal,
    auto_create_customers: bool | None,
    markup_bp: int | None,
    default_max_output_tokens: int | None,
    default_tier: str | None = None,
    prepaid_balance_enabled: bool | None = None,
    low_threshold_pct: int | None = None,
    require_customer: bool | None = None,
    bare_model_provider: str | None = None,
) -> Account:
    """Change the settings given; they apply to calls admitted from then on (a lease already granted
    keeps the markup it was granted with for its window)."""
    account = account_settings(core, principal)
    if markup_bp is not None and not 0 <= markup_bp <= MAX_MARKUP_BP:
        raise RingsideError("invalid_request", "markup_pct must be between 0 and 1000.", "markup_pct")
    if default_max_output_tokens is not None and not 0 <= default_max_output_tokens <= MAX_DEFAULT_OUTPUT_TOKENS:
        raise RingsideError(
            "invalid_request",
            "default_max_output_tokens must be between 1 and 1000000, or null.",
            "default_max_output_tokens",
        )
    after = dataclasses.replace(account)
    if auto_create_customers is not None:
        after.auto_create_customers = auto_create_customers
    if markup_bp is not None:
        after.markup_bp = markup_bp
    if prepaid_balance_enabled is not None:
        after.prepaid_balance_enabled = prepaid_balance_enabled
    if low_threshold_pct is not None:
        if not 1 <= low_threshold_pct <= 100:
            raise RingsideError("invalid_request", "low_threshold_pct must be between 1 and 100.", "low_threshold_pct")
        after.low_threshold_pct = low_threshold_pct
    if default_max_output_tokens is not None:
        after.default_max_output_tokens = default_max_output_tokens or None
    _set_mode_settings(after, principal.livemode, require_customer, bare_model_provider)
    if default_tier is not None:
        tier_id = None
        if default_tier:
            tier = core.state.find_tier(principal.account_id, principal.livemode, default_tier[:200])
            if tier is None:
                raise RingsideError("invalid_request", f"No such tier: '{default_tier[:200]}'.", "default_tier_id")
            tier_id = tier.id
        if principal.livemode:
            after.default_tier_live = tier_id
        else:
            after.default_tier_test = tier_id

    def replace() -> None:
        core.state.accounts[account.id] = after

    await core.writer.write_then_apply([AccountUpdate(after)], replace)
    return after


_PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def _set_mode_settings(
    after: Account, livemode: bool, require_customer: bool | None, bare_model_provider: str | None
) -> None:
    """The settings kept per mode: trying one under a test key never changes live behaviour."""
    if require_customer is not None:
        if livemode:
            after.require_customer_live = require_customer
        else:
            after.require_customer_test = require_customer
    if bare_model_provider is not None:
        if bare_model_provider and not _PROVIDER_ID.match(bare_model_provider):
            raise RingsideError(
                "invalid_request",
                "bare_model_provider must be a provider id (e.g. openai) or null.",
                "bare_model_provider",
            )
        if livemode:
            after.bare_model_provider_live = bare_model_provider or None
        else:
            after.bare_model_provider_test = bare_model_provider or None


MAX_TOP_UP_NANO = 10**15  # 1e6 USD per top-up, as for wallets
CHOSEN_TRANSFER = re.compile(r"tr_[0-9A-Za-z]{24}")  # a sortable id's form (ringside_server/ids.py)
MAX_DESCRIPTION = 500


def prepaid_balance(core: Core, account_id: str) -> int:
    balance = core.state.prepaid.get(account_id)
    return 0 if balance is None else balance.balance_nano


async def top_up_balance(
    core: Core, principal: Principal, account_id: str, amount_nano: int, description: str, chosen_id: str = ""
) -> tuple[Account, str]:
    """The operator funds an account's own prepaid balance (a ledger transfer from its funding);
    under `chosen_id` (the caller's `tr_…`) at most once. → (the account, the transfer's id)."""
    _require_admin(principal)
    account = core.state.accounts.get(account_id)
    if account is None:
        raise RingsideError("not_found", f"No such account: '{account_id}'.", "id")
    if not 1 <= amount_nano <= MAX_TOP_UP_NANO:
        raise RingsideError("invalid_request", "amount_usd must be between 0.000000001 and 1000000.", "amount_usd")
    if len(description) > MAX_DESCRIPTION:
        raise RingsideError(
            "invalid_request", f"description must be at most {MAX_DESCRIPTION} characters.", "description"
        )
    if chosen_id and not CHOSEN_TRANSFER.fullmatch(chosen_id):
        raise RingsideError("invalid_request", "transfer_id must be a tr_ id of 24 characters.", "transfer_id")
    if chosen_id and await _funded(core, account.id, chosen_id, amount_nano):
        return account, chosen_id  # a resend after a cut-off: the first top-up, not a second
    now = core.now()
    transfer = prepaid.top_up(account.id, amount_nano, description, now, period_bounds(now)[0], chosen_id)

    def credit() -> None:
        core.state.prepaid_of(account.id).balance_nano += amount_nano

    try:
        await core.writer.write_then_apply([transfer], credit)
    except IntegrityError:
        if not (chosen_id and await _funded(core, account.id, chosen_id, amount_nano)):
            raise
    return account, transfer.id


async def _funded(core: Core, account_id: str, transfer_id: str, amount_nano: int) -> bool:
    """Whether `transfer_id` is this account's prepaid top-up of `amount_nano` (made before); an id
    naming another transfer is refused."""
    t = TRANSFERS.c

    def find() -> Any:
        with core.engine.connect() as connection:
            return connection.execute(select(t.kind, t.credit, t.amount_nano).where(t.id == transfer_id)).first()

    row = await asyncio.get_running_loop().run_in_executor(None, find)
    if row is None:
        return False
    if (row.kind, row.credit, int(row.amount_nano)) != ("prepaid_topup", ledger.prepaid(account_id), amount_nano):
        raise RingsideError("invalid_request", "This transfer_id names another transfer.", "transfer_id")
    return True
