"""Every shipped provider configured at once (each pointed at a local fake of its wire format):
GET /v1/models shows ≥ 19 providers' models, and a call to each one's first chat model is served
by that provider with its own credentials (the real OpenAI SDK on the client side)."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from ringside_server.providers.catalog.load import load
from tests.harness import FakeProvider, FakeUpstream, Stack

CATALOG = load()
# provider → (key variable, base URL variable) of the OpenAI-compatible family
COMPATIBLE = {
    entry.id: (entry.connection.key_env, entry.connection.base_url_env)
    for entry in CATALOG.providers.values()
    if entry.connection.kind == "openai"
}


def first_chat_model(provider: str) -> str:
    return next(m.name for m in CATALOG.models.values() if m.provider == provider and m.kind == "chat")


@pytest.fixture(scope="module")
def every_provider(
    tmp_path_factory: pytest.TempPathFactory,
    upstream: FakeUpstream,
    anthropic: FakeProvider,
    gemini: FakeProvider,
    cohere: FakeProvider,
    bedrock: FakeProvider,
) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("providers")
    env = {"ANTHROPIC_API_KEY": anthropic.api_key, "ANTHROPIC_BASE_URL": anthropic.base_url}
    env.update({"GOOGLE_API_KEY": gemini.api_key, "GOOGLE_GEMINI_BASE_URL": gemini.base_url})
    env.update({"CO_API_KEY": cohere.api_key, "CO_API_URL": cohere.base_url})
    env.update({"AWS_BEARER_TOKEN_BEDROCK": bedrock.api_key, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.base_url})
    for key_env, base_url_env in COMPATIBLE.values():
        env[key_env] = upstream.api_key
        env[base_url_env] = upstream.base_url
    env["OLLAMA_HOST"] = upstream.base_url.removesuffix("/v1")  # the ollama SDK's form: no /v1
    env["AZURE_OPENAI_API_KEY"] = upstream.api_key
    env["AZURE_OPENAI_ENDPOINT"] = upstream.base_url.removesuffix("/v1")
    providers_file = work / "providers.yaml"
    providers_file.write_text(
        "providers:\n  - id: azure\n    deployments: {gpt-4o-mini: prod-mini}\n    responses: native\n"
    )
    env["RINGSIDE_PROVIDERS_FILE"] = str(providers_file)
    stack = Stack("sqlite", work / "data", upstream, extra_env=env).start()
    yield stack
    stack.destroy()


def test_models_shows_at_least_nineteen_providers_when_configured(every_provider: Stack) -> None:
    sdk = openai.OpenAI(base_url=every_provider.base_url + "/v1", api_key=every_provider.live_key, max_retries=0)
    owners = {model.owned_by for model in sdk.models.list().data} - {"ringside"}
    assert len(owners) >= 19, sorted(owners)
    assert owners == set(CATALOG.providers) - {"ringside"}


@pytest.mark.parametrize("provider", sorted(COMPATIBLE))
def test_each_openai_compatible_provider_is_called_with_its_own_model_name(
    every_provider: Stack, upstream: FakeUpstream, provider: str
) -> None:
    sdk = openai.OpenAI(base_url=every_provider.base_url + "/v1", api_key=every_provider.live_key, max_retries=0)
    model = first_chat_model(provider)
    raw = sdk.chat.completions.with_raw_response.create(
        model=f"fc:{provider}/{model}", messages=[{"role": "user", "content": f"hello {provider}"}]
    )
    assert raw.headers["x-ringside-model-resolved"] == f"fc:{provider}/{model}"
    assert raw.parse().choices[0].message.content
    seen = upstream.requests()[-1]
    assert seen["body"]["model"] == model and seen["headers"]["Authorization"] == f"Bearer {upstream.api_key}"


def test_azure_calls_the_deployment_with_its_api_version_and_api_key_header(
    every_provider: Stack, upstream: FakeUpstream
) -> None:
    sdk = openai.OpenAI(base_url=every_provider.base_url + "/v1", api_key=every_provider.live_key, max_retries=0)
    for model, deployment in (("gpt-4o-mini", "prod-mini"), ("gpt-4.1", "gpt-4.1")):
        stream = sdk.chat.completions.create(
            model=f"fc:azure/{model}", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        seen = upstream.requests()[-1]
        assert (
            seen["headers"]["x-fake-path"]
            == f"/openai/deployments/{deployment}/chat/completions?api-version=2024-10-21"
        )
        assert seen["headers"]["api-key"] == upstream.api_key and "Authorization" not in seen["headers"]


def test_azure_relays_responses_on_its_v1_route(every_provider: Stack, upstream: FakeUpstream) -> None:
    """`responses: native` on an Azure entry: the Responses API relayed to `/openai/v1/responses`,
    the deployment as the model, metered from its usage."""
    sdk = openai.OpenAI(base_url=every_provider.base_url + "/v1", api_key=every_provider.live_key, max_retries=0)
    answer = sdk.responses.create(model="fc:azure/gpt-4o-mini", input="hi (azure responses)")
    assert answer.id.startswith("resp_") and answer.output_text and answer.usage is not None
    seen = upstream.requests()[-1]
    assert seen["headers"]["x-fake-path"] == "/openai/v1/responses"
    assert seen["body"]["model"] == "prod-mini" and seen["body"]["store"] is False
    assert seen["headers"]["api-key"] == upstream.api_key and "Authorization" not in seen["headers"]
    with sdk.responses.stream(model="fc:azure/gpt-4.1", input="stream (azure responses)") as stream:
        final = stream.get_final_response()
    assert final.status == "completed" and final.output_text
    assert upstream.requests()[-1]["body"]["model"] == "gpt-4.1"
    assert sdk.responses.retrieve(final.id).output_text == final.output_text  # stored as Ringside's


@pytest.mark.parametrize(
    "ref",
    ["match:anthropic/haiku>=4", "match:gemini/flash>=2", "match:cohere/command-a>=1", "match:bedrock/nova-pro>=1"],
)
def test_the_native_providers_are_served_in_the_same_namespace(every_provider: Stack, ref: str) -> None:
    sdk = openai.OpenAI(base_url=every_provider.base_url + "/v1", api_key=every_provider.live_key, max_retries=0)
    raw = sdk.chat.completions.with_raw_response.create(model=ref, messages=[{"role": "user", "content": "hi"}])
    assert raw.parse().choices[0].message.content
    assert raw.headers["x-ringside-model-resolved"].startswith(ref.split("/")[0].replace("match:", "fc:"))
