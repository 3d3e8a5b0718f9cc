"""The OpenAPI document: a valid OpenAPI 3.1 document, exactly the route table, its index current."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import OpenAPIV31SpecValidator

from edge_http.openapi import route_index, vendor_openai
from edge_http.openapi.document import load_document
from edge_http.routes import add_routes

METHODS = {"GET", "PUT", "POST", "PATCH", "DELETE"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return load_document()


def _route_table() -> set[tuple[str, str]]:
    app = web.Application()
    add_routes(app)
    # aiohttp adds a HEAD route beside every GET; it is not a route of its own.
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method.upper() in METHODS
    }


def test_the_document_is_a_valid_openapi_3_1_document(document: dict[str, Any]) -> None:
    errors = [f"{list(error.path)}: {error.message}" for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []
    assert document["openapi"].startswith("3.1")


def test_every_route_of_the_table_is_documented(document: dict[str, Any]) -> None:
    missing = _route_table() - _documented(document)
    assert missing == set(), f"routes without a path in edge_http/openapi/openapi.yaml: {sorted(missing)}"


def test_nothing_is_documented_that_the_edge_does_not_serve(document: dict[str, Any]) -> None:
    extra = _documented(document) - _route_table()
    assert extra == set(), f"documented but not in edge_http/routes.py: {sorted(extra)}"


def test_the_route_table_check_sees_a_route_added_without_its_path(document: dict[str, Any]) -> None:
    """The coverage check reads the real router, so a new route line is enough to fail it."""
    app = web.Application()
    add_routes(app)

    async def undocumented(_request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/v1/undocumented", undocumented)
    table = {(r.method, r.resource.canonical) for r in app.router.routes() if r.resource is not None}
    assert ("GET", "/v1/undocumented") in table - _documented(document)


def test_every_operation_answers_the_error_envelope_on_failure(document: dict[str, Any]) -> None:
    """Each operation has a `default` response in the envelope (health probes excepted: their 503s
    have their own bodies, and /openapi.json cannot fail)."""
    envelopes = {"#/components/responses/Error", "#/components/responses/ModelError"}
    lacking = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method.upper() in METHODS
        and path not in ("/healthz", "/livez", "/readyz", "/openapi.json")
        and operation["responses"].get("default", {}).get("$ref") not in envelopes
    ]
    assert lacking == []
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    assert set(error["required"]) == {"type", "code", "message", "param", "request_id", "retry_after_seconds"}


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method.upper() in METHODS
    ]
    assert len(ids) == len(set(ids))


def test_the_route_index_in_docs_is_current(document: dict[str, Any]) -> None:
    page = route_index.API_DOC_PATH.read_text(encoding="utf-8")
    assert route_index.rewritten(page, route_index.render(document)) == page, (
        "docs/api.md's route index is stale: run .venv/bin/python -m edge_http.openapi.route_index"
    )


def test_the_openai_schemas_are_the_vendored_closure(document: dict[str, Any]) -> None:
    """Every `OpenAI…` schema the Ringside part references is there, and each of them references
    only schemas that are there too (the vendoring script copied a closed set)."""
    schemas = document["components"]["schemas"]
    referenced: set[str] = set()
    vendor_openai._referenced(document, referenced)
    assert sorted(name for name in referenced if name not in schemas) == []
    assert all(f"OpenAI{root}" in schemas for root in vendor_openai.ROOTS)
