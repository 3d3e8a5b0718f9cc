"""Ledger account names. A ledger account is a string; every transfer debits one and credits one.

Per tenant (account + mode): revenue (credited by usage), unattributed (debited by calls with no
customer), provider_cost / provider:<id> (the provider's cost of each call). Per customer: spend
(debited by its calls) or wallet (debited instead, when the prepaid wallet is on). Per account (live
mode): prepaid (its own balance, credited from prepaid_funding by the operator's top-ups, debited
into prepaid_usage by the provider cost of its calls when the prepaid balance is enabled).
"""

from __future__ import annotations

from core.domain.entities import TransferKind, mode_name

# Transfers that move a customer's spend: debits of these kinds, minus corrections credited back.
SPEND_KINDS: tuple[TransferKind, ...] = ("post", "lease_post", "expire")


# A customer's ledger accounts are its id and a suffix (a chunked load names them in SQL: the id
# column concatenated with the suffix, core/store/loader.py `load_customers`).
SPEND_SUFFIX = ":spend"
WALLET_SUFFIX = ":wallet"


def customer_spend(customer_id: str) -> str:
    return customer_id + SPEND_SUFFIX


def customer_wallet(customer_id: str) -> str:
    return customer_id + WALLET_SUFFIX


def unattributed(account_id: str, livemode: bool) -> str:
    return f"{account_id}:{mode_name(livemode)}:unattributed"


def revenue(account_id: str, livemode: bool) -> str:
    return f"{account_id}:{mode_name(livemode)}:revenue"


def provider_cost(account_id: str, livemode: bool) -> str:
    return f"{account_id}:{mode_name(livemode)}:provider_cost"


def provider_payable(account_id: str, livemode: bool, provider: str) -> str:
    return f"{account_id}:{mode_name(livemode)}:provider:{provider}"


def pending_transfer_id(hold_id: str) -> str:
    """The id of a hold's pending transfer, derived from the hold's id (`req_X` → `tr_req_X`), so its
    resolution (post, release or expire) can name it and the database allows one resolution per hold."""
    return "tr_" + hold_id


def wallet_funding(account_id: str, livemode: bool) -> str:
    """Where wallet top-ups come from and adjustments go to."""
    return f"{account_id}:{mode_name(livemode)}:wallet_funding"


def prepaid(account_id: str) -> str:
    return f"{account_id}:live:prepaid"


def prepaid_funding(account_id: str) -> str:
    """Where the operator's top-ups of an account's prepaid balance come from."""
    return f"{account_id}:live:prepaid_funding"


def prepaid_usage(account_id: str) -> str:
    """What an account's calls used of its prepaid balance (their provider cost)."""
    return f"{account_id}:live:prepaid_usage"
