"""Every route of the OpenAPI document, fuzzed by schemathesis against a live edge on SQLite and on
PostgreSQL (issue 15, item 8): no answer is a 5xx, every refusal is the error envelope with the
response's own `x-request-id`, and every answer is one the document describes (its status, content
type and body schema).

Both of schemathesis's modes run: positive (requests the document allows) and negative (requests it
does not: wrong types, missing fields, out-of-range values). CI runs a small number of examples per
operation and mode; RINGSIDE_FUZZ_EXAMPLES asks for more (docs/security.md gives the full run).
The second backend is sent the requests drawn for the first, the same ones.
"""

from __future__ import annotations

import contextlib
import os

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import HypothesisException
from schemathesis import APIOperation, Case, GenerationMode, Response
from schemathesis.checks import FailureGroup
from schemathesis.openapi import from_dict
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from edge_http.openapi.document import load_document
from tests.harness import ADMIN_KEY, Stack

EXAMPLES = int(os.environ.get("RINGSIDE_FUZZ_EXAMPLES", "6"))
ENVELOPE_FIELDS = {"type", "code", "message", "param", "request_id", "retry_after_seconds"}
OWN_BODIES = {"/healthz", "/livez", "/readyz"}  # probes: their 503s have bodies of their own
# /v1/messages* answer errors in Anthropic's shape ({"type": "error", "error": {type, message}}),
# keeping Ringside's code, param (when there is one) and request_id beside them
ANTHROPIC_REQUIRED = {"type", "message", "code", "request_id"}


def problem(path: str, response: Response) -> str | None:
    """What is wrong with one answer, or None."""
    if response.status_code >= 500:
        return f"{response.status_code} {response.text[:300]}"
    if response.status_code < 400 or path in OWN_BODIES:
        return None
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} outside the envelope: {response.text[:300]}"
    if path.startswith("/v1/messages"):
        if response.json().get("type") != "error" or not isinstance(error, dict):
            return f"{response.status_code} outside Anthropic's error shape: {response.text[:300]}"
        if not ANTHROPIC_REQUIRED <= set(error) <= ENVELOPE_FIELDS:
            return f"{response.status_code} Anthropic error fields {sorted(error)}"
    elif not isinstance(error, dict) or set(error) != ENVELOPE_FIELDS:
        return f"{response.status_code} envelope fields {sorted(error) if isinstance(error, dict) else error}"
    if [error["request_id"]] != response.headers.get("x-request-id"):  # header values come as lists
        return f"{response.status_code} request_id {error['request_id']} != x-request-id"
    return None


def conformance(case: Case, response: Response) -> str | None:
    """Whether the answer is one the document describes (status, body schema, content type)."""
    try:
        case.validate_response(response, checks=[response_schema_conformance, content_type_conformance])
    except (AssertionError, FailureGroup) as failure:
        return f"{response.status_code} outside the document: {str(failure)[:300]}"
    return None


# What hypothesis drew for each (method, path, mode) on the first backend: drawing is most of this
# test's time (schemathesis's generation, about nine tenths of it), and what is drawn does not depend
# on the backend, so the second backend gets the very same requests.
Drawn = dict[tuple[str, str, str], list[Case]]


@pytest.fixture(scope="session")
def drawn() -> Drawn:
    return {}


def fuzz_operation(
    stack: Stack,
    session: requests.Session,
    operation: APIOperation,
    mode: GenerationMode,
    key: str,
    cases: list[Case],
    replay: bool,
) -> tuple[int, list[str]]:
    """(requests sent, problems found) for one operation in one generation mode: the `cases`
    again when `replay`, else up to EXAMPLES new ones, recorded into it."""
    sent = 0
    problems: list[str] = []

    def send(case: Case) -> None:
        nonlocal sent
        # the key last: a generated Authorization (the document's Client Token scheme) never
        # replaces it, so every route is fuzzed past authentication
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key}"}
        response = case.call(base_url=stack.base_url, session=session, timeout=60)
        sent += 1
        found = problem(operation.path, response) or conformance(case, response)
        if found:
            problems.append(f"{case.method} {case.formatted_path} ({mode.value}): {found}")

    if replay:
        for case in cases:
            send(case)
        return sent, problems

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Case) -> None:
        cases.append(case)
        send(case)

    with contextlib.suppress(HypothesisException):  # a mode that cannot generate for this operation
        call()
    return sent, problems


def fuzz(stack: Stack, keys: dict[str, str], drawn: Drawn) -> tuple[int, list[str]]:
    """(requests sent, problems found) over every operation, both generation modes."""
    session = requests.Session()
    sent = 0
    problems: list[str] = []
    for result in from_dict(load_document()).get_all_operations():
        operation = result.ok()
        key = ADMIN_KEY if operation.path.startswith("/v1/accounts") else keys["live"]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            drawn_key = (operation.method, operation.path, mode.value)
            replay = drawn_key in drawn  # drawn on the other backend (maybe nothing: a mode that cannot)
            cases = drawn.setdefault(drawn_key, [])
            more_sent, more_problems = fuzz_operation(stack, session, operation, mode, key, cases, replay)
            sent += more_sent
            problems += more_problems
    return sent, problems


@pytest.mark.both_backends  # what PostgreSQL refuses (a NUL, a bigint past range) SQLite may not
@pytest.mark.timeout(1800)
def test_every_route_answers_fuzzed_requests_without_a_5xx_in_the_envelope_and_the_schema(
    stack: Stack, drawn: Drawn
) -> None:
    keys = stack.new_account()  # its own account: fuzzed settings never reach other tests' accounts
    sent, problems = fuzz(stack, keys, drawn)
    print(f"schemathesis: {sent} requests on {stack.backend}, {len(problems)} problems")
    assert problems == [], "\n".join(problems[:40])
    assert sent >= EXAMPLES * 40  # every operation was reached, not skipped
    assert "Traceback" not in stack.log("edge")
