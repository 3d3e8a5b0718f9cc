"""Which providers this installation can call: each catalog provider whose credentials are in the
environment (its SDK's variables) or whose base URL the operator gave. A provider left out is
simply absent: calling one of its models is 503 `model_unavailable`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from edge_http.providers.anthropic.provider import AnthropicProvider
from edge_http.providers.base import Provider
from edge_http.providers.catalog.load import CatalogModel, ProviderEntry
from edge_http.providers.cohere.provider import CohereProvider
from edge_http.providers.gemini.provider import GeminiProvider
from edge_http.providers.openai_compat import OpenAICompatProvider


@dataclass(frozen=True, slots=True)
class Reach:
    base_url: str
    api_key: str | None
    api_version: str = ""


def reach(entry: ProviderEntry, environment: Mapping[str, str]) -> Reach | None:
    """Where and how to call `entry`, or None when it is not configured.

    Configured = its key variable is set, or a base URL was given (its variable, or the providers
    file's `base_url` with no shipped default): a base URL without a key is a provider without auth.
    """
    connection = entry.connection
    if connection.kind == "test":
        return None
    # `key_env` may name several variables, the first set wins (GOOGLE_API_KEY,GEMINI_API_KEY)
    names = [name.strip() for name in connection.key_env.split(",") if name.strip()]
    key = next((environment[name] for name in names if environment.get(name)), None)
    given_url = environment.get(connection.base_url_env, "") if connection.base_url_env else ""
    if given_url and connection.base_url_path and not given_url.rstrip("/").endswith(connection.base_url_path):
        given_url = given_url.rstrip("/") + connection.base_url_path
    base_url = given_url or connection.base_url
    if not base_url or not (key or given_url or not connection.key_env):
        return None
    api_version = ""
    if connection.kind in ("azure", "gemini"):
        api_version = environment.get(connection.api_version_env, "") or connection.api_version
    return Reach(base_url, key or None, api_version)


def build_providers(
    entries: Mapping[str, ProviderEntry],
    models: Mapping[str, CatalogModel],
    environment: Mapping[str, str],
    session: aiohttp.ClientSession,
    timeout_s: float,
    connect_timeout_s: float,
) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    for entry in entries.values():
        where = reach(entry, environment)
        if where is None:
            continue
        kind = entry.connection.kind
        http = OpenAICompatProvider(
            entry.id,
            where.base_url,
            where.api_key if kind != "gemini" else None,
            session,
            timeout_s,
            connect_timeout_s,
            api_version=where.api_version if kind == "azure" else "",
            deployments=entry.connection.deployments,
        )
        if kind == "cohere":
            providers[entry.id] = CohereProvider(http, where.base_url)
        elif kind == "gemini":
            providers[entry.id] = GeminiProvider(http, where.base_url, where.api_key, where.api_version)
        elif kind == "anthropic":
            limits = {m.name: m.max_output_tokens for m in models.values() if m.provider == entry.id}
            providers[entry.id] = AnthropicProvider(http, where.base_url, limits)
        else:
            providers[entry.id] = http
    return providers
