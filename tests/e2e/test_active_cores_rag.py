"""Managed RAG with two ACTIVE cores (RINGSIDE_CORE_SHARE=fair, issue 25) on PostgreSQL, the real
Temporal dev server and the rag role (its ingest and migration workflows, the local model, the
embedded index), through the OpenAI SDK.

Tenants on each core upload files, make a store, attach, wait for the ingest, search (their own
files only) and migrate the store to another model: every step is served whichever core owns the
account, and each customer is billed once for its embeddings. Then the core owning a tenant is
SIGKILLed (or frozen with SIGSTOP) while that tenant's ingest runs, or while its store
migrates: the survivor takes the partition over and the ingest (the migration) completes once,
with the points and the tokens of a clean ingest of the file, and no hold is left open to be
posted at its reserved amount later (docs/scaling.md, "RAG with two active cores")."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import openai
import pytest

from tests.e2e.active_cores import accounts_on_both, fair_env, owner_of, start_core_b
from tests.e2e.rag_ingest_stack import ingest_stack, settled
from tests.e2e.test_chat_completions import client
from tests.e2e.test_rag_operations import DEADLINE_S, LOCAL, _finished, _migrate, _search, large_text
from tests.harness import Stack, free_port, stop_process, wait_until
from tests.workers.test_batches_active_cores import _customer

pytestmark = pytest.mark.postgres
SMALL, LARGE = "text-embedding-3-small", "text-embedding-3-large"  # a test key's: the test model, priced
DOCUMENTS = (  # per tenant: (file name, text, a question only that file answers)
    (
        ("lighthouse.md", "# Lighthouse\n\nThe keeper trims the lighthouse wick every evening.", "lighthouse wick"),
        ("orchard.txt", "Apples in the orchard are picked in October by the Wednesday crew.", "orchard apples"),
    ),
    (
        ("glacier.md", "# Glacier\n\nThe glacier guide checks the crevasse ropes before each climb.", "glacier ropes"),
        ("bakery.txt", "The bakery's sourdough rests for two nights in the cellar.", "bakery sourdough"),
    ),
)


@pytest.fixture(scope="module")
def rag_cores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, int]]:
    """Temporal, the rag role, an edge and core-a on PostgreSQL (fair); core-b is started by each
    test once it has made accounts in both halves (a new account's id is in its creator's share)."""
    port_b = free_port()
    work = tmp_path_factory.mktemp("rag-active-cores")
    with ingest_stack("postgres", work, more_env=lambda stack: fair_env(stack, port_b)) as stack:
        yield stack, port_b


@dataclass
class Tenant:
    account: dict[str, Any]
    customer: str
    sdk: openai.OpenAI
    store_id: str
    files: dict[str, str]  # question → the file id that answers it

    @property
    def key(self) -> str:
        return str(self.account["test"])


def _tenant(stack: Stack, account: dict[str, Any], documents: Any) -> Tenant:
    """A customer of `account` with a store of its own and `documents` attached (not yet ingested)."""
    customer = _customer(stack, account["test"])
    sdk = client(stack, account["test"])
    headers = {"FC-Customer": customer}
    store = sdk.vector_stores.create(name="tenant", extra_body={"embedding_model": SMALL}, extra_headers=headers)
    files = {}
    for name, text, question in documents:
        file_id = sdk.files.create(file=(name, text.encode()), purpose="assistants", extra_headers=headers).id
        attached = sdk.vector_stores.files.create(store.id, file_id=file_id, extra_headers=headers)
        assert attached.status == "in_progress"
        files[question] = file_id
    return Tenant(account, customer, sdk, store.id, files)


def _searched_right(stack: Stack, tenant: Tenant) -> None:
    """Each question's file first, and only the tenant's own files in any answer."""
    for question, file_id in tenant.files.items():
        hits = _search(stack, tenant.key, tenant.store_id, question)
        assert hits and hits[0][0] == file_id, (question, hits)
        assert {hit[0] for hit in hits} <= set(tenant.files.values()), hits


def _usage(stack: Stack, customer: str) -> list[tuple[str, str, int, int, str]]:
    """(request id, model, input tokens, posted nano-USD, status) of each of the customer's calls."""
    rows = stack.query(
        "SELECT request_id, model_ref, input_tokens, posted_nano, status FROM usage_records WHERE customer_id = ?",
        customer,
    )
    return [(str(r[0]), str(r[1]), int(r[2]), int(r[3]), str(r[4])) for r in rows]


