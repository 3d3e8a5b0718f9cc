"""A Client Token's whitelist entries: `:id` is the token's own customer, `*` one thread, message,
run or step id (ids a page learns as it goes), nowhere else."""

from __future__ import annotations

import pytest

from ringside_server.endpoints import parse_endpoint
from ringside_server.errors import RingsideError

MINE = frozenset({"cus_1", "ext:alice"})


def test_a_star_stands_for_one_id_after_an_assistants_collection() -> None:
    runs = parse_endpoint("POST /v1/threads/*/runs")
    assert runs.match("POST", "/v1/threads/thread_9/runs", MINE) == "own"
    assert runs.match("POST", "/v1/threads/thread_9/messages", MINE) == "no"
    assert runs.match("POST", "/v1/threads//runs", MINE) == "no"  # an empty id is no id
    assert runs.match("POST", "/v1/threads/thread_/runs", MINE) == "no"
    assert runs.match("POST", "/v1/threads/run_9/runs", MINE) == "no"  # not a thread's id
    # modifying a thread is not creating one and running it (POST /v1/threads/runs)
    assert parse_endpoint("POST /v1/threads/*").match("POST", "/v1/threads/runs", MINE) == "no"
    assert runs.match("POST", "/v1/threads/a/b/runs", MINE) == "no"  # one segment only
    assert runs.match("GET", "/v1/threads/thread_9/runs", MINE) == "no"
    polled = parse_endpoint("GET /v1/threads/*/runs/*")
    assert polled.match("GET", "/v1/threads/thread_9/runs/run_3", MINE) == "own"
    wallet = parse_endpoint("GET /v1/customers/:id/wallet")
    assert wallet.match("GET", "/v1/customers/cus_2/wallet", MINE) == "other"


@pytest.mark.parametrize(
    "entry",
    [
        "GET /v1/customers/*",  # a customer is `:id`, the token's own, never any
        "GET /v1/*",
        "POST /v1/customers/:id/*",  # a route name is never a wildcard
        "GET /v1/threads/th*",
    ],
)
def test_a_star_anywhere_else_is_refused(entry: str) -> None:
    with pytest.raises(RingsideError) as refused:
        parse_endpoint(entry)
    assert refused.value.param == "allowed_endpoints"
