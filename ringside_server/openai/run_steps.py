"""A run's steps (`thread.run.step`), as OpenAI shows them: what the run did, in order — a
`tool_calls` step for Ringside's file_search and for each round of function calls (their outputs
filled in when submitted), a `message_creation` step for the assistant's answer.

The worker records them in the run's private state as it moves the run along (each under an id
derived from the run and its step, so a retried step writes the same one); the edge lists them."""

from __future__ import annotations

import hashlib
from typing import Any

STEPS_KEY = "run_steps"  # in the run's private JSON


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


def file_search_step(run: dict[str, Any], step: int, now: int) -> dict[str, Any]:
    """Ringside's search, run before the model's first call (its results are not kept in the step)."""
    call = {"id": "call_" + step_id(run["id"], step, "fs")[5:], "type": "file_search", "file_search": {}}
    details = {"type": "tool_calls", "tool_calls": [call]}
    return _step(run, step_id(run["id"], step, "file_search"), details, "completed", now, None)


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


def shown(step: dict[str, Any]) -> dict[str, Any]:
    """A step as the API shows it (without what Ringside keeps beside it)."""
    return {name: value for name, value in step.items() if not name.startswith("ringside_")}
