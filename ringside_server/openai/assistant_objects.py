"""The Assistants API's objects as OpenAI shows them, shared by the edge (which makes assistants,
threads, user messages and runs) and a run's worker (which makes the assistant's messages and moves
the run along); and what a run's model call is given. Kept for compatibility: OpenAI has retired
the API (docs/assistants.md)."""

from __future__ import annotations

from typing import Any

TERMINAL = ("completed", "failed", "cancelled", "expired", "incomplete")
ACTIVE = ("queued", "in_progress", "requires_action", "cancelling")
RUN_TTL_S = 600  # OpenAI's: a run not finished ten minutes after it was made expires
MAX_THREAD_MESSAGES = 100  # what a run's model call is given of its thread: the newest (one page)
MAX_RUN_STEPS = 32  # model calls one run may make (a tool loop ends here, failed)


def message_object(
    message_id: str,
    thread_id: str,
    created: int,
    role: str,
    text: str,
    *,
    assistant_id: str | None = None,
    run_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    annotations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A `thread.message` with one text part, complete."""
    return {
        "id": message_id,
        "object": "thread.message",
        "created_at": created,
        "thread_id": thread_id,
        "status": "completed",
        "incomplete_details": None,
        "completed_at": created,
        "incomplete_at": None,
        "role": role,
        "content": [{"type": "text", "text": {"value": text, "annotations": annotations or []}}],
        "assistant_id": assistant_id,
        "run_id": run_id,
        "attachments": [],
        "metadata": metadata or {},
    }


def message_text(message: dict[str, Any]) -> str:
    """A message's text parts, joined."""
    return "\n".join(
        str(part["text"]["value"])
        for part in message.get("content") or []
        if part.get("type") == "text" and isinstance(part.get("text"), dict)
    )


def chat_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run's function tools as chat's (file_search is Ringside's own: never sent)."""
    return [
        {"type": "function", "function": tool["function"]}
        for tool in tools
        if tool.get("type") == "function" and isinstance(tool.get("function"), dict)
    ]


def file_search_stores(run: dict[str, Any], thread: dict[str, Any], assistant: dict[str, Any]) -> list[str] | None:
    """The stores a run's file_search searches (the thread's and the assistant's), None without the tool."""
    if not any(tool.get("type") == "file_search" for tool in run.get("tools") or []):
        return None
    stores: list[str] = []
    for owner in (thread, assistant):
        resources = (owner.get("tool_resources") or {}).get("file_search") or {}
        stores += [s for s in resources.get("vector_store_ids") or [] if isinstance(s, str) and s not in stores]
    return stores


def file_search_limit(run: dict[str, Any], default: int) -> int:
    for tool in run.get("tools") or []:
        if tool.get("type") == "file_search":
            limit = (tool.get("file_search") or {}).get("max_num_results")
            return limit if isinstance(limit, int) and not isinstance(limit, bool) else default
    return default


def run_instructions(run: dict[str, Any], additional: str) -> str:
    """The run's instructions (the assistant's unless the run overrode them), then additional ones."""
    parts = [run.get("instructions") or "", additional]
    return "\n\n".join(part for part in parts if part)


def usage_added(usage: dict[str, int] | None, more: dict[str, Any] | None) -> dict[str, int]:
    """A run's usage: the sum of its model calls'."""
    total = dict(usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = (more or {}).get(name)
        total[name] += value if isinstance(value, int) else 0
    return total