def _open_holds(stack: Stack, customer: str) -> list[str]:
    rows = stack.query("SELECT id FROM holds WHERE customer_id = ? AND state = 'open'", customer)
    return [str(row[0]) for row in rows]


def _stats(stack: Stack, tenant: Tenant) -> dict[str, Any]:
    answer = stack.call("GET", f"/v1/vector_stores/{tenant.store_id}/stats", tenant.key)
    assert answer.status == 200, answer.body
    return dict(answer.json())


def _no_call_twice(stack: Stack) -> None:
    assert not stack.query("SELECT request_id FROM usage_records GROUP BY request_id HAVING COUNT(*) > 1")


def test_tenants_on_both_cores_ingest_search_and_migrate_billed_once(rag_cores: tuple[Stack, int]) -> None:
    stack, port_b = rag_cores
    accounts = accounts_on_both(stack, per_core=1)  # core-a's half, then core-b's
    core_b = start_core_b(stack, port_b, stack.data_dir / "core-b.log")
    try:
        assert [owner_of(stack, a["id"]) for a in accounts] == ["core-a", "core-b"]
        tenants = [_tenant(stack, account, documents) for account, documents in zip(accounts, DOCUMENTS, strict=True)]
        for tenant in tenants:  # started by the rag role from the pending list both cores answer
            for file_id in tenant.files.values():
                done = settled(tenant.sdk, tenant.store_id, file_id)
                assert done.status == "completed", done.model_dump()
        for tenant in tenants:
            _searched_right(stack, tenant)
        other = tenants[1]
        foreign = stack.call("POST", f"/v1/vector_stores/{other.store_id}/search", tenants[0].key, {"query": "ropes"})
        assert foreign.status == 404, foreign.body  # another tenant's store, on the other core

        migrations = {tenant.store_id: _migrate(stack, tenant.key, tenant.store_id, LARGE) for tenant in tenants}
        for tenant in tenants:
            done_migration = _finished(stack, tenant.key, tenant.store_id, migrations[tenant.store_id]["id"])
            assert done_migration["status"] == "completed", done_migration
            migrations[tenant.store_id] = done_migration
            store = tenant.sdk.vector_stores.retrieve(tenant.store_id).model_dump()
            assert store["embedding_model"] == f"fc:openai/{LARGE}"
            _searched_right(stack, tenant)

        for tenant in tenants:  # billed once: one call per ingest, one per migration batch, nothing open
            usage = _usage(stack, tenant.customer)
            ingests = [row for row in usage if row[1] == f"fc:openai/{SMALL}"]
            migrated = [row for row in usage if row[1] == f"fc:openai/{LARGE}"]
            assert len(ingests) == len(tenant.files), usage
            assert {row[4] for row in usage} == {"completed"}, usage
            assert sum(row[2] for row in ingests) == _stats(stack, tenant)["ingest_embedding_tokens"] > 0
            assert sum(row[2] for row in migrated) == migrations[tenant.store_id]["usage"]["embedding_tokens"] > 0
            assert all(row[3] > 0 for row in usage)  # priced: money moved for each
            assert _open_holds(stack, tenant.customer) == []
        _no_call_twice(stack)
        audit = stack.audit()
        assert audit.ok, audit
    finally:
        stop_process(core_b)  # a clean stop: core-a takes its half back


