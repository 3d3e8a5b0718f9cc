"""A circuit breaker per provider, for slot calls: after `threshold` attempts in a row that failed
before their first byte (429/5xx, timeout, unreachable), a slot's call skips that provider for
`cooldown_s` and goes straight to its next model. When the cooldown is over one call may try it
again: a success closes the breaker, a failure opens it again at once. A call with no other model
left always tries (an open breaker never turns a call away by itself)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class Breakers:
    threshold: int = 5
    cooldown_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    # provider → failures in a row; provider → when it may be tried again (kept after the cooldown,
    # so the first failure after it reopens at once)
    failures: dict[str, int] = field(default_factory=dict)
    open_until: dict[str, float] = field(default_factory=dict)

    def available(self, provider: str) -> bool:
        return self.open_until.get(provider, 0.0) <= self.clock()

    def failed(self, provider: str) -> None:
        count = self.failures.get(provider, 0) + 1
        if count >= self.threshold or provider in self.open_until:
            self.open_until[provider] = self.clock() + self.cooldown_s
            count = 0
        self.failures[provider] = count

    def succeeded(self, provider: str) -> None:
        if self.failures.get(provider) or provider in self.open_until:
            self.failures.pop(provider, None)
            self.open_until.pop(provider, None)
