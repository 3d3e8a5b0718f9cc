"""A Client Token's endpoint whitelist (API.md "Client Token"): `"METHOD /v1/path"` entries where
`:id` stands for the token's own customer and `*` for any one id after `threads`, `messages`, `runs`
or `steps` (ids a page learns as it goes; the object must still be the token's customer's, else
404). The kernel's, because both the core (issuing tokens) and the edge (matching every call a
browser makes) read them."""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

from ringside_server.errors import RingsideError

MAX_ENDPOINT_LENGTH = 200
METHODS = ("GET", "POST", "PATCH", "DELETE")
_SEGMENT = re.compile(r"^[A-Za-z0-9_.:~-]+$")
ANY_ID = "*"
# where "*" may stand for an id, and the prefix that id has: `POST /v1/threads/*` (modify a thread)
# does not match `POST /v1/threads/runs` (create a thread and run it), another route
ID_COLLECTIONS = {"threads": "thread_", "messages": "msg_", "runs": "run_", "steps": "step_"}


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    segments: tuple[str, ...]  # ":id" stands for the token's customer, "*" for any one id

    def match(self, method: str, path: str, customer_refs: frozenset[str]) -> str:
        """ "own": the route, for the token's customer; "other": the route, naming another customer
        (a 404: to a token, other customers do not exist); "no": not this route (a 403)."""
        parts = path.rstrip("/").split("/")[1:]
        if method != self.method or len(parts) != len(self.segments):
            return "no"
        verdict = "own"
        for before, part, wanted in zip(("", *parts), parts, self.segments, strict=False):
            if wanted == ":id":
                verdict = verdict if part in customer_refs else "other"
            elif wanted == ANY_ID:
                if not part.startswith(ID_COLLECTIONS[before]) or part == ID_COLLECTIONS[before]:
                    return "no"
            elif part != wanted:
                return "no"
        return verdict

    def __str__(self) -> str:
        return f"{self.method} /{'/'.join(self.segments)}"


@functools.lru_cache(maxsize=4096)  # the edge matches a token's entries on every call it makes
def parse_endpoint(entry: object) -> Endpoint:
    """`"GET /v1/customers/:id"` → Endpoint; a clear 400 for anything else."""
    if not isinstance(entry, str) or len(entry) > MAX_ENDPOINT_LENGTH:
        raise RingsideError(
            "invalid_request",
            f'allowed_endpoints entries are strings like "GET /v1/customers/:id" (≤ {MAX_ENDPOINT_LENGTH} chars).',
            "allowed_endpoints",
        )
    method, _, path = entry.strip().partition(" ")
    segments = tuple(path.strip().rstrip("/").split("/")[1:])
    if (
        method not in METHODS
        or not path.strip().startswith("/v1/")
        or not segments
        or not all(_SEGMENT.match(s) or s == ANY_ID for s in segments)
        or any(s == ANY_ID and before not in ID_COLLECTIONS for before, s in itertools.pairwise(segments))
    ):
        raise RingsideError(
            "invalid_request",
            f"'{entry[:100]}' is not an endpoint: write METHOD /v1/path, METHOD one of {', '.join(METHODS)}, "
            "':id' for the token's customer and '*' for a thread, message, run or step id.",
            "allowed_endpoints",
        )
    return Endpoint(method, segments)
