"""An IP's window across active cores: the RPCs and their persistence (core/domain/ip_blocks.py
has the rules; docs/scaling.md "An IP's window across active cores").

A borrowing core asks the owner of the IP's partition (its address from the partition map) for a
block with `LendIpBlock`, authenticated with the internal token; the calls of that IP wait only
when no block can admit them (the first call, a burst past the block), never in steady state.

**The owner unreachable: fail open.** An IP limit protects the service from one client's flood; it
holds no money. A core that cannot reach the owner (dead, frozen, partitioned away, or a partition
changing hands) counts the IP in its own window at the full limit, as before issue 25, until the
owner answers again (asked every FALLBACK_S without holding calls: only the first one waits):
while the owner is gone the IP may be admitted up to its limit on each core, never refused for a
fault that is not its own. Money (budgets, wallets) is never failed open.

The owner writes a lent block's entry into the IP's checkpoint row (core/store/partition_windows.py)
**before** answering, fenced on the partition: a core taking the partition over from a dead owner
loads it and counts the block whole until its entry leaves the window (the block's return to a
dead owner is lost: conservative, never more admitted). A lend that cannot be written is refused
(the borrower then fails open). One row upsert per block lent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import grpc

from core.domain.ip_blocks import LAPSE_S, Borrower, Grant, Lender, ip_partition_key
from core.domain.ratelimit import Layer, entries_of
from core.rpc.auth import INTERNAL_KEY
from core.services.core import Core
from core.services.ownership import OWNER_ADDRESS_KEY, NotOwner
from core.store import partition_windows
from ringside.core.v1 import metering_pb2, metering_pb2_grpc
from ringside_server.errors import RingsideError
from ringside_server.partitions import partition_of

log = logging.getLogger("ringside.core.ip_blocks")

BORROW_TIMEOUT_S = 1.0  # an owner slower than this is taken as unreachable (fail open)
RETURN_EVERY_S = LAPSE_S / 2  # idle IPs' spent blocks are given back this often
MAX_ASKS = 3  # a call waits for at most this many borrows (a burst past the blocks lent)
# A channel to an owner that went away (restarted on its address, or taken over) must not fail
# every call fast for its default backoff (up to 2 min): reconnect within a borrow's timeout.
CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", int(BORROW_TIMEOUT_S * 1000)),
)


class IpBlocks:
    def __init__(self, core: Core, internal_token: str) -> None:
        self.core = core
        self.metadata = ((INTERNAL_KEY, internal_token),)
        limit = core.meter.rate_defaults.ip_per_min
        self.borrower = Borrower(core.meter.limiter, self.owns, limit)
        self.lender = Lender(core.meter.limiter, LAPSE_S, core.meter.lease_window_s)
        self.asking: dict[str, asyncio.Future[None]] = {}
        self.returning: asyncio.Task[None] | None = None
        self.channels: dict[str, grpc.aio.Channel] = {}

    def install(self) -> None:
        self.core.meter.ip_layers = self.borrower.layers

    def partition(self, ip: str) -> int:
        return partition_of(ip_partition_key(ip), self.core.ownership.partitions)

    def owns(self, ip: str) -> bool:
        serving = self.core.ownership.serving
        return serving is None or self.partition(ip) in serving

    # -- the borrower ---------------------------------------------------------------------------

    async def ready(self, ip: str) -> None:
        """Before a call of `ip` is decided: a block that can admit it, borrowed if need be."""
        for _ in range(MAX_ASKS):
            need = self.borrower.need(ip, self.core.clock())
            if need is None:
                return
            asking = self.asking.get(ip)
            if asking is None:  # one ask at a time per IP; it outlives a caller that goes away
                asking = self.asking[ip] = self.core.spawn(self._borrow(ip))
                asking.add_done_callback(lambda _, ip=ip: self.asking.pop(ip, None))  # type: ignore[misc]
            if need == "ahead":
                return
            await asyncio.shield(asking)

    async def _borrow(self, ip: str) -> None:
        want, returns = self.borrower.asking(ip)
        try:
            await self._ask(ip, want, returns)
        except Exception:  # never the caller's fault: counted locally meanwhile (fail open)
            log.exception("LendIpBlock failed")
            self.borrower.unanswered(ip, returns, self.core.clock())
        if self.returning is None or self.returning.done():
            self.returning = self.core.spawn(self._keep_returning())

    async def _ask(self, ip: str, want: int, returns: list[tuple[str, int]]) -> None:
        asked_at = self.core.clock()
        request = metering_pb2.LendIpBlockRequest(
            ip=ip, want=want, returned=[metering_pb2.ReturnedIpBlock(block_id=b, used=u) for b, u in returns]
        )
        address = self.core.ownership.owners.get(self.partition(ip), "")
        response = None
        for _ in range(2):  # once more when the owner named another ("not owner": a hand-back)
            if not address or address == self.core.ownership.address:
                break
            try:
                response = await self._stub(address).LendIpBlock(
                    request, metadata=self.metadata, timeout=BORROW_TIMEOUT_S, wait_for_ready=True
                )
                break
            except grpc.aio.AioRpcError as error:
                trailing: Any = error.trailing_metadata() or ()
                named = next((v for k, v in trailing if k == OWNER_ADDRESS_KEY), "")
                if error.code() != grpc.StatusCode.FAILED_PRECONDITION or not isinstance(named, str) or not named:
                    log.warning("LendIpBlock: the core at %s answered %s; counting locally", address, error.code())
                    break
                address = named
        now = self.core.clock()
        if response is None:
            self.borrower.unanswered(ip, returns if want else [], now)
            return
        if want:  # else only blocks given back
            grant = Grant(response.block_id, response.size, response.lapse_ms / 1000, response.retry_after_ms / 1000)
            self.borrower.granted(ip, grant, asked_at, now)

    def _stub(self, address: str) -> Any:
        channel = self.channels.get(address)
        if channel is None:
            channel = self.channels[address] = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
        return metering_pb2_grpc.MeteringServiceStub(channel)

    async def _keep_returning(self) -> None:
        """Gives back the spent blocks of IPs no longer calling (until none is left)."""
        while self.borrower.ips:
            await asyncio.sleep(RETURN_EVERY_S)
            for ip in self.borrower.idle_returns(self.core.clock()):
                if ip not in self.asking:
                    _, returns = self.borrower.asking(ip)
                    with contextlib.suppress(Exception):
                        await self._ask(ip, 0, returns)

    # -- the owner --------------------------------------------------------------------------------

    async def lend(self, request: metering_pb2.LendIpBlockRequest) -> metering_pb2.LendIpBlockResponse:
        ip = request.ip[:64]
        limit = self.core.meter.rate_defaults.ip_per_min
        if not ip or not limit:
            raise RingsideError("invalid_request", "LendIpBlock needs an ip and an IP rate limit.", "ip")
        partition = self.partition(ip)
        if not self.owns(ip):
            raise NotOwner("", partition, self.core.ownership.owners.get(partition, ""))
        self.lender.give_back((r.block_id[:64], max(0, r.used)) for r in request.returned[:64])
        layer = Layer("ip_rate_limit_exceeded", ("ip", ip), limit)
        grant, charge = self.lender.lend(layer, max(0, min(request.want, 1_000_000)), self.core.clock())
        if charge is not None and not await self._durable(partition, layer.key):
            self.lender.cancel(grant.block_id)
            raise RingsideError("service_unavailable", "The lent block could not be recorded; retry.")
        return metering_pb2.LendIpBlockResponse(
            block_id=grant.block_id,
            size=grant.size,
            lapse_ms=int(grant.lapse_s * 1000),
            retry_after_ms=int(grant.retry_after_s * 1000),
            limit=limit,
        )

    async def _durable(self, partition: int, key: tuple[str, ...]) -> bool:
        """The IP's window written into its checkpoint row, fenced on its partition (→ written)."""
        leases = self.core.partition_leases
        if leases is None:
            return True
        lanes = self.core.meter.limiter.lanes(key, self.core.clock())
        try:
            written = await asyncio.get_running_loop().run_in_executor(
                None,
                partition_windows.checkpoint,
                self.core.engine,
                leases.fence,
                [(partition, key, entries_of(lanes))],
                [],
            )
        except Exception:
            log.exception("could not record a lent IP block")
            return False
        return bool(written)
