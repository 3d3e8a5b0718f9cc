"""/v1/responses: OpenAI's Responses API, metered like chat — relayed to a provider that serves it
natively (ringside_server/openai/responses_native.py), else a chat call at the provider boundary
(ringside_server/openai/responses.py) — kept for `previous_response_id` when `store` is not false,
read back, deleted, and its input items listed."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson
from aiohttp import web

from edge_http.context import EDGE, Edge
from edge_http.handlers.common import authorization, reject, verify_then_raise
from edge_http.handlers.metered import CLIENT_GONE, caller_of
from edge_http.openai.cursor_list import cursor_page
from edge_http.openai.jsonio import dumps, parse_model_body
from edge_http.rate_limits import admitted
from ringside.core.v1 import metering_pb2, responses_pb2
from ringside_server.errors import RingsideError
from ringside_server.ids import new_id
from ringside_server.metering.call import MeteredCall
from ringside_server.metering.request import Answer, Caller
from ringside_server.openai import file_search
from ringside_server.openai import responses as wire
from ringside_server.openai import responses_native as native
from ringside_server.openai.responses_stream import StreamTranslator
from ringside_server.openai.types import chat as chat_types
from ringside_server.vector_search import SearchHit, search_stores

log = logging.getLogger("ringside.edge.responses")
MAX_ID = 64


def _customer_ref(request: web.Request) -> str:
    return request.headers.get("FC-Customer", "").strip()


async def create_response(request: web.Request) -> web.StreamResponse:
    edge = request.app[EDGE]
    caller = caller_of(edge, request)
    try:
        body = parse_model_body(await request.read())
        wire.check(body)
        if "input" not in body:
            raise wire.refuse("input is required.", "input")
        items = wire.input_items(body["input"])
        search = file_search.file_search_of(body)
        history = await _history(edge, request, body.get("previous_response_id"))
        models = await MeteredCall.resolve(edge, caller, body.get("model"), body)
        relayed = native.applies(edge, caller, models, search)  # else translated to chat
        searched = await _searched(edge, request, caller, body, items, search) if search is not None else None
        if isinstance(searched, metering_pb2.Denial):  # the query's embedding was refused
            return reject(request, searched)
        context = file_search.context_of(searched[1]) if searched is not None else ""
        chat = wire.chat_body(body, history, items, context)
        metered = (
            native.metered(native.native_body(body, history, items), chat)
            if relayed
            else chat_types.metered_request(dumps(chat), False)
        )
        call = MeteredCall.of_models(edge, caller, metered, models)
    except RingsideError as error:
        if not caller.client_token:  # a request refused for its content is refused for its key first
            await verify_then_raise(edge, caller.api_key, error)
        raise
    answer = await call.run()
    if isinstance(answer, metering_pb2.Denial):
        return reject(request, answer)
    admitted(request)
    if answer.status != 200:  # the provider's error, in the envelope already
        return web.Response(
            status=answer.status, body=answer.body, headers=answer.headers, content_type="application/json"
        )
    response = wire.skeleton(new_id("resp"), int(time.time()), body)
    keeper = _Keeper(edge, request, caller, body, items)
    if relayed:
        return await _relayed(request, answer, keeper, response)
    if answer.relay is None:
        completion = orjson.loads(answer.body)
        response["model"] = str(completion.get("model") or response["model"])
        if searched is not None:
            response["output"].append(searched[0])
        wire.from_completion(response, completion)
        if searched is not None:
            file_search.cite(response, searched[1])
        await keeper.keep(response)
        return web.Response(body=dumps(response), headers=answer.headers, content_type="application/json")
    translator = StreamTranslator(response)
    if searched is not None:
        translator.annotations = file_search.citations(searched[1], 0)
    return await _stream(request, answer, translator, keeper, searched[0] if searched is not None else None)


async def _relayed(
    request: web.Request, answer: Answer, keeper: _Keeper, skeleton: dict[str, Any]
) -> web.StreamResponse:
    """The provider's own Response (or its stream), made Ringside's and kept (responses_native.py)."""
    body = keeper.body
    if answer.relay is None:
        response = native.owned(orjson.loads(answer.body), skeleton["id"], body)
        await keeper.keep(response)
        return web.Response(body=dumps(response), headers=answer.headers, content_type="application/json")
    return await _stream(request, answer, native.EventRewriter(skeleton["id"], body, skeleton), keeper, None)


async def _searched(
    edge: Edge,
    request: web.Request,
    caller: Caller,
    body: dict[str, Any],
    items: list[dict[str, Any]],
    search: file_search.FileSearch,
) -> tuple[dict[str, Any], list[SearchHit]] | metering_pb2.Denial:
    """Run the file_search tool (the caller's own stores; the query's embedding metered to it):
    the `file_search_call` item and what was found."""
    query = file_search.last_user_text(items)
    if not query.strip():
        raise wire.refuse("file_search searches for the last user message's text: there is none.", "input")
    found = await search_stores(
        edge,
        caller,
        authorization(request),
        search.vector_store_ids,
        query,
        search.max_num_results,
        search.filters,
        search.score_threshold,
    )
    if isinstance(found, metering_pb2.Denial):
        return found
    with_results = "file_search_call.results" in (body.get("include") or [])
    return file_search.call_item(query, found.hits, with_results), found.hits


class _Keeper:
    """Stores a finished response (unless `store: false`) as the caller, so that the caller's own
    customer owns it. A failure to store is logged, never turned into a failed call: it is paid."""

    def __init__(self, edge: Edge, request: web.Request, caller: Caller, body: dict[str, Any], items: list[Any]):
        self.edge, self.request, self.caller, self.body, self.items = edge, request, caller, body, items
        self.kept = False

    async def keep(self, response: dict[str, Any]) -> None:
        if not response["store"] or self.kept:
            return
        self.kept = True
        user = self.body.get("user")
        stored = responses_pb2.StoredResponse(
            id=response["id"],
            response_json=dumps(response).decode(),
            input_json=dumps(self.items).decode(),
            previous_response_id=self.body.get("previous_response_id") or "",
            created=response["created_at"],
        )
        try:
            await self.edge.core.as_caller(
                self.edge.core.responses.StoreResponse,
                responses_pb2.StoreResponseRequest(
                    response=stored, customer_ref=self.caller.customer_ref, user=user if isinstance(user, str) else ""
                ),
                authorization(self.request),
            )
        except RingsideError as error:
            log.warning("response %s not stored: %s", response["id"], error.code)


async def _history(edge: Edge, request: web.Request, previous: Any) -> list[dict[str, Any]]:
    """The items of the responses a `previous_response_id` continues: each one's input, then its output."""
    if not previous:
        return []
    try:
        found = await edge.core.as_caller(
            edge.core.responses.GetResponse,
            responses_pb2.GetResponseRequest(id=previous, customer_ref=_customer_ref(request), with_chain=True),
            authorization(request),
        )
    except RingsideError as error:
        if error.code != "not_found":
            raise
        raise RingsideError(
            "previous_response_not_found",
            f"Previous response with id '{str(previous)[:MAX_ID]}' not found.",
            "previous_response_id",
        ) from None
    items: list[dict[str, Any]] = []
    for stored in [*found.chain, found.response]:
        items += orjson.loads(stored.input_json)
        items += orjson.loads(stored.response_json).get("output", [])
    return items


