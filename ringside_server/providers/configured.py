"""The catalog and the providers configured to serve it, built alike by every role that makes
model calls (the edge; the worker, for batches' lines and Assistants runs; the rag role, for ingest
with a non-local embedding model)."""

from __future__ import annotations

import aiohttp

from ringside_server.providers.base import Provider
from ringside_server.providers.catalog.load import load
from ringside_server.providers.local import LOCAL_PROVIDER
from ringside_server.providers.refs import Refs
from ringside_server.providers.registry import build_providers
from ringside_server.settings import Settings


def models_and_providers(
    settings: Settings, session: aiohttp.ClientSession, local: Provider | None
) -> tuple[Refs, dict[str, Provider]]:
    """The catalog (shipped + RINGSIDE_PROVIDERS_FILE) and the providers configured to serve it: those
    the environment configures, and the rag role's local models (always: `ringside up` runs it)."""
    catalog = load(operator_file=settings.providers_file)
    providers = build_providers(
        catalog.providers,
        catalog.models,
        settings.environment,
        session,
        settings.upstream_timeout_s,
        settings.upstream_connect_timeout_s,
    )
    if local is not None:
        providers[LOCAL_PROVIDER] = local
    return Refs.of(catalog), providers
