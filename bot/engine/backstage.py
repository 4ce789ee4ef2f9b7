"""What every session player of one narrator shares: the doors out (stage, store), time, the
pacing and rate numbers, the rate budget and the engine's counters."""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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


class TickTimers:
    """Wake-ups on the tick grid (`Backstage.tick`): ONE clock timer per grid point, however many
    sessions wait for it (a timer per session costs a timer object and a dozen comparisons in the
    event loop's heap each; at a thousand sessions those were a tenth of a post's CPU).

    The tick is the store's commit window, or the largest power-of-two fraction of it (down to
    `FINEST`) in which about `PER_TICK` sessions are due at the rate they were woken over the
    last second: the sessions of one tick run one after another, so a crowded tick makes the last
    ones late by the others' work, while a commit shared by few posts costs each of them more."""

    __slots__ = ("_clock", "_due", "_since", "_window", "_woken", "scale")

    PER_TICK = 100
    FINEST = 1 / 16

    def __init__(self, clock: Clock, window: Callable[[], float]) -> None:
        self._clock = clock
        self._window = window  # the store's commit window, in seconds (read when it is needed)
        self._due: dict[float, list[asyncio.Future[Any]]] = {}
        self.scale = 1.0  # the tick, as a fraction of the commit window
        self._woken = 0
        self._since: float | None = None

    def wake_at(self, when: float, fut: asyncio.Future[Any]) -> None:
        """Resolve `fut` with True at `when` (monotonic seconds: a grid point, so that waiters
        share it) unless it is done by then (a waiter woken early leaves nothing to cancel)."""
        waiting = self._due.get(when)
        if waiting is None:
            waiting = self._due[when] = []
            self._clock.call_later(when - self._clock.monotonic(), functools.partial(self._fire, when))
        waiting.append(fut)

    def _fire(self, when: float) -> None:
        waiting = self._due.pop(when, ())
        self._woken += len(waiting)
        if self._since is None:
            self._since = when
        elif when - self._since >= 1.0:  # once a second: the tick for the rate of the last one
            due_per_tick = self._woken / (when - self._since) * self._window()
            scale = 1.0
            while scale > self.FINEST and due_per_tick * scale > self.PER_TICK:
                scale /= 2
            self.scale = scale
            self._woken = 0
            self._since = when
        for fut in waiting:
            if not fut.done():
                fut.set_result(True)


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
    ticks: TickTimers = field(init=False)

    def __post_init__(self) -> None:
        self.ticks = TickTimers(self.clock, self._window)

    def _window(self) -> float:
        return self.store.db.commit_window

    @property
    def tick(self) -> float:
        """Due beats are served on a grid of this many seconds (0: each at its own time): the
        store's group-commit window (or a fraction of it, `TickTimers`), so the sessions due in
        one tick wake together and their posts' intents share one commit (`SessionPlayer._step`)."""
        return self.store.db.commit_window * self.ticks.scale


