"""API keys the core confirmed a moment ago, so authenticating from the headers before the body
(edge_http/bodies.py) costs a core round trip per key per half second, not per request — and, refreshed
ahead of its end (single_flight.py), no request of a steady caller waits for one. A lease report
confirms its lease's key too (lease_reports.py): a steady caller's key then needs no VerifyApiKey."""

from __future__ import annotations

import hashlib

# A key the core confirmed is trusted this long without asking again: inside the 1 s within which a
# revocation reaches every edge (API.md "API keys").
VERIFIED_KEY_TTL_S = 0.5
MAX_VERIFIED_KEYS = 10_000


class VerifiedKeys:
    """Keys the core confirmed a moment ago, by SHA-256 (the key itself is never kept)."""

    def __init__(self) -> None:
        self._until: dict[bytes, float] = {}

    def seen(self, api_key: str, now: float) -> bool:
        return self.trusted_until(api_key) > now

    def trusted_until(self, api_key: str) -> float:
        """When the core's last confirmation of `api_key` runs out (0.0: never confirmed)."""
        return self._until.get(hashlib.sha256(api_key.encode()).digest(), 0.0)

    def forget(self, api_key: str) -> None:
        """The core refused `api_key` (revoked, deleted): trusted no longer, from now."""
        self._until.pop(hashlib.sha256(api_key.encode()).digest(), None)

    def confirmed(self, api_key: str, asked_at: float, valid: bool) -> None:
        """The core's answer about `api_key`, asked at `asked_at` by a lease report (lease_reports.py):
        trusted from then as by a VerifyApiKey asked then, or no longer trusted."""
        if valid:
            self.add(api_key, asked_at)
        else:
            self.forget(api_key)

    def add(self, api_key: str, now: float) -> None:
        if len(self._until) >= MAX_VERIFIED_KEYS:
            self._until = {digest: until for digest, until in self._until.items() if until > now}
            if len(self._until) >= MAX_VERIFIED_KEYS:
                self._until.clear()
        self._until[hashlib.sha256(api_key.encode()).digest()] = now + VERIFIED_KEY_TTL_S
