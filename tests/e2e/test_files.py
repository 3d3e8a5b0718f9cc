"""/v1/files with the real OpenAI SDK: upload (streamed to the file store, sha256 kept), list with
OpenAI's pagination, retrieve, content, delete; per-customer ownership with 404 for anyone else;
bounds (413 above RINGSIDE_MAX_FILE_BYTES, nothing left behind) and bad input as 400/401."""

from __future__ import annotations

import hashlib
import http.client
import secrets
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.conftest import RAG_MAX_FILE_BYTES
from tests.e2e.test_chat_completions import client
from tests.harness import Stack, wait_until


def _customer(stack: Stack, key: str) -> str:
    external = "reader_" + secrets.token_hex(4)
    response = stack.call("POST", "/v1/customers", key, {"external_id": external})
    assert response.status == 201, response.body
    return f"ext:{external}"


def _leftovers(stack: Stack) -> list[str]:
    root = stack.data_dir / "files"
    return sorted(path.name for path in root.rglob("*") if path.is_file()) if root.exists() else []


def test_upload_retrieve_download_list_and_delete(rag_stack: Stack) -> None:
    key = rag_stack.new_account()["live"]
    sdk = client(rag_stack, key)
    content = ("# Refunds\n\nRefunds are paid within five days.\n" * 2000).encode()  # ~90 KB, several chunks
    created = sdk.files.create(file=("refunds.md", content), purpose="assistants")
    assert created.id.startswith("file-") and created.object == "file"
    assert (created.bytes, created.filename, created.purpose) == (len(content), "refunds.md", "assistants")
    raw = created.model_dump()
    assert raw["sha256"] == hashlib.sha256(content).hexdigest() and raw["customer_id"] is None

    assert sdk.files.retrieve(created.id).model_dump() == raw
    assert sdk.files.content(created.id).read() == content
    assert [f.id for f in sdk.files.list()] == [created.id]

    deleted = sdk.files.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(openai.NotFoundError):
        sdk.files.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        sdk.files.content(created.id)
    assert created.id not in _leftovers(rag_stack)
    assert list(sdk.files.list()) == []


@pytest.mark.both_backends
def test_list_pages_with_after_and_order_and_filters_purpose(rag_stack: Stack) -> None:
    key = rag_stack.new_account()["live"]
    sdk = client(rag_stack, key)
    ids = [
        sdk.files.create(file=(f"f{i}.txt", f"file {i}".encode()), purpose="batch" if i == 2 else "user_data").id
        for i in range(4)
    ]
    first = rag_stack.call("GET", "/v1/files?limit=2", key).json()
    assert [f["id"] for f in first["data"]] == [ids[3], ids[2]]
    assert (first["first_id"], first["last_id"], first["has_more"]) == (ids[3], ids[2], True)
    rest = rag_stack.call("GET", f"/v1/files?limit=2&after={ids[2]}", key).json()
    assert [f["id"] for f in rest["data"]] == [ids[1], ids[0]] and rest["has_more"] is False
    oldest_first = rag_stack.call("GET", "/v1/files?order=asc", key).json()
    assert [f["id"] for f in oldest_first["data"]] == ids
    assert [f.id for f in sdk.files.list(purpose="batch")] == [ids[2]]
    assert [f.id for f in sdk.files.list()] == list(reversed(ids))  # the SDK's auto-pagination


def test_a_customers_files_are_404_to_everyone_else(rag_stack: Stack) -> None:
    """The isolation matrix: a customer sees its own files only; the account sees all of its own
    (filterable by customer_id); another account sees none."""
    key = rag_stack.new_account()["live"]
    alice, bob = _customer(rag_stack, key), _customer(rag_stack, key)
    sdk = client(rag_stack, key)
    as_alice = {"FC-Customer": alice}
    mine = sdk.files.create(file=("a.txt", b"alice's notes"), purpose="assistants", extra_headers=as_alice)
    account_file = sdk.files.create(file=("acct.txt", b"the account's"), purpose="assistants")
    assert mine.model_dump()["customer_id"].startswith("cus_")

    def status(method: str, path: str, who: str | None, as_key: str = key) -> int:
        headers = {"FC-Customer": who} if who else {}
        return rag_stack.call(method, path, as_key, headers=headers).status

    other_key = rag_stack.new_account()["live"]
    for path in (f"/v1/files/{mine.id}", f"/v1/files/{mine.id}/content"):
        assert status("GET", path, bob) == 404
        assert status("GET", path, alice) == 200
        assert status("GET", path, None) == 200  # the account sees its customers' files
        assert status("GET", path, None, other_key) == 404
    assert status("GET", f"/v1/files/{account_file.id}", alice) == 404  # an account file is not a customer's
    assert status("DELETE", f"/v1/files/{mine.id}", bob) == 404
    assert status("DELETE", f"/v1/files/{mine.id}", None, other_key) == 404

    def listed(who: str | None, query: str = "") -> list[str]:
        response = rag_stack.call("GET", "/v1/files" + query, key, headers={"FC-Customer": who} if who else {})
        assert response.status == 200, response.body
        return [f["id"] for f in response.json()["data"]]

    assert listed(alice) == [mine.id] and listed(bob) == []
    assert listed(None) == [account_file.id, mine.id]
    assert listed(None, f"?customer_id={alice}") == [mine.id]
    assert rag_stack.call("GET", "/v1/files", key, headers={"FC-Customer": "ext:nobody"}).status == 404
    assert sdk.files.retrieve(mine.id).id == mine.id  # still there after every refusal


