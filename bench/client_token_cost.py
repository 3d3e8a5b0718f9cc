"""What verifying a Client Token costs the edge per call, in memory (no network).

Times `ringside_server.client_token.verify` (EdDSA signature, claims) plus the whitelist match the edge
does for each browser call, for a token with the tutorial's two endpoints and one with twenty; first
seen, and seen again (the edge keeps verified tokens, re-checking only their expiry).

    python -m bench.client_token_cost [--calls 20000]
"""

from __future__ import annotations

import argparse
import time

from ringside_server import client_token
from ringside_server.client_token import Claims
from ringside_server.endpoints import parse_endpoint

PATH = "/v1/customers/cus_bench"


def claims(endpoints: tuple[str, ...]) -> Claims:
    now = int(time.time())
    origin = "http://localhost:5173"
    return Claims("ct_bench", "acct_b", False, "cus_bench", "bench", origin, "", endpoints, now, now + 900, now * 1000)


def measure(endpoints: tuple[str, ...], calls: int, cached: bool) -> float:
    key = client_token.generate("kid_bench", int(time.time()))
    keys = {key.kid: key}
    token = client_token.sign(claims(endpoints), key)
    refs = frozenset({"cus_bench", "ext:bench"})
    verifier = client_token.VerifiedCache() if cached else None
    started = time.perf_counter()
    for _ in range(calls):
        if verifier is not None:
            verified = verifier.verify(token, keys, time.time())
        else:
            verified = client_token.verify(token, keys, time.time())
        assert any(parse_endpoint(e).match("GET", PATH, refs) == "own" for e in verified.endpoints)
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000)
    calls = max(100, min(parser.parse_args().calls, 1_000_000))
    tutorial = ("GET /v1/customers/:id", "GET /v1/usage")
    twenty = (*(f"GET /v1/things{i}/:id" for i in range(19)), "GET /v1/customers/:id")
    print(f"| token ({calls:,} verifications each) | µs per call |\n|---|---|")
    for name, endpoints in (("2 endpoints (the tutorial's)", tutorial), ("20 endpoints", twenty)):
        for cached in (False, True):
            label = f"{name}, {'seen before (the edge’s cache)' if cached else 'first time: signature checked'}"
            measure(endpoints, calls // 10, cached)
            print(f"| {label} | {measure(endpoints, calls, cached):.1f} |")


if __name__ == "__main__":
    main()