async def _stream(
    request: web.Request,
    answer: Answer,
    translator: StreamTranslator | native.EventRewriter,
    keeper: _Keeper,
    searched: dict[str, Any] | None,
) -> web.StreamResponse:
    """The chat relay's frames as Responses events, always closed. The response is stored before
    its last event is sent, so a client that saw the end can continue from it at once."""
    relay = answer.relay
    assert relay is not None
    response = web.StreamResponse(status=200, headers=answer.headers)
    client_gone = False
    try:
        await response.prepare(request)
        if isinstance(translator, StreamTranslator):  # a relayed stream has its own start
            await response.write(translator.start())
        if searched is not None and isinstance(translator, StreamTranslator):
            await response.write(translator.searched(searched))
        async for frame in relay.events():
            out = translator.frame(frame)
            if translator.ended:
                await keeper.keep(translator.response)
            if out:
                await response.write(out)
        if not translator.ended:  # the relay ended without [DONE] or an error frame
            out = translator.failed("server_error", "The stream ended before the response completed.")
            await keeper.keep(translator.response)
            await response.write(out)
        await response.write_eof()
    except CLIENT_GONE:
        client_gone = True  # the call settles as aborted, for what was counted
    finally:
        await asyncio.shield(relay.close(client_gone))
    return response


async def _stored(request: web.Request) -> responses_pb2.GetResponseResponse:
    edge = request.app[EDGE]
    return await edge.core.as_caller(
        edge.core.responses.GetResponse,
        responses_pb2.GetResponseRequest(id=request.match_info["id"][:MAX_ID], customer_ref=_customer_ref(request)),
        authorization(request),
    )


async def get_response(request: web.Request) -> web.Response:
    if request.query.get("stream") in ("true", "1"):
        raise RingsideError("invalid_request", "Streaming a stored response again is not supported.", "stream")
    found = await _stored(request)
    return web.Response(body=found.response.response_json.encode(), content_type="application/json")


async def delete_response(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.responses.DeleteResponse,
        responses_pb2.DeleteResponseRequest(id=request.match_info["id"][:MAX_ID], customer_ref=_customer_ref(request)),
        authorization(request),
    )
    return web.Response(
        body=dumps({"id": result.id, "object": "response", "deleted": True}), content_type="application/json"
    )


async def list_input_items(request: web.Request) -> web.Response:
    """OpenAI's cursor list (`after`/`before`, `order` desc by default, `first_id`/`last_id`)."""
    items = orjson.loads((await _stored(request)).response.input_json)
    return web.Response(body=dumps(cursor_page(request, items)), content_type="application/json")
