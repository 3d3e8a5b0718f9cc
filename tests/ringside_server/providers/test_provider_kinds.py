"""ringside_server/providers/registry.py KINDS: one table says which routes each provider kind serves;
every route it claims has its method, and a route not served is refused naming what is."""

from __future__ import annotations

from typing import get_args

import pytest

from ringside_server.errors import RingsideError
from ringside_server.providers.anthropic.provider import AnthropicProvider
from ringside_server.providers.bedrock.provider import BedrockProvider
from ringside_server.providers.capabilities import METHODS
from ringside_server.providers.catalog.load import ConnectionKind
from ringside_server.providers.cohere.provider import CohereProvider
from ringside_server.providers.gemini.provider import GeminiProvider
from ringside_server.providers.local import LocalProvider
from ringside_server.providers.openai_compat import OpenAICompatProvider
from ringside_server.providers.registry import KINDS, require
from ringside_server.providers.test_model import TestModelProvider

CLASSES = {
    "openai": OpenAICompatProvider,
    "azure": OpenAICompatProvider,
    "test": TestModelProvider,
    "anthropic": AnthropicProvider,
    "gemini": GeminiProvider,
    "cohere": CohereProvider,
    "bedrock": BedrockProvider,
    "local": LocalProvider,
}


def test_every_connection_kind_has_a_row_and_serves_chat_but_the_local_embedding_models() -> None:
    assert set(KINDS) == set(get_args(ConnectionKind)) == set(CLASSES)
    assert all(kind.routes.get("chat") for name, kind in KINDS.items() if name != "local")
    assert dict(KINDS["local"].routes) == {"embeddings": "native"}
    with pytest.raises(RingsideError) as refused:
        require("local", "local", "chat")
    assert refused.value.message == "Provider 'local' does not serve chat; it serves: embeddings (native)."


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_every_route_a_kind_claims_has_its_method(kind: ConnectionKind) -> None:
    for route in KINDS[kind].routes:
        assert callable(getattr(CLASSES[kind], METHODS[route], None)), (kind, route)


def test_openai_compatible_providers_serve_moderations_natively_and_others_not_at_all() -> None:
    assert require("openai", "openai", "moderations") == "native"
    assert require("azure", "azure", "embeddings") == "native"
    with pytest.raises(RingsideError) as refused:
        require("gemini", "gemini", "moderations")
    error = refused.value
    assert (error.code, error.status, error.param) == ("route_not_supported", 400, "model")
    assert error.message == (
        "Provider 'gemini' does not serve moderations; it serves: chat (translated), messages (translated)."
    )