def _chunked_upload(stack: Stack, key: str, parts: Iterator[bytes]) -> tuple[int, Any]:
    """A multipart upload sent with chunked transfer encoding (no Content-Length): the bound is
    enforced while streaming, not from a declared length."""
    boundary = "ringside" + secrets.token_hex(8)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        yield from parts
        yield f"\r\n--{boundary}--\r\n".encode()

    connection = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=60)
    try:
        connection.request(
            "POST",
            "/v1/files",
            body=body(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, response.read()
    except (BrokenPipeError, ConnectionResetError):  # the refusal can close the socket mid-send
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_file_over_the_bound_is_413_and_leaves_nothing(rag_stack: Stack) -> None:
    key = rag_stack.new_account()["live"]
    before = _leftovers(rag_stack)
    megabyte = b"x" * (1024 * 1024)
    status, body = _chunked_upload(rag_stack, key, iter([megabyte] * (RAG_MAX_FILE_BYTES // len(megabyte) + 1)))
    assert status == 413, body
    assert b"payload_too_large" in body
    assert _leftovers(rag_stack) == before  # no partial file kept

    exactly = _chunked_upload(rag_stack, key, iter([megabyte] * (RAG_MAX_FILE_BYTES // len(megabyte))))
    assert exactly[0] == 200, exactly[1]


def test_an_empty_file_uploads_and_bad_uploads_are_400_or_401(rag_stack: Stack) -> None:
    key = rag_stack.new_account()["live"]
    sdk = client(rag_stack, key)
    empty = sdk.files.create(file=("empty.txt", b""), purpose="assistants")
    assert empty.bytes == 0 and empty.model_dump()["sha256"] == hashlib.sha256(b"").hexdigest()

    with pytest.raises(openai.BadRequestError) as bad_purpose:
        sdk.files.create(file=("a.txt", b"x"), purpose="fine-tune-ish")  # type: ignore[arg-type]
    assert bad_purpose.value.body["param"] == "purpose"  # type: ignore[index]
    with pytest.raises(openai.AuthenticationError):
        client(rag_stack, "sk_live_nope").files.create(file=("a.txt", b"x"), purpose="assistants")
    json_body = rag_stack.call("POST", "/v1/files", key, {"purpose": "assistants"})
    assert json_body.status == 400 and json_body.json()["error"]["param"] == "file"
    for query, param in [
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("order=sideways", "order"),
        ("after=file-nope1234", "after"),
    ]:
        response = rag_stack.call("GET", f"/v1/files?{query}", key)
        assert response.status == 400 and response.json()["error"]["param"] == param, query
    assert rag_stack.call("GET", "/v1/files/file-doesnotexist", key).status == 404
    assert rag_stack.call("GET", "/v1/files/..%2F..%2Fetc", key).status == 404


@pytest.mark.both_backends
def test_erasing_a_customer_deletes_its_files_and_stores(rag_stack: Stack) -> None:
    key = rag_stack.new_account()["live"]
    alice, bob = _customer(rag_stack, key), _customer(rag_stack, key)
    sdk = client(rag_stack, key)
    hers = sdk.files.create(
        file=("a.txt", b"alice's notes"), purpose="assistants", extra_headers={"FC-Customer": alice}
    )
    his = sdk.files.create(file=("b.txt", b"bob's notes"), purpose="assistants", extra_headers={"FC-Customer": bob})
    store = rag_stack.call("POST", "/v1/vector_stores", key, {"name": "hers"}, headers={"FC-Customer": alice}).json()

    erase = rag_stack.call("POST", f"/v1/customers/{alice}/erase", key)
    assert erase.status in (200, 202), erase.body
    wait_until(lambda: rag_stack.call("GET", f"/v1/files/{hers.id}", key).status == 404, 20, "the erasure")
    assert rag_stack.call("GET", f"/v1/vector_stores/{store['id']}", key).status == 404
    assert sdk.files.retrieve(his.id).id == his.id  # another customer's stay
