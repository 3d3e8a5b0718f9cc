"""What each kind of provider serves and how it is built (KINDS, one table), and which providers
this installation can call: each catalog provider whose credentials are in the environment (its
SDK's variables) or whose base URL the operator gave. A provider left out is simply absent: calling
one of its models is 503 `model_unavailable`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiohttp

from ringside_server.errors import RingsideError
from ringside_server.providers.anthropic.provider import AnthropicProvider
from ringside_server.providers.base import Provider
from ringside_server.providers.bedrock.provider import BedrockProvider, sigv4_signer
from ringside_server.providers.capabilities import Route, Support
from ringside_server.providers.catalog.load import CatalogModel, ConnectionKind, ProviderEntry
from ringside_server.providers.cohere.provider import CohereProvider
from ringside_server.providers.gemini.provider import GeminiProvider
from ringside_server.providers.openai_compat import OpenAICompatProvider

log = logging.getLogger("ringside.providers")
Models = Mapping[str, CatalogModel]


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
    if connection.kind in ("test", "local"):  # built in, never from the environment
        return None
    if connection.kind == "bedrock":
        return _bedrock_reach(entry, environment)
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


@dataclass(frozen=True, slots=True)
class BedrockReach(Reach):
    region: str = ""
    access_key: str = ""
    secret_key: str = ""
    session_token: str | None = None


def _bedrock_reach(entry: ProviderEntry, environment: Mapping[str, str]) -> BedrockReach | None:
    """boto3's variables: a Bedrock API key, else an access key pair; the region; an endpoint."""
    region = environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION") or ""
    token = environment.get(entry.connection.key_env) if entry.connection.key_env else None
    access_key, secret_key = environment.get("AWS_ACCESS_KEY_ID", ""), environment.get("AWS_SECRET_ACCESS_KEY", "")
    base_url = environment.get(entry.connection.base_url_env, "") if entry.connection.base_url_env else ""
    base_url = base_url or (f"https://bedrock-runtime.{region}.amazonaws.com" if region else "")
    if not base_url or not (token or (access_key and secret_key)):
        return None
    session_token = environment.get("AWS_SESSION_TOKEN") or None
    return BedrockReach(base_url, token, "", region or "us-east-1", access_key, secret_key, session_token)


def _bedrock(http: OpenAICompatProvider, where: BedrockReach) -> BedrockProvider | None:
    if where.api_key:  # a Bedrock API key: a Bearer token, no signing
        return BedrockProvider(http, where.base_url, None)
    try:
        signer = sigv4_signer(where.access_key, where.secret_key, where.session_token, where.region)
    except ImportError:
        log.error("provider bedrock left out: SigV4 needs botocore (pip install 'ringside[bedrock]')")
        return None
    return BedrockProvider(http, where.base_url, signer)


# (its catalog entry, where to reach it, its HTTP client, the catalog) → the provider, or None
Builder = Callable[[ProviderEntry, "Reach", OpenAICompatProvider, Models], Provider | None]


def _bedrock_kind(entry: ProviderEntry, where: Reach, http: OpenAICompatProvider, models: Models) -> Provider | None:
    return _bedrock(http, where) if isinstance(where, BedrockReach) else None


def _anthropic(entry: ProviderEntry, where: Reach, http: OpenAICompatProvider, models: Models) -> Provider:
    limits = {m.name: m.max_output_tokens for m in models.values() if m.provider == entry.id}
    return AnthropicProvider(http, where.base_url, limits)


def _gemini(entry: ProviderEntry, where: Reach, http: OpenAICompatProvider, models: Models) -> Provider:
    return GeminiProvider(http, where.base_url, where.api_key, where.api_version)


def _cohere(entry: ProviderEntry, where: Reach, http: OpenAICompatProvider, models: Models) -> Provider:
    return CohereProvider(http, where.base_url)


def _openai_wire(entry: ProviderEntry, where: Reach, http: OpenAICompatProvider, models: Models) -> Provider:
    return http


@dataclass(frozen=True, slots=True)
class ProviderKind:
    """A connection kind: the routes it serves and how, and how its provider is built (None: never
    built from the environment — the test model is built in)."""

    routes: Mapping[Route, Support]
    build: Builder | None


_OPENAI_WIRE: Mapping[Route, Support] = {
    "chat": "native",
    "embeddings": "native",
    "moderations": "native",
    "images": "native",
    "image_edits": "native",
    "image_variations": "native",
    "speech": "native",
    "transcriptions": "native",
    "translations": "native",
    "messages": "translated",  # Anthropic's Messages ingress: any chat provider serves it translated
}
# OpenAI's own API (and Azure OpenAI's v1 API) also serves Responses; an entry says whether it is
# used (its connection's `responses: native`, openai.yaml's): a chat-only OpenAI-compatible server
# (vLLM…) is sent chat.
_OPENAI: Mapping[Route, Support] = {**_OPENAI_WIRE, "responses": "native"}
_TRANSLATED: Mapping[Route, Support] = {"chat": "translated", "messages": "translated"}
# The one table (API.md "Model calls": a provider declares the routes it serves). `native`: OpenAI's
# wire format, relayed; `translated`: Ringside translates the request and the answer.
KINDS: Mapping[ConnectionKind, ProviderKind] = {
    "openai": ProviderKind(_OPENAI, _openai_wire),
    "azure": ProviderKind(_OPENAI, _openai_wire),  # Responses relayed when its entry says `responses: native`
    "test": ProviderKind(_OPENAI_WIRE, None),  # the built-in test model answers what a live one could
    "local": ProviderKind({"embeddings": "native"}, None),  # the rag role's models (providers/local.py)
    "anthropic": ProviderKind(_TRANSLATED, _anthropic),
    "gemini": ProviderKind(_TRANSLATED, _gemini),
    "cohere": ProviderKind(_TRANSLATED, _cohere),
    "bedrock": ProviderKind(_TRANSLATED, _bedrock_kind),
}


def require(kind: ConnectionKind, provider_id: str, route: Route) -> Support:
    """How `kind` serves `route`; 400 `route_not_supported` (param `model`) when it does not."""
    served = KINDS[kind].routes
    support = served.get(route)
    if support is None:
        can = ", ".join(f"{name} ({how})" for name, how in served.items())
        raise RingsideError(
            "route_not_supported", f"Provider '{provider_id}' does not serve {route}; it serves: {can}.", "model"
        )
    return support


def build_providers(
    entries: Mapping[str, ProviderEntry],
    models: Models,
    environment: Mapping[str, str],
    session: aiohttp.ClientSession,
    timeout_s: float,
    connect_timeout_s: float,
) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    for entry in entries.values():
        where = reach(entry, environment)
        build = KINDS[entry.connection.kind].build
        if where is None or build is None:
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
        provider = build(entry, where, http, models)
        if provider is not None:
            providers[entry.id] = provider
    return providers
