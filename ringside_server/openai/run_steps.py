"""A run's steps (`thread.run.step`), as OpenAI shows them: what the run did, in order — a
`tool_calls` step for Ringside's file_search and for each round of function calls (their outputs
filled in when submitted), a `message_creation` step for the assistant's answer.

The worker records them in the run's private state as it moves the run along (each under an id
derived from the run and its step, so a retried step writes the same one); the edge lists them."""

from __future__ import annotations

import hashlib
from typing import Any

STEPS_KEY = "run_steps"  # in the run's private JSON
MAX_RESULT_TEXT = 16_000  # one file_search result's kept text (a chunk is far smaller)


def step_id(run_id: str, step: int, kind: str) -> str:
    return "step_" + hashlib.sha256(f"{run_id}:{step}:{kind}".encode()).hexdigest()[:24]


def _step(
    run: dict[str, Any], ident: str, details: dict[str, Any], status: str, now: int, usage: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "thread.run.step",
        "created_at": now,
        "assistant_id": run["assistant_id"],
        "thread_id": run["thread_id"],
        "run_id": run["id"],
        "type": details["type"],
        "status": status,
        "step_details": details,
        "last_error": None,
        "expired_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": now if status == "completed" else None,
        "metadata": {},
        "usage": _usage(usage) if status == "completed" else None,
    }


def _usage(usage: dict[str, Any] | None) -> dict[str, int] | None:
    if not isinstance(usage, dict):
        return None
    names = ("prompt_tokens", "completion_tokens", "total_tokens")
    return {name: int(usage.get(name) or 0) for name in names}


def record(private: dict[str, Any], step: dict[str, Any]) -> None:
    """Add (or, on a retried step, replace) a step in the run's private state."""
    steps = [known for known in private.get(STEPS_KEY, []) if known["id"] != step["id"]]
    private[STEPS_KEY] = [*steps, step]


def file_search_step(
    run: dict[str, Any], step: int, now: int, results: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Ringside's search, run before the model's first call, with what it found (`search_results`)."""
    found = {
        "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.0},
        "results": results or [],
    }
    call = {"id": "call_" + step_id(run["id"], step, "fs")[5:], "type": "file_search", "file_search": found}
    details = {"type": "tool_calls", "tool_calls": [call]}
    return _step(run, step_id(run["id"], step, "file_search"), details, "completed", now, None)


def search_results(hits: list[tuple[str, str, float, str]]) -> list[dict[str, Any]]:
    """(file_id, filename, score, text) hits as a file_search step's results (content kept; it is
    shown only when `include` asks for it)."""
    return [
        {
            "file_id": file_id,
            "file_name": filename,
            "score": min(1.0, max(0.0, float(score))),
            "content": [{"type": "text", "text": text[:MAX_RESULT_TEXT]}],
        }
        for file_id, filename, score, text in hits
    ]


INCLUDE_CONTENT = "step_details.tool_calls[*].file_search.results[*].content"


def function_calls_step(
    run: dict[str, Any], step: int, tool_calls: list[dict[str, Any]], now: int, usage: dict[str, Any] | None
) -> dict[str, Any]:
    """A model call that asked for functions: in progress until their outputs come."""
    calls = [
        {"id": call["id"], "type": "function", "function": {**call["function"], "output": None}} for call in tool_calls
    ]
    details = {"type": "tool_calls", "tool_calls": calls}
    made = _step(run, step_id(run["id"], step, "tool_calls"), details, "in_progress", now, None)
    made["ringside_usage"] = _usage(usage)  # shown once the step completes
    return made


def outputs_given(private: dict[str, Any], outputs: list[dict[str, str]], now: int) -> None:
    """The outputs of the function calls a run waited for: their step completes."""
    given = {output["tool_call_id"]: output["output"] for output in outputs}
    for step in private.get(STEPS_KEY, []):
        calls = step["step_details"].get("tool_calls") or []
        if step["status"] == "in_progress" and any(call.get("id") in given for call in calls):
            for call in calls:
                if call.get("type") == "function" and call["id"] in given:
                    call["function"]["output"] = given[call["id"]]
            step |= {"status": "completed", "completed_at": now, "usage": step.pop("ringside_usage", None)}


def message_step(
    run: dict[str, Any], step: int, message_id: str, now: int, usage: dict[str, Any] | None
) -> dict[str, Any]:
    details = {"type": "message_creation", "message_creation": {"message_id": message_id}}
    return _step(run, step_id(run["id"], step, "message_creation"), details, "completed", now, usage)


def shown(step: dict[str, Any], with_content: bool = False) -> dict[str, Any]:
    """A step as the API shows it (without what Ringside keeps beside it); a file_search call's
    results carry their `content` only `with_content` (OpenAI's `include[]` of INCLUDE_CONTENT)."""
    out = {name: value for name, value in step.items() if not name.startswith("ringside_")}
    if with_content:
        return out
    calls = out["step_details"].get("tool_calls")
    if not any(call.get("type") == "file_search" for call in calls or []):
        return out
    trimmed = []
    for call in calls:
        if call.get("type") == "file_search" and call.get("file_search", {}).get("results"):
            results = [{k: v for k, v in r.items() if k != "content"} for r in call["file_search"]["results"]]
            call = {**call, "file_search": {**call["file_search"], "results": results}}
        trimmed.append(call)
    return {**out, "step_details": {**out["step_details"], "tool_calls": trimmed}}
