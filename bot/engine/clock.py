"""Time for the engine: wall clock, monotonic clock, sleeping and timers, all injectable.

`SystemClock` is the real thing. `FakeClock` never sleeps: `await clock.advance(s)` moves time
forward deadline by deadline, firing timers in order and letting the woken code run until every
registered idle check says the system is quiet again, so tests are deterministic.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Wall-clock seconds since the epoch (stored in the database)."""
        ...

    def monotonic(self) -> float:
        """Seconds for measuring intervals (rate windows, lateness)."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Run `callback` (a plain function) after `delay` seconds on the running loop."""
        ...

    def add_idle_check(self, check: Callable[[], bool]) -> None:
        """Register `check()` (True when its code has nothing runnable left). A clock that moves
        by itself ignores it; a test clock waits for every check before moving time on."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback)

    def add_idle_check(self, check: Callable[[], bool]) -> None:
        """Real time does not wait for anyone."""


class _FakeTimer:
    __slots__ = ("callback", "cancelled", "deadline")

    def __init__(self, deadline: float, callback: Callable[[], None]) -> None:
        self.deadline = deadline
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ClockDidNotSettle(RuntimeError):
    pass


class FakeClock:
    """Manual time. Nothing happens until `advance()`; `settle()` runs woken code to quiescence."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._wall0 = start
        self._t = 0.0
        self._heap: list[tuple[float, int, _FakeTimer]] = []
        self._seq = itertools.count()
        self._idle_checks: list[Callable[[], bool]] = []

    # -- Clock protocol -------------------------------------------------------------------------
    def now(self) -> float:
        return self._wall0 + self._t

    def monotonic(self) -> float:
        return 1000.0 + self._t

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not fut.done():
                fut.set_result(None)

        handle = self.call_later(seconds, wake)
        try:
            await fut
        finally:
            handle.cancel()

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        timer = _FakeTimer(self._t + max(0.0, delay), callback)
        heapq.heappush(self._heap, (timer.deadline, next(self._seq), timer))
        return timer

    # -- test controls --------------------------------------------------------------------------
    def add_idle_check(self, check: Callable[[], bool]) -> None:
        """`check()` returns True when the code it watches has nothing runnable left."""
        self._idle_checks.append(check)

    def pending(self) -> int:
        return sum(1 for _, _, t in self._heap if not t.cancelled)

    def next_deadline(self) -> float | None:
        self._drop_cancelled()
        return self._heap[0][0] - self._t if self._heap else None

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)

    async def settle(self, max_real_seconds: float = 20.0) -> None:
        """Let runnable tasks (including database round trips) finish, without moving time."""
        limit = time.monotonic() + max_real_seconds
        quiet = 0
        while quiet < 3:
            await asyncio.sleep(0)
            if all(check() for check in self._idle_checks):
                quiet += 1
            else:
                quiet = 0
            if time.monotonic() > limit:
                raise ClockDidNotSettle("the code under test never became idle")

    async def advance(self, seconds: float = 0.0) -> None:
        """Move time forward by `seconds`, firing every timer due on the way, in order."""
        target = self._t + max(0.0, seconds)
        await self.settle()
        fired = 0
        while True:
            self._drop_cancelled()
            if not self._heap or self._heap[0][0] > target:
                break
            deadline, _, timer = heapq.heappop(self._heap)
            self._t = max(self._t, deadline)
            timer.callback()
            fired += 1
            # Fire every timer sharing this deadline before letting the woken code run.
            while True:
                self._drop_cancelled()
                if not self._heap or self._heap[0][0] > self._t:
                    break
                heapq.heappop(self._heap)[2].callback()
                fired += 1
            await self.settle()
            if fired > 10_000_000:  # pragma: no cover - a timer loop that never lets time pass
                raise ClockDidNotSettle("timers keep rescheduling themselves at the same instant")
        self._t = target
        await self.settle()
