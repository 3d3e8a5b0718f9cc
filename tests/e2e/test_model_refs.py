"""Model refs end to end with the real OpenAI SDK: match: and fc: refs, GET /v1/models, the
operator's providers file, a provider without credentials."""

from __future__ import annotations

import pathlib
import signal
from collections.abc import Iterator

import openai
import pytest

from tests.harness import FakeUpstream, Stack, wait_until


@pytest.fixture(scope="module")
def refs_stack(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("refs")
    providers_file = work / "providers.yaml"
    providers_file.write_text(
        "providers:\n"
        "  - id: second-openai\n"
        "    kind: openai\n"
        f"    base_url: {upstream.base_url}\n"
        "    key_env: SECOND_OPENAI_KEY\n"
        "    models:\n"
        '      gpt-4o-mini: {family: mini, version: "4", input: "1", output: "2", max_output_tokens: 1000}\n'
    )
    env = {"RINGSIDE_PROVIDERS_FILE": str(providers_file), "SECOND_OPENAI_KEY": upstream.api_key}
    stack = Stack("sqlite", work / "data", upstream, extra_env=env).start()
    yield stack
    stack.destroy()


def client(stack: Stack, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key, max_retries=0)


def test_a_match_ref_is_served_by_the_newest_model_of_its_family(refs_stack: Stack) -> None:
    raw = client(refs_stack, refs_stack.live_key).chat.completions.with_raw_response.create(
        model="match:openai/gpt-mini>=4", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-ringside-model-resolved"] == "fc:openai/gpt-5-mini"
    assert raw.parse().choices[0].message.content
    assert refs_stack.upstream is not None
    assert refs_stack.upstream.requests()[-1]["body"]["model"] == "gpt-5-mini"


def test_the_operator_file_adds_a_provider_reached_with_its_own_key(refs_stack: Stack) -> None:
    raw = client(refs_stack, refs_stack.live_key).chat.completions.with_raw_response.create(
        model="match:second-openai/mini>=4", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-ringside-model-resolved"] == "fc:second-openai/gpt-4o-mini"


def test_models_lists_refs_of_configured_providers_only_in_openai_shape(refs_stack: Stack) -> None:
    live = client(refs_stack, refs_stack.live_key).models.list()
    ids = {model.id for model in live.data}
    assert {"fc:openai/gpt-4o-mini", "fc:second-openai/gpt-4o-mini", "match:openai/gpt>=5", "fc:ringside/test"} <= ids
    assert not any(i.startswith(("fc:anthropic/", "match:anthropic/")) for i in ids)  # no key configured
    test = {model.id for model in client(refs_stack, refs_stack.test_key).models.list().data}
    assert "match:anthropic/sonnet>=5" in test and "fc:groq/openai/gpt-oss-120b" in test


def test_a_provider_without_credentials_is_503_and_bad_refs_are_400(refs_stack: Stack) -> None:
    live = client(refs_stack, refs_stack.live_key)
    with pytest.raises(openai.APIStatusError) as unavailable:
        live.chat.completions.create(model="match:anthropic/sonnet>=4", messages=[{"role": "user", "content": "x"}])
    assert unavailable.value.status_code == 503
    assert unavailable.value.body["code"] == "model_unavailable"  # type: ignore[index]
    for bad in ("claude-sonnet-4-5", "match:anthropic/sonnet", "match:anthropic/sonnet>=99"):
        with pytest.raises(openai.BadRequestError) as invalid:
            live.chat.completions.create(model=bad, messages=[{"role": "user", "content": "x"}])
        assert invalid.value.body["code"] == "invalid_model_ref"  # type: ignore[index]
        # a bare name's message names the refs that carry it and the setting that accepts it
        fix = "fc:anthropic/claude-sonnet-4-5" if ":" not in bad else "match:<provider>/<family>>=<major>"
        assert fix in invalid.value.body["message"]  # type: ignore[index]


def test_a_test_key_calls_any_match_ref_on_the_test_model(refs_stack: Stack) -> None:
    raw = client(refs_stack, refs_stack.test_key).chat.completions.with_raw_response.create(
        model="match:anthropic/haiku>=4", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-ringside-model-resolved"].startswith("fc:anthropic/claude-haiku-")


def test_a_slot_may_hold_a_match_selector(refs_stack: Stack, tmp_path: pathlib.Path) -> None:
    created = refs_stack.call(
        "POST", "/v1/slots", refs_stack.live_key, {"name": "fast", "model": "match:openai/gpt-nano>=4"}
    )
    assert created.status == 201, created.body
    assert created.json()["model"] == "match:openai/gpt-nano>=4"
    raw = client(refs_stack, refs_stack.live_key).chat.completions.with_raw_response.create(
        model="slot:fast", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-ringside-model-resolved"] == "fc:openai/gpt-5-nano"
    listed = {model.id: model.owned_by for model in client(refs_stack, refs_stack.live_key).models.list().data}
    assert listed["slot:fast"] == "slot"


def test_match_rolls_forward_when_the_catalog_gains_a_version_on_sighup(refs_stack: Stack) -> None:
    """Last in this module: it changes the stack's catalog."""
    live = client(refs_stack, refs_stack.live_key)

    def resolved() -> str:
        raw = live.chat.completions.with_raw_response.create(
            model="match:openai/gpt>=5", messages=[{"role": "user", "content": "hi"}]
        )
        return str(raw.headers["x-ringside-model-resolved"])

    assert resolved() == "fc:openai/gpt-5"
    providers_file = pathlib.Path(refs_stack.env["RINGSIDE_PROVIDERS_FILE"])
    providers_file.write_text(
        providers_file.read_text()
        + "  - id: openai\n"
        + "    models:\n"
        + '      gpt-9: {family: gpt, version: "9", input: "1", output: "2", max_output_tokens: 1000}\n'
    )
    assert refs_stack.edge is not None
    refs_stack.edge.send_signal(signal.SIGHUP)
    wait_until(lambda: resolved() == "fc:openai/gpt-9", 10, "the edge to reload its catalog")
    assert refs_stack.upstream is not None and refs_stack.upstream.requests()[-1]["body"]["model"] == "gpt-9"
    ids = {model.id for model in live.models.list().data}
    assert {"match:openai/gpt>=9", "fc:openai/gpt-9", "fc:openai/gpt-5", "fc:second-openai/gpt-4o-mini"} <= ids
    # a file that does not load leaves the catalog as it was
    providers_file.write_text("providers: [oops\n")
    refs_stack.edge.send_signal(signal.SIGHUP)
    wait_until(lambda: "catalog not reloaded" in refs_stack.log("edge"), 10, "the edge to refuse the bad file")
    assert resolved() == "fc:openai/gpt-9"
