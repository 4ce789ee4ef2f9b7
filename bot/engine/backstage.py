"""What every session player of one narrator shares: the doors out (stage, store), time, the
pacing and rate numbers, the rate budget and the engine's counters."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from bot.engine.budget import BudgetGate, EngineLimits
from bot.engine.clock import Clock
from bot.engine.pacing import Pacing
from bot.engine.stage import Stage
from bot.store.sessions import SessionStore


@dataclass(slots=True)
class EngineStats:
    posts: int = 0
    merged_beats: int = 0  # beats that went out inside a merged narration message
    rate_limited: int = 0
    reconciled: int = 0  # unresolved posts found already posted
    reposted: int = 0  # unresolved posts that had not arrived and were posted again
    lateness: deque[float] = field(default_factory=lambda: deque(maxlen=200_000))  # timers firing late (s)
    # auto beats: seconds from when the beat was due to the stage call (timer, rate budget and the
    # commit of the post's intent; the group commit's window shows here, not in `lateness`)
    sent_late: deque[float] = field(default_factory=lambda: deque(maxlen=200_000))


@dataclass(eq=False, slots=True)
class Backstage:

    store: SessionStore
    stage: Stage
    clock: Clock
    pacing: Pacing
    limits: EngineLimits
    gate: BudgetGate
    stats: EngineStats = field(default_factory=EngineStats)
    awake: set[object] = field(default_factory=set)  # players running, not parked (is_idle)
    closing: bool = False


