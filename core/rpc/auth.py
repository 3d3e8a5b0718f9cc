"""Who is calling the core: `authorization: Bearer sk_…` (an account), the admin key, or the
internal token (`x-ringside-internal`) that the edge and the worker use."""

from __future__ import annotations

import hmac

import grpc

from core.services import client_tokens
from core.services.core import Core, Principal
from core.services.ownership import ACCOUNT_KEY
from ringside_server.errors import RingsideError

INTERNAL_KEY = "x-ringside-internal"
END_RUN_KEY = "x-ringside-end-run"  # with `Key …`: a run's worker ending a run whose key was revoked


class Authenticator:
    def __init__(self, core: Core, internal_token: str, admin_key: str | None) -> None:
        self._core = core
        self._internal = internal_token.encode()
        self._admin = admin_key.encode() if admin_key else None

    @staticmethod
    def _header(context: grpc.aio.ServicerContext, name: str) -> str:
        """One metadata value ('' when absent; the last one when repeated), found without building
        a dict of them all: this runs on every call (each lease report among them)."""
        found = ""
        for key, value in context.invocation_metadata() or ():
            if key == name and isinstance(value, str):
                found = value
        return found

    def internal(self, context: grpc.aio.ServicerContext) -> None:
        """Require the internal token (edge and worker only). A call naming its account
        (`x-ringside-account`) is answered "not owner" by a core that does not serve it."""
        token = self._header(context, INTERNAL_KEY).encode()
        if not hmac.compare_digest(token, self._internal):
            raise RingsideError("invalid_api_key", "This method is for Ringside's own roles.")
        if self._core.ownership.serving is not None:
            account_id = self._header(context, ACCOUNT_KEY)
            if account_id:
                self._core.ownership.check_account(account_id[:200])

    def principal(self, context: grpc.aio.ServicerContext, local_admin: bool = False) -> Principal:
        """The account key (or admin key) in `authorization`. `local_admin`: the operator's list
        forwarded by another core (core/rpc/fanout.py), answered by whichever core it reaches."""
        header = self._header(context, "authorization")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() == "client" and secret:  # a browser's Client Token: its customer, read-only
            principal = client_tokens.principal_of(self._core, secret.strip())
            self._core.ownership.check_account(principal.account_id)
            return principal
        if scheme.lower() == "key" and secret:  # a role acting for a key (a run's worker): internal only
            return self._on_behalf_of(context, secret.strip())
        if scheme.lower() != "bearer" or not secret:
            raise RingsideError("invalid_api_key", "Send 'authorization: Bearer <key>'.")
        if self._admin is not None and hmac.compare_digest(secret.encode(), self._admin):
            if not local_admin:
                self._core.ownership.check_system()  # the operator's calls: the system partition's owner
            return Principal(admin=True)
        key = self._core.meter.authenticate(secret)
        if key is None:
            raise RingsideError("invalid_api_key", "Invalid API key provided.")
        return Principal(account_id=key.account_id, livemode=key.livemode, scopes=key.scopes, key_id=key.id)

    def counted_as(self, header: str) -> Principal | None:
        """Who a request counts as against the rate limits (API.md "Rate limits"): the account of
        a good key or Client Token; None for anything else (the operator's admin key, a bad or
        missing credential, `Key …`, which only Ringside's roles may send): its IP only."""
        scheme, _, secret = header.partition(" ")
        secret = secret.strip()
        if not secret or scheme.lower() not in ("bearer", "client"):
            return None
        try:
            if scheme.lower() == "client":
                return client_tokens.principal_of(self._core, secret)
        except RingsideError:
            return None
        if self._admin is not None and hmac.compare_digest(secret.encode(), self._admin):
            return None
        key = self._core.meter.authenticate(secret)
        if key is None or key.revoked_at is not None:
            return None
        return Principal(account_id=key.account_id, livemode=key.livemode, scopes=key.scopes, key_id=key.id)

    def _on_behalf_of(self, context: grpc.aio.ServicerContext, key_id: str) -> Principal:
        """`Key key_…` with the internal token: the work a key started (an Assistants run), done
        later by a worker that never saw the secret — as that key, while it is not revoked."""
        self.internal(context)
        key = self._core.meter.key_by_id(key_id[:64])
        ending = self._header(context, END_RUN_KEY) == "1"
        if key is None or (key.revoked_at is not None and not ending):
            raise RingsideError("invalid_api_key", "The key this work was started with is revoked.")
        return Principal(
            account_id=key.account_id,
            livemode=key.livemode,
            scopes=key.scopes,
            key_id=key.id,
            key_revoked=key.revoked_at is not None,  # may then only end its run (services/assistants.py)
        )
