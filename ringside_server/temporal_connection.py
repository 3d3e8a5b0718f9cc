"""How every role reaches Temporal: the embedded dev server by default, or any cluster (self-hosted
with TLS/mTLS, or Temporal Cloud with an API key) from the RINGSIDE_TEMPORAL_* settings.

One place builds the connection so the worker, the rag role's ingest and `ringside billing` all
connect alike; callers pass this dataclass, never the raw settings, to code that only needs Temporal.
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from temporalio.client import Client, Interceptor
from temporalio.service import TLSConfig

if TYPE_CHECKING:
    from ringside_server.settings import Settings


@dataclasses.dataclass(frozen=True)
class TemporalConnection:
    """Where Temporal is and how to authenticate to it."""

    address: str
    namespace: str = "default"
    # TLS to the frontend (implied by client certificates or an API key: Temporal Cloud refuses plain text).
    tls: bool = False
    ca_file: pathlib.Path | None = None  # None: the system's roots
    cert_file: pathlib.Path | None = None  # mTLS: this client's certificate chain (PEM) …
    key_file: pathlib.Path | None = None  # … and its private key (PEM)
    server_name: str | None = None  # the name the server's certificate must carry, when not the host's
    api_key: str | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> TemporalConnection:
        return cls(
            address=settings.resolved_temporal_address,
            namespace=settings.temporal_namespace,
            tls=settings.temporal_tls,
            ca_file=settings.temporal_tls_ca_file,
            cert_file=settings.temporal_tls_cert_file,
            key_file=settings.temporal_tls_key_file,
            server_name=settings.temporal_tls_server_name,
            api_key=settings.temporal_api_key,
        )

    @property
    def uses_tls(self) -> bool:
        return self.tls or self.cert_file is not None or self.api_key is not None or self.ca_file is not None

    def tls_config(self) -> TLSConfig | bool:
        """False for plain text (the dev server); True for the system's roots; else the files read now."""
        if not self.uses_tls:
            return False
        if self.ca_file is None and self.cert_file is None and self.server_name is None:
            return True
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("RINGSIDE_TEMPORAL_TLS_CERT_FILE and RINGSIDE_TEMPORAL_TLS_KEY_FILE go together (mTLS)")
        return TLSConfig(
            server_root_ca_cert=self.ca_file.read_bytes() if self.ca_file else None,
            client_cert=self.cert_file.read_bytes() if self.cert_file else None,
            client_private_key=self.key_file.read_bytes() if self.key_file else None,
            domain=self.server_name,
        )

    async def connect(self, interceptors: Sequence[Interceptor] = ()) -> Client:
        """One attempt (callers that wait for a starting server retry around it)."""
        return await Client.connect(
            self.address,
            namespace=self.namespace,
            tls=self.tls_config(),
            api_key=self.api_key,
            interceptors=interceptors,
        )
