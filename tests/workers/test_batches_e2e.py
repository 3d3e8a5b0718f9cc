"""POST /v1/batches end to end with the real OpenAI SDK, the real Temporal dev server and the worker
as its own process: a batch runs to completion with its output file, each line metered to the nano
as a call of the batch's key; a line refused for budget lands in the error file with its 402; a
cancel mid-way stops new lines and leaves no hold open; a worker SIGKILLed mid-batch settles each
line once; bad JSONL is a 400 naming its line; another customer's batch is 404. A batch of a provider
with a batch API is forwarded to it (the fake OpenAI's Batch API), each line settled at the batch
price, its cancel forwarded, its worker killed while the provider runs it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import openai
import pytest

from edge_http.openapi.document import load_document
from tests.conftest import backend_of
from tests.e2e.test_openapi_live import Contract
from tests.harness import wait_until
from tests.workers.batch_stack import (
    BATCH_DISCOUNT_PCT,
    FORWARDED_MODEL,
    MAX_BATCH_FILE_BYTES,
    batch_stack,
    chat_line,
    cost_of,
    file_lines,
    finished,
    jsonl,
    kill_worker,
    new_customer,
    open_holds,
    sdk,
    spend,
    submit,
    upload,
    upstream_batch,
    upstream_client,
)
from tests.workers.webhook_stack import WebhookStack


@pytest.fixture(scope="module")
def hooks(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookStack]:
    backend = backend_of(request)
    with batch_stack(backend, tmp_path_factory.mktemp(f"batches-{backend}")) as running:
        yield running


def logged(hooks: WebhookStack, key: str, customer: str, count: int) -> list[dict[str, Any]]:
    """The customer's rows of GET /v1/requests once the worker's log entries (sent every 0.5 s) are
    in: until then a settled call shows from its usage record alone, without its route."""

    def rows() -> list[dict[str, Any]] | None:
        found = hooks.stack.call("GET", f"/v1/requests?customer_id={customer}", key).json()["data"]
        return found if len(found) == count and all(row["route"] for row in found) else None

    return list(wait_until(rows, 10, f"{count} lines in the request log"))


@pytest.mark.both_backends  # metered, settled or released: money
def test_a_batch_completes_with_its_output_file_and_each_line_metered(hooks: WebhookStack) -> None:
    key = hooks.stack.live_key
    hooks.endpoint(key, ["batch.completed"])
    customer = new_customer(hooks, key, budget_usd=5)
    client = sdk(hooks, key, customer)
    batch = submit(client, [chat_line(f"line-{n}", f"question {n}") for n in range(5)])
    # OpenAI's lifecycle: `validating` until the worker has read the input through, then in progress
    assert batch.status == "validating" and batch.request_counts.total == 5 and batch.in_progress_at is None
    done = finished(client, batch.id)
    assert done.in_progress_at is not None and batch.created_at <= done.in_progress_at <= done.completed_at
    assert (done.request_counts.completed, done.request_counts.failed) == (5, 0)
    assert done.error_file_id is None and done.output_file_id
    output = file_lines(client, done.output_file_id)
    assert sorted(line["custom_id"] for line in output) == [f"line-{n}" for n in range(5)]
    for line in output:
        assert line["response"]["status_code"] == 200 and line["response"]["request_id"].startswith("req_")
        assert line["response"]["body"]["object"] == "chat.completion"
    assert spend(hooks, key, customer) == cost_of(output)  # to the nano, each line rounded up as a call
    assert open_holds(hooks, customer) == 0
    usage = hooks.stack.call("GET", f"/v1/usage?customer_id={customer}", key).json()
    assert usage["request_count"] == 5 and Decimal(str(usage["total_billable_usd"])) == cost_of(output)
    rows = logged(hooks, key, customer, 5)
    assert {row["route"] for row in rows} == {"/v1/chat/completions"} and {row["status"] for row in rows} == {200}
    assert {row["id"] for row in rows} == {line["response"]["request_id"] for line in output}
    event = hooks.wait_for(1, "batch.completed", customer)[0].event
    assert event["data"]["id"] == batch.id and event["data"]["output_file_id"] == done.output_file_id
    contract = Contract(load_document())
    answer = hooks.stack.call("GET", f"/v1/batches/{batch.id}", key)
    contract.check("GET", "/v1/batches/{id}", answer, 200)
    contract.check("GET", "/v1/batches", hooks.stack.call("GET", "/v1/batches?limit=2", key), 200)
    output_file = hooks.stack.call("GET", f"/v1/files/{done.output_file_id}", key)
    assert contract.check("GET", "/v1/files/{id}", output_file, 200)["purpose"] == "batch_output"
    assert client.batches.list(limit=1).data[0].id == batch.id


@pytest.mark.both_backends  # metered, settled or released: money
def test_a_line_refused_for_budget_goes_to_the_error_file_with_its_code(hooks: WebhookStack) -> None:
    key = hooks.stack.live_key
    # Room for a short line, not for one whose prompt alone may cost more than the whole budget.
    customer = new_customer(hooks, key, budget_usd="0.000002")
    client = sdk(hooks, key, customer)
    batch = submit(client, [chat_line("short", "hi", max_tokens=2), chat_line("long", "x" * 40_000, max_tokens=2)])
    done = finished(client, batch.id)
    assert (done.request_counts.completed, done.request_counts.failed) == (1, 1)
    [refused] = file_lines(client, done.error_file_id)
    assert refused["custom_id"] == "long" and refused["response"]["status_code"] == 402
    assert refused["response"]["body"]["error"]["code"] == "customer_budget_exceeded"
    output = file_lines(client, done.output_file_id)
    assert [line["custom_id"] for line in output] == ["short"]
    assert spend(hooks, key, customer) == cost_of(output)
    rows = logged(hooks, key, customer, 2)
    assert sorted((row["status"], row["error_code"]) for row in rows) == [
        (200, None),
        (402, "customer_budget_exceeded"),
    ]


@pytest.mark.both_backends  # metered, settled or released: money
def test_cancel_mid_way_starts_no_new_line_and_releases_what_was_not_used(hooks: WebhookStack) -> None:
    key = hooks.stack.live_key
    customer = new_customer(hooks, key, budget_usd=5)
    client = sdk(hooks, key, customer)
    batch = submit(client, [chat_line(f"c-{n}") for n in range(60)])
    wait_until(lambda: client.batches.retrieve(batch.id).request_counts.completed >= 2, 60, "two lines answered")
    assert client.batches.cancel(batch.id).status in ("cancelling", "cancelled")
    done = finished(client, batch.id, ("cancelled",))
    assert done.cancelled_at and 2 <= done.request_counts.completed < 60
    output = file_lines(client, done.output_file_id)
    assert len(output) == done.request_counts.completed
    assert open_holds(hooks, customer) == 0
    assert spend(hooks, key, customer) == cost_of(output)
    with pytest.raises(openai.BadRequestError):  # OpenAI refuses to cancel a finished batch as well
        sdk(hooks, key, customer).batches.cancel(submit_and_finish(client).id)


def submit_and_finish(client: openai.OpenAI) -> Any:
    return finished(client, submit(client, [chat_line("one")]).id)


@pytest.mark.both_backends  # metered, settled or released: money
def test_a_worker_killed_mid_batch_settles_each_line_once(hooks: WebhookStack) -> None:
    key = hooks.stack.live_key
    customer = new_customer(hooks, key, budget_usd=5)
    client = sdk(hooks, key, customer)
    batch = submit(client, [chat_line(f"k-{n}", f"kill {n}") for n in range(30)])
    wait_until(lambda: client.batches.retrieve(batch.id).request_counts.completed >= 3, 60, "three lines answered")
    kill_worker(hooks)
    hooks.start_worker()
    done = finished(client, batch.id)
    output, errors = file_lines(client, done.output_file_id), file_lines(client, done.error_file_id)
    ids = sorted(line["custom_id"] for line in output + errors)
    assert ids == sorted(f"k-{n}" for n in range(30))  # every line once, none twice
    assert open_holds(hooks, customer) == 0
    # A line billed just before the kill whose answer had not been written is an error naming its
    # request (billed once, not run again); every other line was answered once.
    lost = [line["response"]["request_id"] for line in errors]
    assert all(line["response"]["body"]["error"]["code"] == "internal_error" for line in errors)
    lost_usd = sum(
        (
            Decimal(str(hooks.stack.call("GET", f"/v1/requests/{request_id}", key).json()["cost_usd"]))
            for request_id in lost
        ),
        Decimal(0),
    )
    assert spend(hooks, key, customer) == cost_of(output) + lost_usd
    usage = hooks.stack.call("GET", f"/v1/usage?customer_id={customer}", key).json()
    assert usage["request_count"] == len(output) + len(lost)


BAD_FILES = {
    "not JSON": (b'{"custom_id": "a", "method": "POST"', 1),
    "a repeated custom_id": (jsonl([chat_line("a"), chat_line("b"), chat_line("a")]), 3),
    "another endpoint": (jsonl([chat_line("a"), {**chat_line("b"), "url": "/v1/embeddings"}]), 2),
    "a GET": (jsonl([{**chat_line("a"), "method": "GET"}]), 1),
    "no body": (jsonl([chat_line("a"), {"custom_id": "b", "method": "POST", "url": "/v1/chat/completions"}]), 2),
    "a stream": (jsonl([{**chat_line("a"), "body": {**chat_line("a")["body"], "stream": True}}]), 1),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_line_is_a_400_that_names_it(hooks: WebhookStack, name: str) -> None:
    content, number = BAD_FILES[name]
    client = sdk(hooks, hooks.stack.live_key)
    file_id = upload(client, content)
    with pytest.raises(openai.BadRequestError) as refused:
        client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    error = refused.value.body
    assert isinstance(error, dict) and error["param"] == "input_file_id", error
    assert f"Line {number} " in error["message"], error
    assert all(b.input_file_id != file_id for b in client.batches.list(limit=100).data)


def test_too_many_lines_and_bad_fields_are_400s(hooks: WebhookStack) -> None:
    key = hooks.stack.live_key
    client = sdk(hooks, key)
    file_id = upload(client, [chat_line("a")])
    for body, param in (
        ({"input_file_id": file_id, "endpoint": "/v1/images/generations", "completion_window": "24h"}, "endpoint"),
        (
            {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "1h"},
            "completion_window",
        ),
        ({"endpoint": "/v1/chat/completions", "completion_window": "24h"}, "input_file_id"),
    ):
        answer = hooks.stack.call("POST", "/v1/batches", key, body)
        assert answer.status == 400 and answer.json()["error"]["param"] == param, answer.body
    many = b"".join(json.dumps(chat_line(f"m{n}")).encode() + b"\n" for n in range(50_001))
    with pytest.raises(openai.BadRequestError, match="Line 50001 "):
        client.batches.create(
            input_file_id=upload(client, many), endpoint="/v1/chat/completions", completion_window="24h"
        )


def test_another_customers_batch_and_files_are_404(hooks: WebhookStack) -> None:
    key = hooks.stack.live_key
    owner, other = new_customer(hooks, key, budget_usd=5), new_customer(hooks, key)
    mine = sdk(hooks, key, owner)
    done = submit_and_finish(mine)
    theirs = sdk(hooks, key, other)
    with pytest.raises(openai.NotFoundError):
        theirs.batches.retrieve(done.id)
    with pytest.raises(openai.NotFoundError):
        theirs.batches.cancel(done.id)
    with pytest.raises(openai.NotFoundError):
        theirs.files.content(done.output_file_id)
    assert all(b.id != done.id for b in theirs.batches.list(limit=100).data)
    assert sdk(hooks, key).batches.retrieve(done.id).id == done.id  # the account sees every batch
    other_account = hooks.stack.new_account()
    with pytest.raises(openai.NotFoundError):
        sdk(hooks, other_account["live"]).batches.retrieve(done.id)


@pytest.mark.both_backends  # metered, settled or released: money
def test_the_same_idempotency_key_replays_the_batch(hooks: WebhookStack) -> None:
    key = hooks.stack.live_key
    client = sdk(hooks, key)
    body = {
        "input_file_id": upload(client, [chat_line("i")]),
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
    }
    first = hooks.stack.call("POST", "/v1/batches", key, body, headers={"Idempotency-Key": "batch-once"})
    again = hooks.stack.call("POST", "/v1/batches", key, body, headers={"Idempotency-Key": "batch-once"})
    assert first.status == again.status == 200 and again.headers.get("idempotent-replayed") == "true"
    assert again.json()["id"] == first.json()["id"]


def test_a_test_keys_batch_of_embeddings_runs_on_the_test_model(hooks: WebhookStack) -> None:
    key = hooks.stack.test_key
    customer = new_customer(hooks, key, budget_usd=1)
    client = sdk(hooks, key, customer)
    lines = [
        {
            "custom_id": f"e{n}",
            "method": "POST",
            "url": "/v1/embeddings",
            "body": {"model": "fc:openai/text-embedding-3-small", "input": f"text {n}"},
        }
        for n in range(3)
    ]
    batch = client.batches.create(
        input_file_id=upload(client, lines), endpoint="/v1/embeddings", completion_window="24h"
    )
    done = finished(client, batch.id)
    output = file_lines(client, done.output_file_id)
    assert sorted(line["custom_id"] for line in output) == ["e0", "e1", "e2"]
    assert all(line["response"]["body"]["object"] == "list" for line in output)
    usage = hooks.stack.call("GET", f"/v1/usage?customer_id={customer}", key).json()
    assert usage["request_count"] == 3 and usage["input_tokens"] > 0


def test_responses_lines_answer_as_response_objects(hooks: WebhookStack) -> None:
    key = hooks.stack.test_key
    client = sdk(hooks, key, new_customer(hooks, key, budget_usd=1))
    body = {"model": "fc:openai/gpt-4o-mini", "input": "Say hi", "max_output_tokens": 16}
    lines = [
        {"custom_id": "r1", "method": "POST", "url": "/v1/responses", "body": body},
        {
            "custom_id": "r2",
            "method": "POST",
            "url": "/v1/responses",
            "body": {**body, "previous_response_id": "resp_x"},
        },
    ]
    batch = client.batches.create(
        input_file_id=upload(client, lines), endpoint="/v1/responses", completion_window="24h"
    )
    done = finished(client, batch.id)
    [answered] = file_lines(client, done.output_file_id)
    assert answered["custom_id"] == "r1" and answered["response"]["body"]["object"] == "response"
    assert answered["response"]["body"]["output"][0]["content"][0]["text"]
    [refused] = file_lines(client, done.error_file_id)
    assert refused["custom_id"] == "r2" and refused["response"]["status_code"] == 400
    assert refused["response"]["body"]["error"]["param"] == "previous_response_id"


@contextmanager
def short_window(hooks: WebhookStack, seconds: int) -> Iterator[None]:
    """The core restarted with a completion window of `seconds` (RINGSIDE_BATCH_WINDOW_S), then
    restarted as it was: batches created meanwhile keep their short `expires_at`."""
    hooks.kill_core()
    hooks.stack.extra_env["RINGSIDE_BATCH_WINDOW_S"] = str(seconds)
    try:
        hooks.restart_core()
        yield
    finally:
        hooks.kill_core()
        hooks.stack.extra_env.pop("RINGSIDE_BATCH_WINDOW_S")
        hooks.restart_core()


def test_a_batch_past_its_window_expires_and_its_lines_not_run_go_to_the_error_file(hooks: WebhookStack) -> None:
    # SQLite only: the window is the core's and the worker's; it restarts the core twice and stores nothing new
    key = hooks.stack.live_key
    hooks.endpoint(key, ["batch.expired"])
    customer = new_customer(hooks, key, budget_usd=5)
    client = sdk(hooks, key, customer)
    with short_window(hooks, 2):
        batch = submit(client, [chat_line(f"e-{n}") for n in range(60)])  # ≥ 4.5 s at 2 × 150 ms
        assert batch.expires_at == batch.created_at + 2
        done = finished(client, batch.id, ("expired",))
    assert done.expired_at >= batch.expires_at
    output, errors = file_lines(client, done.output_file_id), file_lines(client, done.error_file_id)
    assert sorted(line["custom_id"] for line in output + errors) == sorted(f"e-{n}" for n in range(60))
    assert errors and all(line["error"]["code"] == "batch_expired" and line["response"] is None for line in errors)
    assert all(line["id"].startswith("batch_req_") for line in errors)  # OpenAI's BatchRequestOutput
    assert (done.request_counts.completed, done.request_counts.failed) == (len(output), len(errors))
    assert open_holds(hooks, customer) == 0  # lines in flight at the window's close finished, billed
    assert spend(hooks, key, customer) == cost_of(output)
    event = hooks.wait_for(1, "batch.expired", customer)[0].event
    assert event["data"]["id"] == batch.id and event["data"]["error_file_id"] == done.error_file_id


@pytest.mark.both_backends  # metered, settled or released: money
def test_erasing_the_customer_stops_its_batch(hooks: WebhookStack) -> None:
    key = hooks.stack.live_key
    customer = new_customer(hooks, key, budget_usd=5)
    client = sdk(hooks, key, customer)
    batch = submit(client, [chat_line(f"x{n}") for n in range(60)])
    wait_until(lambda: client.batches.retrieve(batch.id).request_counts.completed >= 1, 60, "a line answered")
    erased = hooks.stack.call("POST", f"/v1/customers/{customer}/erase", key, {})
    assert erased.status == 202, erased.body
    account = sdk(hooks, key)  # the batch's row stays under the bare customer id, for the account
    done = finished(account, batch.id, ("cancelled",))
    assert done.request_counts.completed < 60
    assert open_holds(hooks, customer) == 0


def test_a_batch_file_has_its_own_upload_bound(hooks: WebhookStack) -> None:
    client = sdk(hooks, hooks.stack.live_key)
    big = b" " * (MAX_BATCH_FILE_BYTES + 1)
    with pytest.raises(openai.APIStatusError) as refused:
        client.files.create(file=("big.jsonl", big), purpose="batch")
    assert refused.value.status_code == 413
    assert client.files.create(file=("big.txt", big), purpose="user_data").bytes == len(big)  # other files: 512 MiB


@pytest.mark.both_backends  # metered, settled or released: money
def test_a_batch_of_a_provider_with_a_batch_api_is_forwarded_and_billed_at_its_batch_price(
    hooks: WebhookStack,
) -> None:
    key = hooks.stack.live_key
    customer = new_customer(hooks, key, budget_usd=5)
    client = sdk(hooks, key, customer)
    lines = [chat_line(f"f-{n}", f"question {n}", model=FORWARDED_MODEL) for n in range(3)]
    lines.append(chat_line("f-bad", "[[fake:status=500]] fails", model=FORWARDED_MODEL))
    batch = submit(client, lines)
    done = finished(client, batch.id)
    assert (done.request_counts.completed, done.request_counts.failed) == (3, 1)
    output = file_lines(client, done.output_file_id)
    assert sorted(line["custom_id"] for line in output) == ["f-0", "f-1", "f-2"]
    assert all(line["response"]["request_id"].startswith("req_") for line in output)
    [failed] = file_lines(client, done.error_file_id)
    assert failed["custom_id"] == "f-bad" and failed["response"]["status_code"] == 500
    # the provider's batch had the provider's model name; each line is billed at half the catalog price
    forwarded = upstream_batch(hooks, batch.id)
    assert forwarded.status == "completed" and forwarded.request_counts.total == 4
    sent_file = upstream_client(hooks).files.content(forwarded.input_file_id).content
    sent = [json.loads(line) for line in sent_file.splitlines()]
    assert {line["body"]["model"] for line in sent} == {"gpt-4o-mini"}
    assert spend(hooks, key, customer) == cost_of(output, BATCH_DISCOUNT_PCT) < cost_of(output)
    assert open_holds(hooks, customer) == 0
    rows = logged(hooks, key, customer, 4)
    assert {row["id"] for row in rows} >= {line["response"]["request_id"] for line in output}
    assert sorted(row["status"] for row in rows) == [200, 200, 200, 500]


@pytest.mark.both_backends  # metered, settled or released: money
def test_a_forwarded_batch_refuses_what_does_not_fit_before_sending_and_forwards_its_cancel(
    hooks: WebhookStack,
) -> None:
    key = hooks.stack.live_key
    customer = new_customer(hooks, key, budget_usd="0.0002")
    client = sdk(hooks, key, customer)
    lines = [chat_line("long", "x" * 40_000, max_tokens=2, model=FORWARDED_MODEL)]
    lines += [chat_line(f"c-{n}", max_tokens=4, model=FORWARDED_MODEL) for n in range(40)]
    batch = submit(client, lines)
    forwarded = wait_until(
        lambda: (found := upstream_batch(hooks, batch.id)) and found.request_counts.completed >= 2 and found,
        60,
        "two lines answered by the provider",
    )
    assert client.batches.cancel(batch.id).status in ("cancelling", "cancelled")
    done = finished(client, batch.id, ("cancelled",))
    assert upstream_batch(hooks, batch.id).status == "cancelled" and forwarded.request_counts.total == 40
    [refused] = file_lines(client, done.error_file_id)  # never sent: it could not fit
    assert refused["custom_id"] == "long" and refused["response"]["status_code"] == 402
    assert refused["response"]["body"]["error"]["code"] == "customer_budget_exceeded"
    output = file_lines(client, done.output_file_id)
    assert 2 <= len(output) < 40
    assert open_holds(hooks, customer) == 0  # the lines the provider never ran were released
    assert spend(hooks, key, customer) == cost_of(output, BATCH_DISCOUNT_PCT)


@pytest.mark.both_backends  # metered, settled or released: money
def test_a_forwarded_batch_survives_its_worker_killed_while_the_provider_runs_it(hooks: WebhookStack) -> None:
    key = hooks.stack.live_key
    customer = new_customer(hooks, key, budget_usd=5)
    client = sdk(hooks, key, customer)
    batch = submit(client, [chat_line(f"w-{n}", f"kill {n}", model=FORWARDED_MODEL) for n in range(20)])
    wait_until(lambda: upstream_batch(hooks, batch.id), 60, "the provider to have the batch")
    kill_worker(hooks)
    hooks.start_worker()  # polls the provider's batch from the journal: not forwarded twice
    done = finished(client, batch.id)
    output = file_lines(client, done.output_file_id)
    assert sorted(line["custom_id"] for line in output) == sorted(f"w-{n}" for n in range(20))
    assert upstream_batch(hooks, batch.id).request_counts.total == 20
    assert open_holds(hooks, customer) == 0
    assert spend(hooks, key, customer) == cost_of(output, BATCH_DISCOUNT_PCT)
