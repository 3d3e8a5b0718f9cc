"""OpenAI's rate-limit headers (`x-ratelimit-*`) and the seeds' `X-RateLimit-Remaining`."""

from __future__ import annotations

from dataclasses import dataclass

from ringside.core.v1 import metering_pb2


@dataclass(frozen=True, slots=True)
class RateView:
    """The tightest layer's numbers as one response reports them; a limit of 0 = none applies."""

    requests_limit: int = 0
    requests_remaining: int = 0
    requests_reset_ms: int = 0
    tokens_limit: int = 0
    tokens_remaining: int = 0
    tokens_reset_ms: int = 0

    @classmethod
    def of(cls, status: metering_pb2.RateLimitStatus) -> RateView:
        return cls(
            status.requests_limit,
            status.requests_remaining,
            status.requests_reset_ms,
            status.tokens_limit,
            status.tokens_remaining,
            status.tokens_reset_ms,
        )

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.requests_limit:
            headers["x-ratelimit-limit-requests"] = str(self.requests_limit)
            headers["x-ratelimit-remaining-requests"] = str(self.requests_remaining)
            headers["x-ratelimit-reset-requests"] = duration(self.requests_reset_ms)
            headers["X-RateLimit-Remaining"] = str(self.requests_remaining)
        if self.tokens_limit:
            headers["x-ratelimit-limit-tokens"] = str(self.tokens_limit)
            headers["x-ratelimit-remaining-tokens"] = str(self.tokens_remaining)
            headers["x-ratelimit-reset-tokens"] = duration(self.tokens_reset_ms)
        return headers


def duration(milliseconds: int) -> str:
    """A duration as OpenAI writes its resets (Go's style): `0s`, `120ms`, `8.64s`, `6m0s`, `1h0m0s`."""
    if milliseconds <= 0:
        return "0s"
    if milliseconds < 1000:
        return f"{milliseconds}ms"
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = f"{rest // 1000}.{rest % 1000:03d}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{minutes}m{seconds}"
    return seconds
