"""ClientTokensService: mint, revoke, and Ringside's signing keys."""

from __future__ import annotations

from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.services import client_tokens
from ringside.core.v1 import client_tokens_pb2, client_tokens_pb2_grpc
from ringside_server.client_token import SigningKey


def _public(key: SigningKey) -> client_tokens_pb2.SigningPublicKey:
    return client_tokens_pb2.SigningPublicKey(
        kid=key.kid, public_key_b64=key.public_raw_b64, created=key.created, retired_at=key.retired_at or 0
    )


class ClientTokensServicer(Base, client_tokens_pb2_grpc.ClientTokensServiceServicer):
    @rpc
    async def CreateClientToken(
        self, request: client_tokens_pb2.CreateClientTokenRequest, context: Context
    ) -> client_tokens_pb2.CreateClientTokenResponse:
        minted = await client_tokens.mint(
            self.core,
            self.auth.principal(context),
            request.customer_id[:MAX_PROTO_STRING],
            request.ttl_seconds,
            request.origin[:1000],
            request.ip[:100],
            [entry[:1000] for entry in request.allowed_endpoints[:1000]],
        )
        claims = minted.claims
        return client_tokens_pb2.CreateClientTokenResponse(
            token=minted.token,
            id=claims.jti,
            customer_id=claims.customer_id,
            expires_at=claims.expires_at,
            created=claims.issued_at,
            allowed_endpoints=list(claims.endpoints),
            origin=claims.origin,
            ip=claims.ip,
        )

    @rpc
    async def RevokeClientTokens(
        self, request: client_tokens_pb2.RevokeClientTokensRequest, context: Context
    ) -> client_tokens_pb2.RevokeClientTokensResponse:
        before = await client_tokens.revoke_all(
            self.core, self.auth.principal(context), request.customer_id[:MAX_PROTO_STRING]
        )
        return client_tokens_pb2.RevokeClientTokensResponse(revoked_before_ms=before)

    @rpc
    async def ListSigningKeys(
        self, request: client_tokens_pb2.ListSigningKeysRequest, context: Context
    ) -> client_tokens_pb2.ListSigningKeysResponse:
        self.auth.internal(context)
        keys = [_public(k) for k in client_tokens.public_keys(self.core)]
        return client_tokens_pb2.ListSigningKeysResponse(keys=keys)

    @rpc
    async def RotateSigningKey(
        self, request: client_tokens_pb2.RotateSigningKeyRequest, context: Context
    ) -> client_tokens_pb2.RotateSigningKeyResponse:
        key = await client_tokens.rotate(self.core, self.auth.principal(context))
        return client_tokens_pb2.RotateSigningKeyResponse(key=_public(key))
