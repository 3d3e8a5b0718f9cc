"""An IP's rate-limit window exact across active cores (issue 25, docs/scaling.md "An IP's window
across active cores").

With several active cores an IP's calls name accounts on any of them, so no account's owner sees
them all. An IP's window therefore belongs to the core owning the partition of `"ip:<address>"`
(the accounts' hash and partition count). That core (the lender) counts the IP's calls it admits
in its window as before; another core admitting the IP's calls (a borrower) draws from a **block**
lent by the owner (one core-to-core RPC, `LendIpBlock`, per block, never per call):

- The owner lends at most `want` and at most half the room the IP has left (never more than the
  room: the sum of its own calls and every block out never passes the limit), and charges the block
  whole in the IP's window as one entry dated when the block stops admitting (its lapse plus a lease
  window: a lease taken from the block admits calls until then), so it counts as used for a full
  window after any call it covered.
- The borrower admits calls against the block (its own window keyed by the block, so a call
  refused later, a lease's slots given back, are given back to the block too) until it is spent or
  lapses (`lapse_s`, measured from before it asked: never later than the owner's reckoning), then
  gives it back with the next borrow (or alone, once idle): the owner sets the block's entry to what
  was used. A block never given back counts whole until its entry leaves the window.
- A new block is asked for ahead of need (the current one three-quarters spent or about to lapse),
  so calls in steady state never wait on the RPC.

Nothing here runs with a single core: `Borrower.layers` is only installed on a core among several.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from core.domain.ratelimit import Charge, Layer, RateLimiter
from ringside_server.ids import new_id

IP_LAYER = "ip_rate_limit_exceeded"
LAPSE_S = 2.0  # how long a borrower admits under a block
RENEW_AHEAD_S = 0.5  # a new block is asked for this long before the current one lapses
FALLBACK_S = 2.0  # the owner unreachable: the IP counted locally this long before asking again
REASK_S = LAPSE_S + 1.0  # the owner had no room: asked again after this (blocks out come back meanwhile)
MAX_BLOCK = 64  # requests per block at most
MAX_RETURNS = 64  # blocks given back per RPC at most (the rest with the next)


def ip_partition_key(ip: str) -> str:
    """What an IP's window is partitioned by (ringside_server/partitions.py `partition_of`)."""
    return "ip:" + ip


def block_want(limit: int) -> int:
    """The block a borrower asks for: a quarter of the limit, 1..MAX_BLOCK."""
    return max(1, min(MAX_BLOCK, math.ceil(limit / 4)))


@dataclass(frozen=True, slots=True)
class Grant:
    block_id: str  # "" when nothing was lent
    size: int
    lapse_s: float
    retry_after_s: float = 0.0


class Lender:
    """The owner's side: the blocks lent out of its IPs' windows, until given back or out of the window."""

    def __init__(self, limiter: RateLimiter, lapse_s: float = LAPSE_S, slack_s: float = 1.0) -> None:
        self.limiter = limiter
        self.lapse_s = lapse_s
        self.slack_s = slack_s  # a lease taken from the block admits this long after it (the lease window)
        self.lent: dict[str, tuple[Charge, float]] = {}  # block id → its charge, when its entry leaves

    def give_back(self, returned: Iterable[tuple[str, int]]) -> int:
        """Sets each returned block's entry to the requests its calls used; → how many were known."""
        known = 0
        for block_id, used in returned:
            found = self.lent.pop(block_id, None)
            if found is not None:
                found[0].adjust(max(0, used), 0)
                known += 1
        return known

    def lend(self, layer: Layer, want: int, now: float) -> tuple[Grant, Charge | None]:
        """A block of at most `want`, at most half the room (rounded up: a last request is lent)."""
        for block_id in [b for b, (_, leaves) in self.lent.items() if leaves <= now]:
            del self.lent[block_id]
        room, _ = self.limiter.room([layer], "requests", now)
        size = min(max(0, want), MAX_BLOCK, math.ceil((room or 0) / 2))
        if size < 1:
            refusal = self.limiter.check_requests([layer], now)
            wait = refusal.retry_after_s if refusal is not None else 0.0
            return Grant("", 0, 0.0, wait if math.isfinite(wait) else self.limiter.window_s), None
        block_id = new_id("ipb")
        at = now + self.lapse_s + self.slack_s
        charge = self.limiter.charge([layer], now, at, size, 0)
        self.lent[block_id] = (charge, at + self.limiter.window_s)
        return Grant(block_id, size, self.lapse_s), charge

    def cancel(self, block_id: str) -> None:
        """A lend that could not be made durable: as if never lent."""
        found = self.lent.pop(block_id, None)
        if found is not None:
            found[0].adjust(0, 0)


@dataclass(slots=True, eq=False)
class Block:
    block_id: str
    size: int
    lapse_at: float  # on the borrower's clock: when it stops admitting under it
    layer: Layer  # the IP's layer while this block admits (its own window, keyed by the block)


@dataclass(slots=True, eq=False)
class Borrowed:
    """One IP's blocks at a borrowing core."""

    blocks: list[Block] = field(default_factory=list)  # oldest first; the first usable one admits
    returns: list[tuple[str, int]] = field(default_factory=list)  # spent or lapsed: (id, used) to give back
    # The owner did not answer the last ask: counted locally (failing open) until an answer comes;
    # asked again, without waiting, from `fallback_until` on.
    failing: bool = False
    fallback_until: float = 0.0
    refused_until: float = 0.0  # the owner had no room: refused without asking until then
    retry_at: float = 0.0  # ... and when it said room may come back (the 429's Retry-After)


