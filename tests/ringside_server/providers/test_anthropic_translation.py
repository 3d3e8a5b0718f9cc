"""ringside_server/providers/anthropic: the translation pieces the e2e tests cannot reach directly."""

from __future__ import annotations

import orjson
import pytest

from ringside_server.errors import RingsideError
from ringside_server.providers.anthropic import request, response
from ringside_server.providers.anthropic.stream import StreamTranslator


def test_stream_usage_is_cumulative_the_last_message_delta_wins() -> None:
    translator = StreamTranslator()
    start = {
        "type": "message_start",
        "message": {"id": "m", "model": "x", "usage": {"input_tokens": 10, "output_tokens": 1}},
    }
    translator.event(orjson.dumps(start))
    translator.event(
        orjson.dumps({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}})
    )
    late = {"input_tokens": 12, "cache_read_input_tokens": 3, "output_tokens": 9}
    translator.event(orjson.dumps({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": late}))
    final = orjson.loads(translator.event(b'{"type": "message_stop"}')[0][6:])
    assert final["usage"]["prompt_tokens"] == 15 and final["usage"]["completion_tokens"] == 9
    assert final["usage"]["prompt_tokens_details"] == {"cached_tokens": 3, "cache_write_tokens": 0}


@pytest.mark.parametrize(
    ("reason", "finish"),
    [("end_turn", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"), ("refusal", "content_filter")],
)
def test_stop_reasons_map_to_finish_reasons(reason: str, finish: str) -> None:
    message = {"id": "m", "model": "x", "content": [], "stop_reason": reason, "usage": {}}
    assert response.completion(message)["choices"][0]["finish_reason"] == finish


def test_overloaded_is_503_in_openais_envelope() -> None:
    status, envelope = response.error(
        b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', 529
    )
    assert status == 503 and envelope["error"]["code"] == "model_unavailable"


def test_what_anthropic_cannot_express_is_a_400_before_any_call() -> None:
    with pytest.raises(RingsideError, match="n must be 1"):
        request.translate({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2}, 100)
    with pytest.raises(RingsideError, match="only text and image_url"):
        request.translate({"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}, 100)


def test_consecutive_tool_results_share_one_user_turn_and_defaults_fill_max_tokens() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "tool", "tool_call_id": "a", "content": "1"},
            {"role": "tool", "tool_call_id": "b", "content": [{"type": "text", "text": "2"}]},
        ],
        "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}},
    }
    translated = request.translate(body, 777)
    assert translated["max_tokens"] == 777
    assert [block["tool_use_id"] for block in translated["messages"][0]["content"]] == ["a", "b"]
    assert translated["output_config"] == {"format": {"type": "json_schema", "schema": {"type": "object"}}}
