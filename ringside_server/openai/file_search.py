"""The Responses API's `file_search` tool, run by Ringside against its own vector stores: the
request's tool checked, what to search for, what the model is given, and what the response shows
(a `file_search_call` item, `file_citation` annotations)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ringside_server.ids import new_id
from ringside_server.openai.responses import DEFAULT_SEARCH_RESULTS, refuse

MAX_SEARCHED_STORES = 10
MAX_CONTEXT_CHARS = 200_000  # what the model is given of the results, at most


class Hit(Protocol):
    """A search result as the rag search gives it."""

    @property
    def file_id(self) -> str: ...
    @property
    def filename(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def attributes(self) -> dict[str, Any]: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True, slots=True)
class FileSearch:
    """The `file_search` tool: Ringside searches these stores itself (the caller's own)."""

    vector_store_ids: list[str]
    max_num_results: int
    filters: dict[str, Any] | None
    score_threshold: float | None


def file_search_of(body: dict[str, Any]) -> FileSearch | None:
    """The request's file_search tool (at most one), checked; None without one."""
    tools = body.get("tools")
    listed = tools if isinstance(tools, list) else []
    found = [tool for tool in listed if isinstance(tool, dict) and tool.get("type") == "file_search"]
    if not found:
        return None
    if len(found) > 1:
        raise refuse("At most one file_search tool.", "tools")
    tool = found[0]
    ids = tool.get("vector_store_ids")
    if (
        not isinstance(ids, list)
        or not 1 <= len(ids) <= MAX_SEARCHED_STORES
        or not all(isinstance(store_id, str) for store_id in ids)
    ):
        raise refuse(f"file_search needs vector_store_ids: 1..{MAX_SEARCHED_STORES} store ids.", "tools")
    limit = tool.get("max_num_results", DEFAULT_SEARCH_RESULTS)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 50:
        raise refuse("file_search.max_num_results must be an integer in 1..50.", "tools")
    filters = tool.get("filters")
    if filters is not None and not isinstance(filters, dict):
        raise refuse("file_search.filters must be a comparison or compound filter.", "tools")
    ranking = tool.get("ranking_options") or {}
    threshold = ranking.get("score_threshold") if isinstance(ranking, dict) else None
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
        raise refuse("file_search.ranking_options.score_threshold must be a number.", "tools")
    return FileSearch(ids, limit, filters, float(threshold) if threshold is not None else None)


def last_user_text(items: list[dict[str, Any]]) -> str:
    """The text of the last user message: what file_search searches for."""
    for item in reversed(items):
        if item.get("type", "message") == "message" and item.get("role") == "user":
            return " ".join(str(p.get("text", "")) for p in item["content"] if p.get("type") == "input_text")
    return ""


def context_of(hits: Sequence[Hit]) -> str:
    """The results as the model reads them: numbered excerpts, each naming its file."""
    if not hits:
        return "A search of the user's files found nothing relevant to this question."
    lines = ["Excerpts from the user's files, found by searching them for this question (cite the file):"]
    for number, hit in enumerate(hits, 1):
        lines.append(f"[{number}] {hit.filename} ({hit.file_id}):\n{hit.text}")
    return "\n\n".join(lines)[:MAX_CONTEXT_CHARS]


def call_item(query: str, hits: Sequence[Hit], with_results: bool) -> dict[str, Any]:
    """The `file_search_call` output item (results only when `include` asks for them)."""
    results = [
        {"file_id": h.file_id, "filename": h.filename, "score": h.score, "text": h.text, "attributes": h.attributes}
        for h in hits
    ]
    return {
        "id": new_id("fs"),
        "type": "file_search_call",
        "status": "completed",
        "queries": [query],
        "results": results if with_results else None,
    }


def citations(hits: Sequence[Hit], at: int) -> list[dict[str, Any]]:
    """One `file_citation` per file found, at the end of the answer's text (index `at`)."""
    seen: dict[str, Hit] = {}
    for hit in hits:
        seen.setdefault(hit.file_id, hit)
    return [{"type": "file_citation", "index": at, "file_id": h.file_id, "filename": h.filename} for h in seen.values()]


def cite(response: dict[str, Any], hits: Sequence[Hit]) -> None:
    """Annotate the response's message (its output_text) with the files found."""
    for item in response["output"]:
        if item.get("type") == "message":
            for part in item["content"]:
                if part.get("type") == "output_text":
                    part["annotations"] = citations(hits, len(part["text"]))
            return
