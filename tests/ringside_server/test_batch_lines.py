"""A batch's input lines: each rule of OpenAI's format refused with its line named, blank lines
skipped, the line bound, and the count a valid file gives."""

from __future__ import annotations

import json
import pathlib

import pytest

from ringside_server.batches.lines import MAX_LINES, count_lines, read_lines
from ringside_server.errors import RingsideError

CHAT = "/v1/chat/completions"


def line(custom_id: str, **changes: object) -> dict[str, object]:
    body = {"model": "fc:openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body, **changes}


def write(tmp_path: pathlib.Path, lines: list[object] | bytes) -> pathlib.Path:
    path = tmp_path / "batch.jsonl"
    path.write_bytes(lines if isinstance(lines, bytes) else b"".join(json.dumps(x).encode() + b"\n" for x in lines))
    return path


def test_a_valid_file_counts_its_requests_and_skips_blank_lines(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, json.dumps(line("a")).encode() + b"\n\n   \n" + json.dumps(line("b")).encode())
    assert count_lines(path, CHAT, 1 << 20) == 2
    assert [(x.number, x.custom_id) for x in read_lines(path, CHAT, 1 << 20)] == [(1, "a"), (4, "b")]


@pytest.mark.parametrize(
    ("lines", "number", "words"),
    [
        ([line("a"), "not an object"], 2, "not a JSON object"),
        ([line("a"), line("a")], 2, "custom_id 'a'"),
        ([line("")], 1, "custom_id must be"),
        ([line("a", method="GET")], 1, "method"),
        ([line("a", url="/v1/embeddings")], 1, "url must be"),
        ([line("a", body=[1])], 1, "body must be"),
        ([line("a", body={"messages": []})], 1, "body.model"),
        ([line("a", body={"model": "m", "stream": True})], 1, "cannot stream"),
        ([line("a", body={"model": "m", "user": "u" * 256})], 1, "body.user"),
    ],
)
def test_each_rule_names_its_line(tmp_path: pathlib.Path, lines: list[object], number: int, words: str) -> None:
    with pytest.raises(RingsideError) as refused:
        count_lines(write(tmp_path, lines), CHAT, 1 << 20)
    assert refused.value.param == "input_file_id"
    assert refused.value.message.startswith(f"Line {number} ") and words in refused.value.message


def test_bounds_a_line_and_the_number_of_lines(tmp_path: pathlib.Path) -> None:
    with pytest.raises(RingsideError, match=r"Line 1 .*at most 100 bytes"):
        count_lines(write(tmp_path, [line("a")]), CHAT, 100)
    many = b"".join(json.dumps(line(str(n))).encode() + b"\n" for n in range(MAX_LINES + 1))
    with pytest.raises(RingsideError, match=f"Line {MAX_LINES + 1} "):
        count_lines(write(tmp_path, many), CHAT, 1 << 20)
    with pytest.raises(RingsideError, match="no requests"):
        count_lines(write(tmp_path, b"\n"), CHAT, 1 << 20)
