"""ringside_server/metering/breaker.py: a provider is skipped after failures in a row, tried again after a cooldown."""

from __future__ import annotations

from ringside_server.metering.breaker import Breakers


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_it_opens_after_the_threshold_and_a_success_resets_the_count() -> None:
    clock = Clock()
    breakers = Breakers(threshold=3, cooldown_s=10, clock=clock)
    breakers.failed("a")
    breakers.failed("a")
    breakers.succeeded("a")
    breakers.failed("a")
    breakers.failed("a")
    assert breakers.available("a")
    breakers.failed("a")
    assert not breakers.available("a") and breakers.available("b")


def test_after_the_cooldown_one_failure_reopens_it_and_a_success_closes_it() -> None:
    clock = Clock()
    breakers = Breakers(threshold=2, cooldown_s=10, clock=clock)
    breakers.failed("a")
    breakers.failed("a")
    clock.now += 10
    assert breakers.available("a")
    breakers.failed("a")  # the trial call failed
    assert not breakers.available("a")
    clock.now += 10
    breakers.succeeded("a")
    breakers.failed("a")
    assert breakers.available("a")  # closed: counting from zero again
