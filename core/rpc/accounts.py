"""AccountsService (operator) and ApiKeysService (an account's keys)."""

from __future__ import annotations

from core.domain.entities import Account
from core.rpc.auth import Authenticator
from core.rpc.base import Base, Context, rpc
from core.rpc.convert import account_to, key_to, model_list_from
from core.rpc.fanout import ask_peers, local_only, merge_pages
from core.services import accounts
from core.services.core import Core
from core.services.pages import DEFAULT_LIMIT
from ringside.core.v1 import accounts_pb2, accounts_pb2_grpc, keys_pb2, keys_pb2_grpc

MAX_TRANSFER_ID = 80


def _settings(account: Account, livemode: bool, prepaid_balance_nano: int) -> accounts_pb2.AccountSettings:
    return accounts_pb2.AccountSettings(
        prepaid_balance_enabled=account.prepaid_balance_enabled,
        prepaid_balance_nano_usd=prepaid_balance_nano,
        low_threshold_pct=account.low_threshold_pct,
        account_id=account.id,
        auto_create_customers=account.auto_create_customers,
        markup_bp=account.markup_bp,
        default_max_output_tokens=account.default_max_output_tokens or 0,
        default_tier_id=account.default_tier(livemode) or "",
        require_customer=account.require_customer(livemode),
        bare_model_provider=account.bare_model_provider(livemode) or "",
    )


class AccountSettingsMixin:
    core: Core
    auth: Authenticator

    @rpc
    async def GetAccountSettings(
        self, request: accounts_pb2.GetAccountSettingsRequest, context: Context
    ) -> accounts_pb2.GetAccountSettingsResponse:
        principal = self.auth.principal(context)
        account = accounts.account_settings(self.core, principal)
        balance = accounts.prepaid_balance(self.core, account.id)
        return accounts_pb2.GetAccountSettingsResponse(settings=_settings(account, principal.livemode, balance))

    @rpc
    async def UpdateAccountSettings(
        self, request: accounts_pb2.UpdateAccountSettingsRequest, context: Context
    ) -> accounts_pb2.UpdateAccountSettingsResponse:
        principal = self.auth.principal(context)
        account = await accounts.update_account_settings(
            self.core,
            principal,
            request.auto_create_customers if request.HasField("auto_create_customers") else None,
            request.markup_bp if request.HasField("markup_bp") else None,
            request.default_max_output_tokens if request.HasField("default_max_output_tokens") else None,
            request.default_tier if request.HasField("default_tier") else None,
            request.prepaid_balance_enabled if request.HasField("prepaid_balance_enabled") else None,
            request.low_threshold_pct if request.HasField("low_threshold_pct") else None,
            request.require_customer if request.HasField("require_customer") else None,
            request.bare_model_provider[:100] if request.HasField("bare_model_provider") else None,
        )
        balance = accounts.prepaid_balance(self.core, account.id)
        return accounts_pb2.UpdateAccountSettingsResponse(settings=_settings(account, principal.livemode, balance))

    @rpc
    async def TopUpAccountBalance(
        self, request: accounts_pb2.TopUpAccountBalanceRequest, context: Context
    ) -> accounts_pb2.TopUpAccountBalanceResponse:
        account, transfer_id = await accounts.top_up_balance(
            self.core,
            self.auth.principal(context),
            request.account_id[:64],
            request.amount_nano_usd,
            request.description,
            request.transfer_id[:MAX_TRANSFER_ID],
        )
        balance = accounts.prepaid_balance(self.core, account.id)
        return accounts_pb2.TopUpAccountBalanceResponse(account=account_to(account, balance), transfer_id=transfer_id)


LIST_ACCOUNTS = "/ringside.core.v1.AccountsService/ListAccounts"


class AccountsServicer(AccountSettingsMixin, Base, accounts_pb2_grpc.AccountsServiceServicer):
    @rpc
    async def CreateAccount(
        self, request: accounts_pb2.CreateAccountRequest, context: Context
    ) -> accounts_pb2.CreateAccountResponse:
        new = await accounts.create_account(self.core, self.auth.principal(context), request.name)
        return accounts_pb2.CreateAccountResponse(
            account=account_to(new.account),
            live_key=key_to(new.live_key.key, new.live_key.secret),
            test_key=key_to(new.test_key.key, new.test_key.secret),
        )

    @rpc
    async def ListAccounts(
        self, request: accounts_pb2.ListAccountsRequest, context: Context
    ) -> accounts_pb2.ListAccountsResponse:
        local = local_only(self.core, context)
        items, has_more = accounts.list_accounts(
            self.core,
            self.auth.principal(context, local_admin=local),
            request.page.limit,
            request.page.starting_after,
            request.page.ending_before,
        )
        found = [account_to(a, accounts.prepaid_balance(self.core, a.id)) for a in items]
        if local:
            return accounts_pb2.ListAccountsResponse(accounts=found, has_more=has_more)
        # Several active cores: each lists its own accounts around the cursor; the page of the union.
        others = await ask_peers(
            self.core, context, LIST_ACCOUNTS, request, accounts_pb2.ListAccountsResponse.FromString
        )
        pages = [(found, has_more), *((list(o.accounts), o.has_more) for o in others)]
        merged, more = merge_pages(
            pages, lambda a: a.id, request.page.limit or DEFAULT_LIMIT, bool(request.page.ending_before)
        )
        return accounts_pb2.ListAccountsResponse(accounts=merged, has_more=more)


class ApiKeysServicer(Base, keys_pb2_grpc.ApiKeysServiceServicer):
    @rpc
    async def CreateApiKey(
        self, request: keys_pb2.CreateApiKeyRequest, context: Context
    ) -> keys_pb2.CreateApiKeyResponse:
        new = await accounts.create_key(
            self.core,
            self.auth.principal(context),
            request.livemode,
            list(request.scopes),
            request.name,
            model_list_from(request.allowed_models) if request.HasField("allowed_models") else None,
        )
        return keys_pb2.CreateApiKeyResponse(api_key=key_to(new.key, new.secret))

    @rpc
    async def ListApiKeys(self, request: keys_pb2.ListApiKeysRequest, context: Context) -> keys_pb2.ListApiKeysResponse:
        items, has_more = accounts.list_keys(
            self.core,
            self.auth.principal(context),
            request.page.limit,
            request.page.starting_after,
            request.page.ending_before,
        )
        return keys_pb2.ListApiKeysResponse(api_keys=[key_to(k) for k in items], has_more=has_more)

    @rpc
    async def DeleteApiKey(
        self, request: keys_pb2.DeleteApiKeyRequest, context: Context
    ) -> keys_pb2.DeleteApiKeyResponse:
        key = await accounts.delete_key(self.core, self.auth.principal(context), request.id)
        return keys_pb2.DeleteApiKeyResponse(id=key.id)

    @rpc
    async def VerifyApiKey(
        self, request: keys_pb2.VerifyApiKeyRequest, context: Context
    ) -> keys_pb2.VerifyApiKeyResponse:
        self.auth.internal(context)
        key = accounts.verify_key(self.core, request.api_key)
        return keys_pb2.VerifyApiKeyResponse(
            key_id=key.id, account_id=key.account_id, livemode=key.livemode, scopes=sorted(key.scopes)
        )
