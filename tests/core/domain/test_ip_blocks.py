"""An IP's window across active cores (core/domain/ip_blocks.py): the owner lends blocks, a
borrower admits against them, gives them back or lets them lapse, a taker counts what was lent.
Two limiters stand for the two cores; the RPC is a direct call (tests/e2e/test_ip_windows.py runs
it over gRPC between real cores)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import state_partitions
from core.domain.ip_blocks import FALLBACK_S, IP_LAYER, LAPSE_S, REASK_S, Borrower, Lender, ip_partition_key
from core.domain.ratelimit import WINDOW_S, Layer, RateLimiter, entries_of
from core.domain.state import State

IP = "203.0.113.7"
START = 1_800_000_000.0


class Cores:
    """core-a owns the IP's window; core-b borrows from it."""

    def __init__(self, limit: int) -> None:
        self.now = START
        self.limit = limit
        self.owner = RateLimiter()
        self.lender = Lender(self.owner, LAPSE_S, 1.0)
        self.local = RateLimiter()
        self.borrower = Borrower(self.local, lambda ip: False, limit)
        self.rpcs = 0
        self.reachable = True

    def ip_layer(self) -> Layer:
        return Layer(IP_LAYER, ("ip", IP), self.limit)

    def ask(self, want: int | None = None) -> None:
        """One LendIpBlock: the blocks to give back, then a new one."""
        asked_want, returns = self.borrower.asking(IP)
        want = asked_want if want is None else want
        if not self.reachable:
            self.borrower.unanswered(IP, returns, self.now)
            return
        self.rpcs += 1
        self.lender.give_back(returns)
        grant, _ = self.lender.lend(self.ip_layer(), want, self.now)
        if want:
            self.borrower.granted(IP, grant, self.now, self.now)

    def call_a(self) -> bool:
        layers = [self.ip_layer()]
        if self.owner.check_requests(layers, self.now) is not None:
            return False
        self.owner.charge(layers, self.now, self.now, 1, 0)
        return True

    def call_b(self) -> bool:
        for _ in range(3):  # as IpBlocks.ready
            need = self.borrower.need(IP, self.now)
            if need is None:
                break
            self.ask()
            if need == "ahead":
                break
        layers = self.borrower.layers([self.ip_layer()], self.now)
        if self.local.check_requests(layers, self.now) is not None:
            return False
        self.local.charge(layers, self.now, self.now, 1, 0)
        return True


def test_a_borrower_admits_from_its_block_and_the_owner_counts_the_block_as_used() -> None:
    cores = Cores(8)
    assert cores.call_b()
    assert cores.rpcs == 1
    lent = sum(charge.parts[0][1].requests for charge, _ in cores.lender.lent.values())
    assert lent == 2  # a quarter of the limit wanted, at most half the room
    assert cores.owner.room([cores.ip_layer()], "requests", cores.now)[0] == 8 - 2
    assert cores.call_b()  # the block's second request: no RPC waited on
    assert all(cores.call_a() for _ in range(4))
    assert sum(cores.call_a() or cores.call_b() for _ in range(10)) <= 2


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(1, 40),
    steps=st.lists(st.tuples(st.sampled_from("ab"), st.floats(0, 3)), min_size=1, max_size=120),
)
def test_never_more_than_the_limit_in_any_window_whatever_the_interleaving(
    limit: int, steps: list[tuple[str, float]]
) -> None:
    cores = Cores(limit)
    admitted: list[float] = []
    for core, wait in steps:
        cores.now += wait
        if cores.call_a() if core == "a" else cores.call_b():
            admitted.append(cores.now)
        in_window = [at for at in admitted if at > cores.now - WINDOW_S]
        assert len(in_window) <= limit, (len(in_window), limit)


def test_a_block_given_back_credits_its_unused_part_to_the_owner() -> None:
    cores = Cores(8)
    assert cores.call_b()  # a block of 2, 1 used
    cores.now += LAPSE_S  # lapsed: given back with the next ask (or alone once idle)
    assert cores.borrower.idle_returns(cores.now) == [IP]
    cores.ask(want=0)
    assert cores.lender.lent == {}
    assert cores.owner.room([cores.ip_layer()], "requests", cores.now)[0] == 8 - 1


