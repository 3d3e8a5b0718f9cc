"""ringside_server/providers/registry.py: a provider is configured by its SDK's variables, else absent."""

from __future__ import annotations

from ringside_server.providers.catalog.load import load
from ringside_server.providers.registry import reach

ENTRIES = load().providers


def test_a_keyed_provider_needs_its_key_and_uses_its_default_base_url() -> None:
    assert reach(ENTRIES["groq"], {}) is None
    where = reach(ENTRIES["groq"], {"GROQ_API_KEY": "gsk"})
    assert where is not None and (where.base_url, where.api_key) == ("https://api.groq.com/openai/v1", "gsk")


def test_a_base_url_without_a_key_is_a_provider_without_auth() -> None:
    where = reach(ENTRIES["openai"], {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert where is not None and where.api_key is None


def test_local_servers_are_configured_by_their_base_url_and_ollama_host_gains_v1() -> None:
    assert reach(ENTRIES["ollama"], {}) is None
    where = reach(ENTRIES["ollama"], {"OLLAMA_HOST": "http://127.0.0.1:11434"})
    assert where is not None and where.base_url == "http://127.0.0.1:11434/v1"
    assert reach(ENTRIES["vllm"], {"VLLM_BASE_URL": "http://h:8000/v1"}) is not None


def test_azure_takes_its_endpoint_key_and_api_version_from_the_openai_sdk_variables() -> None:
    env = {"AZURE_OPENAI_API_KEY": "k", "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com"}
    where = reach(ENTRIES["azure"], env)
    assert where is not None and where.api_version == "2024-10-21"
    where = reach(ENTRIES["azure"], {**env, "OPENAI_API_VERSION": "2025-04-01-preview"})
    assert where is not None and where.api_version == "2025-04-01-preview"


def test_gemini_reads_the_google_genai_variables_google_api_key_first() -> None:
    assert reach(ENTRIES["gemini"], {}) is None
    where = reach(ENTRIES["gemini"], {"GEMINI_API_KEY": "g", "GOOGLE_API_KEY": "first"})
    assert where is not None and (where.api_key, where.api_version) == ("first", "v1")
    assert where.base_url == "https://generativelanguage.googleapis.com"


def test_cohere_reads_the_cohere_sdk_variables() -> None:
    where = reach(ENTRIES["cohere"], {"COHERE_API_KEY": "c"})
    assert where is not None and (where.base_url, where.api_key) == ("https://api.cohere.com", "c")


def test_bedrock_takes_a_bedrock_api_key_or_an_access_key_pair_and_a_region() -> None:
    entry = ENTRIES["bedrock"]
    assert reach(entry, {"AWS_BEARER_TOKEN_BEDROCK": "b"}) is None  # no region, no endpoint
    keyed = reach(entry, {"AWS_BEARER_TOKEN_BEDROCK": "b", "AWS_DEFAULT_REGION": "eu-west-3"})
    assert keyed is not None and (keyed.base_url, keyed.api_key) == (
        "https://bedrock-runtime.eu-west-3.amazonaws.com",
        "b",
    )
    pair = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-west-2"}
    signed = reach(entry, pair)
    assert signed is not None and signed.api_key is None and signed.access_key == "AKID"  # type: ignore[attr-defined]


def test_nineteen_providers_besides_the_test_model_ship_in_the_catalog() -> None:
    assert len(set(ENTRIES) - {"ringside"}) >= 19
