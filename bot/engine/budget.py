"""Discord's rate limits, enforced before we submit anything.

`EngineLimits` holds every number. `RateBudget` is the pure part: sliding windows per channel
(30 posts / 60 s), per webhook (5 / 2 s; a thread posts through its parent's webhook) and for the
whole bot (50 requests / s). `BudgetGate` hands out the global budget in strict arrival order,
so channels that each ask for one post at a time are served round-robin, and it wakes exactly the
next waiter when a slot frees (no thundering herd with 1,000 sessions).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, replace

from bot.engine.clock import Clock, TimerHandle


@dataclass(frozen=True, slots=True)
class EngineLimits:
    channel_posts: int = 30
    channel_window: float = 60.0
    webhook_posts: int = 5
    webhook_window: float = 2.0
    global_requests: int = 50
    global_window: float = 1.0
    max_cue_chars: int = 1900  # merged narration never exceeds this (Discord allows 2,000)
    margin: float = 0.02  # seconds added to every computed wait, against clock skew with Discord

    def scaled(self, factor: float) -> EngineLimits:
        """Rate windows shrunk by `factor` (0 < factor <= 1): only for a loopback emulator whose
        windows are shrunk alike; Discord's own windows are fixed. 1.0 changes nothing."""
        if not 0 < factor <= 1:
            raise ValueError(f"rate scale must be in (0, 1], got {factor}")
        if factor == 1:
            return self
        return replace(self, channel_window=self.channel_window * factor,
                       webhook_window=self.webhook_window * factor, global_window=self.global_window * factor)

    @classmethod
    def unlimited(cls) -> EngineLimits:
        return cls(channel_posts=10**9, webhook_posts=10**9, global_requests=10**9, margin=0.0)


class Window:
    """At most `limit` events in any `span` seconds."""

    __slots__ = ("limit", "span", "times")

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.times: deque[float] = deque()

    def _prune(self, now: float) -> None:
        t = self.times
        while t and t[0] <= now - self.span:
            t.popleft()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        self._prune(now)
        if len(self.times) < self.limit:
            return 0.0
        return self.times[len(self.times) - self.limit] + self.span - now

    def take(self, now: float) -> None:
        self.times.append(now)

    def count(self, now: float) -> int:
        self._prune(now)
        return len(self.times)


class RateBudget:
    def __init__(self, limits: EngineLimits) -> None:
        self.limits = limits
        self._channels: dict[int, Window] = {}
        self._webhooks: dict[int, Window] = {}
        self.global_window = Window(limits.global_requests, limits.global_window)
        self._takes = 0

    def _channel(self, key: int) -> Window:
        w = self._channels.get(key)
        if w is None:
            w = self._channels[key] = Window(self.limits.channel_posts, self.limits.channel_window)
        return w

    def _webhook(self, key: int) -> Window:
        w = self._webhooks.get(key)
        if w is None:
            w = self._webhooks[key] = Window(self.limits.webhook_posts, self.limits.webhook_window)
        return w

    def local_wait(self, channel: int, webhook: int, now: float) -> float:
        w = max(self._channel(channel).wait(now), self._webhook(webhook).wait(now))
        return w + self.limits.margin if w > 0 else 0.0

    def global_wait(self, now: float) -> float:
        w = self.global_window.wait(now)
        return w + self.limits.margin if w > 0 else 0.0

    def take(self, channel: int, webhook: int, now: float) -> None:
        self._channel(channel).take(now)
        self._webhook(webhook).take(now)
        self.global_window.take(now)
        self._takes += 1
        if self._takes % 10_000 == 0:
            self._forget_idle(now)

    def take_global(self, now: float) -> None:
        self.global_window.take(now)

    def _forget_idle(self, now: float) -> None:
        for table in (self._channels, self._webhooks):
            for key in [k for k, w in table.items() if w.count(now) == 0]:
                del table[key]


Grant = float | asyncio.Future[bool]


class BudgetGate:
    """Hands out post slots. `request()` returns 0.0 (granted now), a positive number of seconds
    to wait before asking again (this channel or webhook is full), or a future that resolves True
    when the global slot was granted in turn (False: ask again, the channel filled up meanwhile)."""

    def __init__(self, budget: RateBudget, clock: Clock) -> None:
        self.budget = budget
        self.clock = clock
        self._line: deque[tuple[int, int, asyncio.Future[bool]]] = deque()
        self._timer: TimerHandle | None = None
        self.granted = 0

    def request(self, channel: int, webhook: int) -> Grant:
        now = self.clock.monotonic()
        local = self.budget.local_wait(channel, webhook, now)
        if local > 0:
            return local
        if not self._line and self.budget.global_wait(now) == 0:
            self.budget.take(channel, webhook, now)
            self.granted += 1
            return 0.0
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._line.append((channel, webhook, fut))
        self._arm(now)
        return fut

    def try_global(self) -> bool:
        """A best-effort extra request (typing, edits, deletes): only if a slot is free right now."""
        now = self.clock.monotonic()
        if self._line or self.budget.global_wait(now) > 0:
            return False
        self.budget.take_global(now)
        return True

    def global_wait(self) -> float:
        return self.budget.global_wait(self.clock.monotonic())

    def waiting(self) -> int:
        return len(self._line)

    def _arm(self, now: float) -> None:
        if self._timer is None and self._line:
            self._timer = self.clock.call_later(self.budget.global_wait(now), self._dispatch)

    def _dispatch(self) -> None:
        self._timer = None
        now = self.clock.monotonic()
        while self._line and self.budget.global_wait(now) == 0:
            channel, webhook, fut = self._line.popleft()
            if fut.done():  # the waiter went away (cancelled)
                continue
            if self.budget.local_wait(channel, webhook, now) > 0:
                fut.set_result(False)
                continue
            self.budget.take(channel, webhook, now)
            self.granted += 1
            fut.set_result(True)
        self._arm(now)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._line:
            fut = self._line.popleft()[2]
            if not fut.done():
                fut.set_result(False)