class CoreB:
    """core-b beside core-a, made to go away (SIGKILL, or frozen with SIGSTOP) in the middle of
    something; a frozen core-b, resumed, must find its partitions taken and stop (status 3)."""

    def __init__(self, stack: Stack, port_b: int, event: str) -> None:
        self.event = event
        self.process = start_core_b(stack, port_b, stack.data_dir / f"core-b-{event}-{time.monotonic_ns()}.log")
        self.frozen = False
        self.gone_at = 0.0

    def go(self) -> None:
        self.process.send_signal(getattr(signal, self.event))
        self.gone_at, self.frozen = time.monotonic(), self.event == "SIGSTOP"

    def resume_fenced(self) -> None:
        if self.frozen:
            self.process.send_signal(signal.SIGCONT)
            self.frozen = False
            assert self.process.wait(timeout=60) == 3  # resumed, it found its partitions taken: fenced, it stops

    def stop(self) -> None:
        if self.frozen:
            self.process.send_signal(signal.SIGCONT)
        stop_process(self.process)


def _reference_and_tenant_accounts(stack: Stack, content: bytes) -> tuple[Tenant, dict[str, Any]]:
    """While core-a is alone (a new account's id is in its creator's share): a clean ingest of
    `content` on the local model for an account of core-a's half, and an account of core-b's."""
    wait_until(
        lambda: {str(row[0]) for row in stack.query("SELECT DISTINCT owner FROM partition_leases")} == {"core-a"},
        60,
        "core-a to hold every partition",
    )
    reference_account, account = accounts_on_both(stack, per_core=1)
    reference = _local_store(stack, reference_account, content)
    assert settled(reference.sdk, reference.store_id, reference.files["all"]).status == "completed"
    return reference, account


@contextmanager
def _core_b_goes(stack: Stack, port_b: int, event: str) -> Iterator[CoreB]:
    core_b = CoreB(stack, port_b, event)
    try:
        yield core_b
    finally:
        core_b.stop()


def _answers_as_clean(stack: Stack, tenant: Tenant, reference: Tenant) -> None:
    """The tenant's store answers exactly as the clean one (text and score, top 5): no point
    missing or twice."""
    for query in ("questions about the observatory", "who signs the register", "report number 140"):
        hits = [(text, score) for _, text, score in _search(stack, tenant.key, tenant.store_id, query)]
        expected = [(text, score) for _, text, score in _search(stack, reference.key, reference.store_id, query)]
        assert hits == expected and hits


def _billed_once_and_clean(stack: Stack, customer: str) -> None:
    assert _open_holds(stack, customer) == []  # none left to expire at its reserved amount
    _no_call_twice(stack)
    audit = stack.audit()
    assert audit.ok, audit


@pytest.mark.parametrize("event", ["SIGKILL", "SIGSTOP"])
def test_a_core_gone_mid_ingest_the_survivor_completes_it_once(rag_cores: tuple[Stack, int], event: str) -> None:
    """core-b is SIGKILLed (or frozen with SIGSTOP) while its tenant's large file ingests (a hold
    placed, chunks being embedded with the local model): core-a takes the partition over, the
    ingest completes, its index answers exactly as a clean ingest of the same file (no point
    missing or twice), the tokens are the clean ingest's and no hold is left open (to be posted at
    its reserved amount later). A frozen core-b, resumed, finds its partitions taken and stops."""
    stack, port_b = rag_cores
    content = large_text(event)
    reference, account = _reference_and_tenant_accounts(stack, content)
    with _core_b_goes(stack, port_b, event) as core_b:
        assert owner_of(stack, account["id"]) == "core-b"
        tenant = _local_store(stack, account, content)
        file_id = tenant.files["all"]
        wait_until(lambda: _open_holds(stack, tenant.customer), 60, "the ingest's hold", interval_s=0.02)
        core_b.go()  # mid-ingest: admitted, embedding its chunks
        status = stack.query("SELECT status FROM vector_store_files WHERE file_id = ?", file_id)
        assert status == [("in_progress",)], status  # not finished when core-b went
        # the SDK retries the 503s answered until core-a serves the partition (docs/scaling.md)
        done = settled(tenant.sdk.with_options(max_retries=8), tenant.store_id, file_id)
        print(f"{event}: the ingest completed {time.monotonic() - core_b.gone_at:.2f} s after it")
        assert done.status == "completed", done.model_dump()
        assert owner_of(stack, account["id"]) == "core-a"
        core_b.resume_fenced()
    clean = _stats(stack, reference)
    assert _stats(stack, tenant)["chunk_count"] == clean["chunk_count"] > 32  # more than one batch
    _answers_as_clean(stack, tenant, reference)
    events = stack.call("GET", "/v1/events?type=vector_store.file.completed&limit=100", tenant.key).json()["data"]
    assert [e["data"]["id"] for e in events] == [file_id]  # finished once
    usage = _usage(stack, tenant.customer)
    assert sum(row[2] for row in usage) == sum(row[2] for row in _usage(stack, reference.customer)), usage
    _billed_once_and_clean(stack, tenant.customer)