class Borrower:
    """The side of a core admitting calls of IPs whose windows another core owns."""

    def __init__(self, limiter: RateLimiter, owns: Callable[[str], bool], limit: int) -> None:
        self.limiter = limiter
        self.owns = owns  # ip → this core owns its window (today's path)
        self.limit = limit
        self.ips: dict[str, Borrowed] = {}

    @staticmethod
    def _key(ip: str, block_id: str) -> tuple[str, ...]:
        return ("ipblock", ip, block_id)

    def room(self, block: Block, now: float) -> int:
        """The requests `block` has left."""
        return self.limiter.room((block.layer,), "requests", now)[0] or 0

    def _close_spent(self, borrowed: Borrowed, now: float) -> tuple[Block | None, int]:
        """Moves lapsed or spent blocks to the returns; → the block admitting now (None: none)
        and its room."""
        usable, usable_room = None, 0
        for block in list(borrowed.blocks):
            room = self.room(block, now)
            if now >= block.lapse_at or room <= 0:
                borrowed.blocks.remove(block)
                borrowed.returns.append((block.block_id, block.size - room))
            elif usable is None:
                usable, usable_room = block, room
        return usable, usable_room

    def need(self, ip: str, now: float) -> str | None:
        """ "now": no block can admit this IP's next call (ask and wait); "ahead": ask without
        waiting (the current block nearly spent or lapsing, or the owner unreachable last time:
        counted locally until it answers); None: nothing to ask."""
        if not ip or not self.limit or self.owns(ip):
            return None
        borrowed = self.ips.setdefault(ip, Borrowed())
        if borrowed.failing:
            return None if now < borrowed.fallback_until else "ahead"
        if now < borrowed.refused_until:
            return None
        usable, room = self._close_spent(borrowed, now)
        if usable is None:
            return "now"
        if len(borrowed.blocks) == 1 and (room * 4 <= usable.size or now >= usable.lapse_at - RENEW_AHEAD_S):
            return "ahead"
        return None

    def asking(self, ip: str) -> tuple[int, list[tuple[str, int]]]:
        """What to send: the block wanted and the blocks given back (taken off the list)."""
        borrowed = self.ips.setdefault(ip, Borrowed())
        returns, borrowed.returns = borrowed.returns[:MAX_RETURNS], borrowed.returns[MAX_RETURNS:]
        return block_want(self.limit), returns

    def granted(self, ip: str, grant: Grant, asked_at: float, now: float) -> None:
        borrowed = self.ips.setdefault(ip, Borrowed())
        borrowed.failing, borrowed.fallback_until = False, 0.0
        if grant.size > 0:
            layer = Layer(IP_LAYER, self._key(ip, grant.block_id), grant.size, shown=self.limit, retry_after_s=0.0)
            borrowed.blocks.append(Block(grant.block_id, grant.size, asked_at + grant.lapse_s, layer))
            borrowed.refused_until = borrowed.retry_at = 0.0
        elif not borrowed.blocks:
            wait = min(grant.retry_after_s, self.limiter.window_s)
            borrowed.refused_until, borrowed.retry_at = now + min(wait, REASK_S), now + wait

    def unanswered(self, ip: str, returns: list[tuple[str, int]], now: float) -> None:
        """The owner did not answer: fail open (counted locally, today's per-core window) for
        FALLBACK_S; the blocks given back are kept for the next ask."""
        borrowed = self.ips.setdefault(ip, Borrowed())
        borrowed.failing, borrowed.fallback_until = True, now + FALLBACK_S
        borrowed.returns[:0] = returns

    def idle_returns(self, now: float) -> list[str]:
        """The IPs with blocks to give back and none admitting: given back alone (and the IPs
        with nothing left forgotten)."""
        found = []
        for ip, borrowed in list(self.ips.items()):
            usable, _ = self._close_spent(borrowed, now)
            if borrowed.returns and usable is None:
                found.append(ip)
            elif usable is None and not borrowed.failing and now >= borrowed.refused_until:
                del self.ips[ip]  # (one failing is kept: its calls do not wait on the unreachable owner)
        return found

    def layers(self, layers: list[Layer], now: float) -> list[Layer]:
        """`layers` with the IP's replaced by the block it draws from, when another core owns it."""
        if not layers or layers[0].code != IP_LAYER:
            return layers
        ip = layers[0].key[1]
        if self.owns(ip):
            return layers
        borrowed = self.ips.get(ip)
        if borrowed is None or borrowed.failing:
            return layers  # the owner unreachable (or never asked): counted locally, failing open
        usable = next((b for b in borrowed.blocks if now < b.lapse_at and self.room(b, now) > 0), None)
        if usable is None:
            return [self._none(ip, max(0.0, borrowed.retry_at - now)), *layers[1:]]
        return [usable.layer, *layers[1:]]

    def _none(self, ip: str, retry_after_s: float) -> Layer:
        return Layer(IP_LAYER, self._key(ip, ""), 0, shown=self.limit, retry_after_s=retry_after_s)
