"""Uploaded files in an S3 bucket (RINGSIDE_FILES_URL=s3://…, API.md "Managed RAG → Storage") with
every role pointed at moto's S3 server on 127.0.0.1 — as several nodes would share
them: an upload through the OpenAI SDK lands as one object (nothing on the edge's disk), its content
streams back, the rag role ingests it from the bucket, delete removes it, a refused upload leaves
nothing, and a customer's erasure is followed by the sweep removing its objects."""

from __future__ import annotations

import pathlib
import secrets
from collections.abc import Iterator

import openai
import pytest

from tests.e2e.rag_ingest_stack import ingest_stack, settled
from tests.e2e.test_chat_completions import client
from tests.harness import Stack, wait_until
from tests.s3_server import S3Server

PREFIX = "tenant-files"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server.start(tmp_path_factory.mktemp("moto-e2e"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bucket(s3: S3Server) -> str:
    return s3.new_bucket()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, s3: S3Server, bucket: str) -> Iterator[Stack]:
    sweep = {"RINGSIDE_RAG_SWEEP_INTERVAL_S": "0.5", "RINGSIDE_RAG_SWEEP_GRACE_S": "1"}
    with ingest_stack("sqlite", tmp_path_factory.mktemp("files-s3"), {**s3.env(bucket, PREFIX), **sweep}) as running:
        yield running


def _on_disk(stack: Stack) -> list[pathlib.Path]:
    root = stack.data_dir / "files"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_upload_download_ingest_and_delete_go_through_the_bucket(stack: Stack, s3: S3Server, bucket: str) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    content = ("# Returns\n\nParcels are returned within thirty days of delivery.\n" * 40).encode()
    created = sdk.files.create(file=("returns.md", content), purpose="assistants")
    assert f"{PREFIX}/{created.id}" in s3.keys(bucket)
    assert _on_disk(stack) == []
    assert sdk.files.content(created.id).read() == content

    store = sdk.vector_stores.create(name="returns")
    sdk.vector_stores.files.create(store.id, file_id=created.id)
    assert settled(sdk, store.id, created.id).status == "completed"  # the rag role read it from the bucket
    hits = sdk.vector_stores.search(store.id, query="how long do I have to return a parcel").data
    assert hits and hits[0].file_id == created.id

    sdk.files.delete(created.id)
    assert f"{PREFIX}/{created.id}" not in s3.keys(bucket)
    with pytest.raises(openai.NotFoundError):
        sdk.files.content(created.id)


def test_a_refused_upload_leaves_no_object(stack: Stack, s3: S3Server, bucket: str) -> None:
    key = stack.new_account()["live"]
    before = s3.keys(bucket)
    with pytest.raises(openai.BadRequestError):
        client(stack, key).files.create(file=("a.txt", b"x" * 1000), purpose="fine-tune-ish")  # type: ignore[arg-type]
    too_big = client(stack, key).with_options(max_retries=0)
    with pytest.raises(openai.APIStatusError) as over:
        too_big.files.create(file=("big.bin", b"y" * (4 * 1024 * 1024 + 1)), purpose="assistants")
    assert over.value.status_code == 413
    assert s3.keys(bucket) == before and s3.open_uploads(bucket) == 0


def test_erasing_a_customer_sweeps_its_objects(stack: Stack, s3: S3Server, bucket: str) -> None:
    key = stack.new_account()["live"]
    external = "erased_" + secrets.token_hex(4)
    assert stack.call("POST", "/v1/customers", key, {"external_id": external}).status == 201
    sdk = client(stack, key)
    hers = sdk.files.create(
        file=("a.txt", b"her notes"), purpose="assistants", extra_headers={"FC-Customer": f"ext:{external}"}
    )
    kept = sdk.files.create(file=("b.txt", b"the account's own"), purpose="assistants")
    erase = stack.call("POST", f"/v1/customers/ext:{external}/erase", key)
    assert erase.status in (200, 202), erase.body
    wait_until(lambda: f"{PREFIX}/{hers.id}" not in s3.keys(bucket), 30, "the sweep to remove the erased file")
    assert f"{PREFIX}/{kept.id}" in s3.keys(bucket)  # a live file stays, past the sweep's grace too
    assert sdk.files.content(kept.id).read() == b"the account's own"