@pytest.mark.parametrize("event", ["SIGKILL", "SIGSTOP"])
def test_a_core_gone_mid_migration_the_survivor_completes_it_once(rag_cores: tuple[Stack, int], event: str) -> None:
    """core-b is SIGKILLed (or frozen) while its tenant's store migrates to the local model (a batch
    or more written): core-a takes the partition over, the migration completes once, the new index
    answers exactly as a clean local-model ingest of the file, one usage record per batch adds up
    to the migration's `embedding_tokens`, and no batch's hold is left open (one whose settle core-b
    never recorded is settled by the next attempt, holds.py)."""
    stack, port_b = rag_cores
    content = large_text(f"migrating-{event}")
    reference, account = _reference_and_tenant_accounts(stack, content)
    with _core_b_goes(stack, port_b, event) as core_b:
        assert owner_of(stack, account["id"]) == "core-b"
        tenant = _tenant(stack, account, [("handbook.md", content.decode(), "all")])
        assert settled(tenant.sdk, tenant.store_id, tenant.files["all"]).status == "completed"
        migration = _migrate(stack, tenant.key, tenant.store_id, LOCAL)
        path = f"/v1/vector_stores/{tenant.store_id}/migrations/{migration['id']}"
        wait_until(lambda: _answered(stack, path, tenant.key)["chunks_embedded"] >= 32, 120, "a batch migrated")
        core_b.go()
        done = wait_until(
            lambda: (found := _answered(stack, path, tenant.key))["status"] != "in_progress" and found,
            DEADLINE_S,
            "the migration to finish",
            interval_s=0.2,
        )
        print(f"{event}: the migration completed {time.monotonic() - core_b.gone_at:.2f} s after it")
        assert done["status"] == "completed", done
        core_b.resume_fenced()
    assert done["chunks_embedded"] == _stats(stack, reference)["chunk_count"]
    _answers_as_clean(stack, tenant, reference)
    events = stack.call("GET", "/v1/events?type=vector_store.migration.completed", tenant.key).json()["data"]
    assert [e["data"]["id"] for e in events] == [migration["id"]]  # once
    migrated = [row for row in _usage(stack, tenant.customer) if row[1] == LOCAL]
    assert len(migrated) == -(-done["chunks_embedded"] // 32), migrated  # one record per batch
    assert sum(row[2] for row in migrated) == done["usage"]["embedding_tokens"] > 0, migrated
    _billed_once_and_clean(stack, tenant.customer)


def _answered(stack: Stack, path: str, key: str) -> Any:
    """GET through the edge; a 503 (the account's core away until the survivor serves it) reads as
    nothing done yet."""
    answer = stack.call("GET", path, key)
    if answer.status == 503:
        return {"chunks_embedded": 0, "status": "in_progress"}
    assert answer.status == 200, answer.body
    return answer.json()


def _local_store(stack: Stack, account: dict[str, Any], content: bytes) -> Tenant:
    """A customer's store on the local model with one large file attached."""
    customer = _customer(stack, account["test"])
    sdk = client(stack, account["test"])
    headers = {"FC-Customer": customer}
    store = sdk.vector_stores.create(name="large", extra_body={"embedding_model": LOCAL}, extra_headers=headers)
    file_id = sdk.files.create(file=("handbook.md", content), purpose="assistants", extra_headers=headers).id
    sdk.vector_stores.files.create(store.id, file_id=file_id, extra_headers=headers)
    return Tenant(account, customer, sdk, store.id, {"all": file_id})
