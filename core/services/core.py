"""The running core's shared parts, built once at start-up and handed to every service."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from core.domain.entities import Customer
from core.domain.metering import Meter
from core.domain.state import State
from core.store.writer import GroupCommitWriter


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an account's key (account, mode, scopes) or the operator (admin)."""

    account_id: str = ""
    livemode: bool = False
    scopes: frozenset[str] = frozenset()
    key_id: str = ""
    admin: bool = False
    internal: bool = False


@dataclass(slots=True)
class Core:
    engine: Engine
    state: State
    writer: GroupCommitWriter
    meter: Meter
    clock: Callable[[], float] = time.time
    heartbeats: dict[tuple[str, str], float] = field(default_factory=dict)
    # Customer creates in flight per (account, mode, external_id): concurrent creates of one
    # external_id wait for the first instead of racing it.
    pending_creates: dict[tuple[str, bool, str], asyncio.Future[Customer]] = field(default_factory=dict)

    def now(self) -> int:
        return int(self.clock())
