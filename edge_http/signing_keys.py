"""The core's public keys for Client Tokens, cached on the edge: a token naming a kid not seen yet
(a rotation) makes the edge ask the core again, at most once a second (a request with an unknown kid
waits for the next fetch rather than being refused: right after a rotation its key is real)."""

from __future__ import annotations

import asyncio
import time

from ringside.core.v1 import client_tokens_pb2
from ringside_server.client_token import SigningKey
from ringside_server.core_client import CoreClient

KEY_REFRESH_MIN_S = 1.0


class SigningKeys:
    """The core's public keys, refreshed when a token names a kid not seen yet (rotation)."""

    def __init__(self) -> None:
        self.keys: dict[str, SigningKey] = {}
        self._fetched_at = -KEY_REFRESH_MIN_S
        self._fetching = asyncio.Lock()

    async def get(self, core: CoreClient, kid: str) -> dict[str, SigningKey]:
        if kid in self.keys:
            return self.keys
        async with self._fetching:  # one fetch at a time; those waiting see its result
            if kid in self.keys:
                return self.keys
            await asyncio.sleep(max(0.0, self._fetched_at + KEY_REFRESH_MIN_S - time.monotonic()))
            self._fetched_at = time.monotonic()
            response = await core.internal(
                core.client_tokens.ListSigningKeys, client_tokens_pb2.ListSigningKeysRequest()
            )
            self.keys = {
                k.kid: SigningKey(k.kid, "", k.public_key_b64, k.created, k.retired_at or None) for k in response.keys
            }
        return self.keys