def test_a_lapsed_block_admits_nothing_more_and_a_block_never_given_back_counts_whole_for_its_window() -> None:
    cores = Cores(8)
    assert cores.call_b()
    block = cores.borrower.ips[IP].blocks[0]
    cores.now = block.lapse_at  # lapsed: the next call asks again rather than drawing on it
    cores.reachable = False
    assert cores.call_b()  # the owner unreachable: counted locally (fail open), never on the old block
    assert cores.borrower.ips[IP].blocks == []
    # the owner never got it back: the block counts whole until its entry (dated past its lapse
    # and the lease window) leaves the window
    room = cores.owner.room([cores.ip_layer()], "requests", cores.now + WINDOW_S)[0]
    assert room == 8 - 2
    assert cores.owner.room([cores.ip_layer()], "requests", block.lapse_at + 1.0 + WINDOW_S + 0.001)[0] == 8


def test_the_owner_unreachable_fails_open_for_a_while_then_asks_again() -> None:
    cores = Cores(3)
    cores.reachable = False
    assert [cores.call_b() for _ in range(4)] == [True, True, True, False]  # its limit, counted locally
    assert cores.rpcs == 0
    cores.reachable = True
    cores.now += FALLBACK_S
    assert cores.borrower.need(IP, cores.now) == "ahead"  # asked again, no call waiting on it
    assert cores.call_b()  # the answer came: admitted from a block of the owner's window
    assert cores.rpcs == 1
    assert cores.borrower.layers([cores.ip_layer()], cores.now)[0].key[0] == "ipblock"
    assert cores.owner.room([cores.ip_layer()], "requests", cores.now)[0] == 3 - 1


def test_a_core_taking_the_partition_over_counts_the_lent_blocks_from_the_checkpointed_window() -> None:
    cores = Cores(6)
    assert cores.call_b()  # a block of 2 lent
    assert cores.call_a()
    # the owner writes the IP's window before answering a lend (core/services/ip_blocks.py); a
    # taker absorbs that row as it does a checkpoint's
    entries = entries_of(cores.owner.lanes(("ip", IP), cores.now))
    taker = RateLimiter()
    taker.absorb(("ip", IP), entries, cores.now)
    assert taker.room([cores.ip_layer()], "requests", cores.now)[0] == 6 - 3
    assert taker.room([cores.ip_layer()], "requests", cores.now + LAPSE_S + 1.0 + WINDOW_S + 0.001)[0] == 6


def test_the_owner_with_no_room_lends_nothing_and_says_when_to_retry() -> None:
    cores = Cores(2)
    assert cores.call_a() and cores.call_a()
    cores.now += 10
    assert cores.call_b() is False
    assert cores.rpcs == 1
    borrowed = cores.borrower.ips[IP]
    assert borrowed.blocks == [] and borrowed.retry_at == cores.now + WINDOW_S - 10
    assert borrowed.refused_until == cores.now + REASK_S  # asked again sooner: blocks out come back
    layers = cores.borrower.layers([cores.ip_layer()], cores.now)
    refusal = cores.local.check_requests(layers, cores.now)
    assert refusal is not None and refusal.code == IP_LAYER
    assert refusal.message == "Rate limit of 2 requests per minute reached for this IP address."
    assert refusal.retry_after_s == WINDOW_S - 10
    cores.now += 1
    assert cores.call_b() is False and cores.rpcs == 1  # no RPC per refused call meanwhile
    cores.now += REASK_S
    assert cores.call_b() is False and cores.rpcs == 2  # still no room: one RPC per REASK_S


def test_a_block_is_renewed_ahead_of_need_so_steady_calls_never_wait() -> None:
    cores = Cores(400)  # blocks of 64
    waits = 0
    for _ in range(300):
        cores.now += 0.05
        need = cores.borrower.need(IP, cores.now)
        waits += need == "now"
        assert cores.call_b()
    assert waits == 1  # the first call only
    assert cores.rpcs <= 300 // 32 + 2  # one per block (renewed at three-quarters spent or lapsing)


def test_an_ips_window_is_checkpointed_and_handed_back_with_the_partition_of_its_address() -> None:
    """core/services/partition_share.py `leaving_windows` and the checkpoints partition a window by
    `window_account`: an IP's by `ip:<address>` (before: by nothing, never handed over)."""
    cores = Cores(6)
    assert cores.call_a()
    leaving = {ip_partition_key(IP)}
    moved = cores.owner.export(lambda key: state_partitions.window_account(State(), key) in leaving, cores.now)
    assert [key for key, _ in moved] == [("ip", IP)]
