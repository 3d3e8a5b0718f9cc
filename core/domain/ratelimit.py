"""Rate limits (API.md "Rate limits"): sliding 60-second logs, exact for every edge at once.

Each limited key (a client IP, a client token, an account, a customer) has a window: the entries
admitted in the last 60 s, each `(at, requests, tokens)`, with running sums. A call is admitted only
if every layer still has room; it then charges an entry in each. There is no fixed-window reset to
burst through: an entry stops counting exactly 60 s after its `at`.

Charges are adjusted once the truth is known: a call's tokens (reserved at its estimate) become
its actual tokens at settle; a lease's requests and tokens (reserved for the calls it may cover)
shrink to what its calls used when it closes. A lease's entry is dated at the end of its admission
window, so whichever moment inside that window its calls were admitted, each counts for a full
60 s after it: never more than the limit in any 60-second span.

A lease's request slots no report has named yet are "unsure": the edge may still admit calls
under them until its admission window ends, when it reports the lease retired and the slots it did
not take are given back. A refusal that only those slots cause says by when they will be known
(`Refusal.settles_by`): the core then waits that long (bounded) before deciding, so that calls are
never refused for room a lease on another edge ends up not using (never fewer than the limit
admitted, as never more). Below the limit nothing waits.

Windows live in memory only (the core is the one place that decides): a core restart forgets them.
With several active cores a partition handed back takes its accounts' windows along (`export`,
`absorb`; core/store/partition_windows.py); one taken from a dead or frozen core starts empty.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

WINDOW_S = 60.0
IDLE_SWEEP_EVERY_S = 60.0


@dataclass(slots=True, eq=False)
class Entry:
    at: float
    requests: int
    tokens: int
    counted: bool = True  # False once it has left its window (adjusting it then changes nothing)
    unsure: int = 0  # a lease's request slots that no report has named taken (it may not use them)


@dataclass(slots=True, eq=False)
class Window:
    """Entries in two lanes, each in `at` order: calls (dated when admitted) and leases (dated at
    the end of their admission window, ahead of the calls admitted meanwhile)."""

    calls: deque[Entry] = field(default_factory=deque)
    leases: deque[Entry] = field(default_factory=deque)
    requests: int = 0
    tokens: int = 0
    latest_at: float = 0.0
    span_s: float = WINDOW_S
    # Set once the limiter tracks changes for checkpoints (`RateLimiter.changed`): the window's key
    # and the limiter's dirty set, which every change of its entries puts the key in. None (a
    # single core, no checkpoints): nothing tracked, nothing spent.
    key: tuple[str, ...] = ()
    dirty: dict[tuple[str, ...], None] | None = None

    def add(self, entry: Entry, now: float) -> None:
        (self.leases if entry.at > now else self.calls).append(entry)
        self.requests += entry.requests
        self.tokens += entry.tokens
        self.latest_at = max(self.latest_at, entry.at)
        if self.dirty is not None:
            self.dirty[self.key] = None

    def prune(self, now: float) -> None:
        horizon = now - self.span_s
        for lane in (self.calls, self.leases):
            while lane and lane[0].at <= horizon:
                entry = lane.popleft()
                entry.counted = False
                self.requests -= entry.requests
                self.tokens -= entry.tokens
                if self.dirty is not None:
                    self.dirty[self.key] = None

    @property
    def empty(self) -> bool:
        return not self.calls and not self.leases

    def unsure(self) -> tuple[int, float]:
        """Request slots of open leases not known taken yet, and when the last of those leases
        stops admitting (its entry's `at` is the end of its admission window)."""
        slots, until = 0, 0.0
        for entry in self.leases:
            if entry.unsure:
                slots += entry.unsure
                until = max(until, entry.at)
        return slots, until

    def used(self, unit: str) -> int:
        return self.requests if unit == "requests" else self.tokens

    def wait_s(self, now: float, unit: str, limit: int, need: int) -> float:
        """Seconds until `need` more fit under `limit` (inf when they never can)."""
        if need > limit:
            return math.inf
        excess = self.used(unit) + need - limit
        if excess <= 0:
            return 0.0
        for entry in heapq.merge(self.calls, self.leases, key=lambda entry: entry.at):  # in the order they leave
            excess -= entry.requests if unit == "requests" else entry.tokens
            if excess <= 0:
                return max(0.0, entry.at + self.span_s - now)
        return self.span_s

    def reset_s(self, now: float) -> float:
        """Seconds until the window is empty again (OpenAI's x-ratelimit-reset-*)."""
        return 0.0 if self.empty else max(0.0, self.latest_at + self.span_s - now)


@dataclass(frozen=True, slots=True)
class RateDefaults:
    """The operator's limits per minute (settings); 0 turns a layer off."""

    ip_per_min: int = 0
    client_token_per_min: int = 0
    account_per_min: int = 0
    # The span every "per minute" is counted over: a minute (API.md); tests shorten it to see a
    # window slide without waiting a minute (RINGSIDE_RATE_LIMIT_WINDOW_S).
    window_s: float = WINDOW_S


@dataclass(frozen=True, slots=True)
class Layer:
    """One limit a call is subject to. `requests`/`tokens` per minute; None = not limited."""

    code: str  # the 429's error code
    key: tuple[str, ...]
    requests: int | None
    tokens: int | None = None
    # A block of an IP's window borrowed from its owner (core/domain/ip_blocks.py): `requests` is
    # the block's size, `shown` the IP's limit (the 429's message, the headers) and `retry_after_s`
    # the wait its refusal answers (the block's window does not know the IP's).
    shown: int | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    message: str
    retry_after_s: float  # inf: waiting cannot help
    # Set when open leases' unsure slots alone cause it: they are all known by this time (the
    # leases' admission windows end), and the decision may then differ.
    settles_by: float | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """The tightest layer's numbers, for the x-ratelimit-* headers (None: no such limit)."""

    requests_limit: int | None = None
    requests_remaining: int = 0
    requests_reset_s: float = 0.0
    tokens_limit: int | None = None
    tokens_remaining: int = 0
    tokens_reset_s: float = 0.0


@dataclass(slots=True, eq=False)
class Charge:
    """What one call or lease took from each of its windows."""

    parts: list[tuple[Window, Entry, bool]]  # (window, its entry, whether that layer limits tokens)
    status: Status

    def adjust(self, requests: int, tokens: int) -> None:
        """Set the charge to what was actually used (never above what was reserved for requests)."""
        for window, entry, counts_tokens in self.parts:
            requests_now = min(requests, entry.requests)
            tokens_now = tokens if counts_tokens else 0
            if entry.counted:
                window.requests += requests_now - entry.requests
                window.tokens += tokens_now - entry.tokens
            entry.requests, entry.tokens, entry.unsure = requests_now, tokens_now, 0
            if window.dirty is not None:
                window.dirty[window.key] = None

    def taken(self, requests: int) -> None:
        """A lease's report: `requests` of its slots are known taken."""
        for _, entry, _ in self.parts:
            if entry.unsure:
                entry.unsure = max(0, entry.requests - requests)

    def retire(self, requests: int) -> None:
        """A lease admits no more: only the `requests` its calls took still count (their tokens
        are corrected when it closes)."""
        for window, entry, _ in self.parts:
            requests_now = min(requests, entry.requests)
            if entry.counted:
                window.requests += requests_now - entry.requests
            entry.requests, entry.unsure = requests_now, 0
            if window.dirty is not None:
                window.dirty[window.key] = None


# A window's two lanes copied for a checkpoint (`RateLimiter.changed_lanes`).
Lanes = tuple[tuple[Entry, ...], tuple[Entry, ...]]


def entries_of(lanes: Lanes) -> list[tuple[float, int, int]]:
    """A window's entries `(at, requests, tokens)` in `at` order, from a copy of its lanes (safe in
    a worker thread: the lanes are copies; an entry adjusted meanwhile is read as it is now, and
    its window, changed again, is written again at the next checkpoint)."""
    calls, leases = lanes
    return [(e.at, e.requests, e.tokens) for e in heapq.merge(calls, leases, key=lambda entry: entry.at)]


LAYER_NAMES = {
    "ip_rate_limit_exceeded": "this IP address",
    "client_token_rate_limit_exceeded": "this client token",
    "account_rate_limit_exceeded": "this account",
    "customer_rate_limit_exceeded": "this customer",
}


class RateLimiter:
    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._windows: dict[tuple[str, ...], Window] = {}
        self._swept_at = 0.0
        # The keys of the windows changed (or forgotten) since the last checkpoint, in the order
        # they changed; None until the first `changed` (a core that never checkpoints tracks nothing).
        self._dirty: dict[tuple[str, ...], None] | None = None

    def _window(self, key: tuple[str, ...], now: float) -> Window:
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = Window(span_s=self.window_s, key=key, dirty=self._dirty)
        else:
            window.prune(now)
        return window

    def lanes(self, key: tuple[str, ...], now: float) -> Lanes:
        """A copy of one window's two lanes (`entries_of` lists them)."""
        window = self._window(key, now)
        return tuple(window.calls), tuple(window.leases)

    def check_requests(self, layers: Sequence[Layer], now: float, requests: int = 1) -> Refusal | None:
        """The first layer (in order) without room for `requests` more, as a refusal; its
        `settles_by` is set when every layer without room may have it once open leases are known."""
        first: Refusal | None = None
        settles_by: float | None = 0.0
        for layer in layers:
            if layer.requests is None:
                continue
            window = self._window(layer.key, now)
            if window.requests + requests <= layer.requests:
                continue
            if first is None:
                wait = window.wait_s(now, "requests", layer.requests, requests)
                if layer.retry_after_s is not None:
                    wait = layer.retry_after_s
                limit = layer.shown if layer.shown is not None else layer.requests
                message = f"Rate limit of {limit} requests per minute reached for {LAYER_NAMES[layer.code]}."
                first = Refusal(layer.code, message, wait)
            unsure, until = window.unsure()
            if settles_by is not None and window.requests - unsure + requests <= layer.requests:
                settles_by = max(settles_by, until)
            else:
                settles_by = None
        if first is None or settles_by is None:
            return first
        return Refusal(first.code, first.message, first.retry_after_s, settles_by)

    def room(self, layers: Sequence[Layer], unit: str, now: float) -> tuple[int | None, Layer | None]:
        """The least room left in `unit` over the layers limiting it (None: unlimited)."""
        least: tuple[int | None, Layer | None] = (None, None)
        for layer in layers:
            limit = layer.requests if unit == "requests" else layer.tokens
            if limit is None:
                continue
            room = max(0, limit - self._window(layer.key, now).used(unit))
            if least[0] is None or room < least[0]:
                least = (room, layer)
        return least

    def tokens_refusal(self, layer: Layer, now: float, need: int) -> Refusal:
        limit = layer.tokens or 0
        wait = self._window(layer.key, now).wait_s(now, "tokens", limit, need)
        return Refusal(
            layer.code, f"Rate limit of {limit} tokens per minute reached for {LAYER_NAMES[layer.code]}.", wait
        )

    def charge(
        self, layers: Sequence[Layer], now: float, at: float, requests: int, tokens: int, lease: bool = False
    ) -> Charge:
        """Take `requests` and `tokens` from every limited layer (checked before by the caller); a
        lease's slots are unsure until its reports name them taken."""
        parts: list[tuple[Window, Entry, bool]] = []
        for layer in layers:
            if layer.requests is None and layer.tokens is None:
                continue
            window = self._window(layer.key, now)
            entry = Entry(at, requests, tokens if layer.tokens is not None else 0, unsure=requests if lease else 0)
            window.add(entry, now)
            parts.append((window, entry, layer.tokens is not None))
        return Charge(parts, self.status(layers, now))

    def refund(self, charge: Charge) -> None:
        charge.adjust(0, 0)

    def status(self, layers: Sequence[Layer], now: float) -> Status:
        requests, request_layer = self.room(layers, "requests", now)
        tokens, token_layer = self.room(layers, "tokens", now)
        return Status(
            requests_limit=(request_layer.shown or request_layer.requests) if request_layer else None,
            requests_remaining=requests or 0,
            requests_reset_s=self._windows[request_layer.key].reset_s(now) if request_layer else 0.0,
            tokens_limit=token_layer.tokens if token_layer else None,
            tokens_remaining=tokens or 0,
            tokens_reset_s=self._windows[token_layer.key].reset_s(now) if token_layer else 0.0,
        )

    def export(
        self, owned: Callable[[tuple[str, ...]], bool], now: float
    ) -> list[tuple[tuple[str, ...], list[tuple[float, int, int]]]]:
        """Removes the windows whose key `owned` says leave with a partition handed back, and
        returns their entries still counting, `(at, requests, tokens)` (core/store/partition_windows.py)."""
        moved = []
        for key in [k for k in self._windows if owned(k)]:
            window = self._windows.pop(key)
            window.prune(now)
            if self._dirty is not None:
                self._dirty[key] = None  # forgotten: its row is no longer this core's to keep
            entries = sorted((e.at, e.requests, e.tokens) for lane in (window.calls, window.leases) for e in lane)
            if entries:
                moved.append((key, entries))
        return moved

    def changed(
        self,
        owned: Callable[[tuple[str, ...]], bool],
        seen: dict[tuple[str, ...], tuple[int, int, int, float]],
        limit: int,
    ) -> tuple[list[tuple[tuple[str, ...], list[tuple[float, int, int]]]], list[tuple[str, ...]]]:
        """For a checkpoint (core/store/partition_windows.py): up to `limit` windows `owned` whose
        counts changed since `seen` was last updated, with their entries `(at, requests, tokens)`
        (left in place, unlike `export`), and the keys in `seen` no longer kept (swept, handed
        back) or no longer `owned`. `seen` is updated as if both were written: the caller keeps it
        only when they were, and then gives the keys back (`unwritten`) when they were not."""
        changed, gone = self.changed_lanes(owned, seen, limit)
        return [(key, entries_of(lanes)) for key, lanes in changed], gone

    def changed_lanes(
        self,
        owned: Callable[[tuple[str, ...]], bool],
        seen: dict[tuple[str, ...], tuple[int, int, int, float]],
        limit: int,
    ) -> tuple[list[tuple[tuple[str, ...], Lanes]], list[tuple[str, ...]]]:
        """`changed`, each window's entries as copies of its two lanes, listed by `entries_of` —
        in a worker thread (core/services/window_checkpoints.py): the event loop only copies them.

        Only the windows changed since the last call are visited (the dirty set every change of a
        window adds its key to); the first call starts tracking and visits them all."""
        dirty = self._dirty
        if dirty is None:
            dirty = self._dirty = dict.fromkeys(self._windows)
            for kept in self._windows.values():
                kept.dirty = dirty
        keys = list(dirty)
        dirty.clear()
        changed: list[tuple[tuple[str, ...], Lanes]] = []
        gone: list[tuple[str, ...]] = []
        done = 0
        for key in keys:
            if len(changed) >= limit:
                break  # the rest at the next checkpoint
            done += 1
            window = self._windows.get(key)
            if window is None or not owned(key):
                if seen.pop(key, None) is not None:
                    gone.append(key)
                continue
            mark = (window.requests, window.tokens, len(window.calls) + len(window.leases), window.latest_at)
            if seen.get(key) != mark:
                seen[key] = mark
                changed.append((key, (tuple(window.calls), tuple(window.leases))))
        for key in keys[done:]:
            dirty[key] = None
        return changed, gone

    def unwritten(self, keys: Iterable[tuple[str, ...]]) -> None:
        """The windows a failed checkpoint listed: changed again, for the next one."""
        if self._dirty is not None:
            for key in keys:
                self._dirty[key] = None

    def absorb(self, key: tuple[str, ...], entries: Iterable[tuple[float, int, int]], now: float) -> None:
        """Adds a window handed over with a partition (its entries older than the span are dropped)."""
        window = self._window(key, now)
        for at, requests, tokens in sorted(entries):
            if at > now - self.window_s:
                window.add(Entry(at, requests, tokens), now)

    def sweep(self, now: float) -> int:
        """Forget idle windows (at most once a minute); returns how many are left."""
        if now - self._swept_at >= IDLE_SWEEP_EVERY_S:
            self._swept_at = now
            for key in [k for k, w in self._windows.items() if w.reset_s(now) == 0.0]:
                window = self._windows.pop(key)
                window.prune(now)
                if self._dirty is not None:
                    self._dirty[key] = None  # forgotten: the next checkpoint deletes its row
        return len(self._windows)
