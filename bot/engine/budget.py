"""Discord's rate limits, enforced before we submit anything: the bot's ONE rate limiter.

`EngineLimits` holds every number: Discord's own limits and the safety margin we keep below
them. `RateBudget` is the pure part: sliding windows per channel (30 posts / 60 s), per webhook
(5 / 2 s; a thread posts through its parent's webhook), per channel for reactions (1 / 0.25 s)
and for the whole bot (50 requests / s). `BudgetGate` hands out the global budget in strict
arrival order, so channels that each ask for one post at a time are served round-robin, and it
wakes exactly the next waiter when a slot frees (no thundering herd with 1,000 sessions).

The engine's story posts, the Discord stage's own requests (reactions, control edits, notices)
and `/ask` replies all pass the same gate, so no request is counted by one limiter and missed by
another.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, replace

from bot.engine.clock import Clock, TimerHandle


@dataclass(frozen=True, slots=True)
class EngineLimits:
    """Discord's published (and, for webhooks per channel, widely observed) limits, unchanged,
    plus ONE safety margin: `margin` seconds are added to every wait the windows compute, so a
    request never reaches Discord just as its window opens (clock skew and network jitter between
    us and Discord). A long 429 that gets through anyway surfaces as `RateLimited` (discord.py's
    `max_ratelimit_timeout`, set by the Discord app), which the engine retries after the wait."""

    channel_posts: int = 30  # webhook executes per channel per minute
    channel_window: float = 60.0
    webhook_posts: int = 5  # executes per webhook per 2 s
    webhook_window: float = 2.0
    reaction_posts: int = 1  # reaction adds/removes per channel per 250 ms
    reaction_window: float = 0.25
    global_requests: int = 50  # REST requests per second for the whole bot
    global_window: float = 1.0
    max_cue_chars: int = 1900  # merged narration never exceeds this (Discord allows 2,000)
    margin: float = 0.05  # the safety margin, in seconds, added to every computed wait

    def scaled(self, factor: float) -> EngineLimits:
        """Rate windows shrunk by `factor` (0 < factor <= 1): only for a loopback emulator whose
        windows are shrunk alike; Discord's own windows are fixed. 1.0 changes nothing."""
        if not 0 < factor <= 1:
            raise ValueError(f"rate scale must be in (0, 1], got {factor}")
        if factor == 1:
            return self
        return replace(self, channel_window=self.channel_window * factor,
                       webhook_window=self.webhook_window * factor, global_window=self.global_window * factor,
                       reaction_window=self.reaction_window * factor)

    @classmethod
    def unlimited(cls) -> EngineLimits:
        return cls(channel_posts=10**9, webhook_posts=10**9, reaction_posts=10**9, global_requests=10**9,
                   margin=0.0)


class RateWindow:
    """At most `limit` events in any `span` seconds. The times are kept `keep` seconds (at least
    `span`): the global window keeps `span` + margin, for `kept_wait`."""

    __slots__ = ("keep", "limit", "span", "times")

    def __init__(self, limit: int, span: float, keep: float | None = None) -> None:
        self.limit = limit
        self.span = span
        self.keep = span if keep is None else max(span, keep)
        self.times: deque[float] = deque()

    def _prune(self, now: float) -> None:
        t = self.times
        while t and t[0] <= now - self.keep:
            t.popleft()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        return self._wait(now, self.span)

    def kept_wait(self, now: float) -> float:
        """Seconds until one more event fits in a window `keep` long."""
        return self._wait(now, self.keep)

    def _wait(self, now: float, length: float) -> float:
        self._prune(now)
        t = self.times
        if len(t) < self.limit:
            return 0.0
        oldest = t[len(t) - self.limit]  # the limit-th newest: one more fits once it is `length` old
        return 0.0 if oldest <= now - length else oldest + length - now

    def take(self, now: float) -> None:
        self.times.append(now)

    def count(self, now: float) -> int:
        """Events in the last `span` seconds."""
        self._prune(now)
        t = self.times
        if self.keep == self.span:
            return len(t)
        since = now - self.span
        n = 0
        for x in reversed(t):
            if x <= since:
                break
            n += 1
        return n


class RateBudget:
    def __init__(self, limits: EngineLimits) -> None:
        self.limits = limits
        self._channels: dict[int, RateWindow] = {}
        self._webhooks: dict[int, RateWindow] = {}
        self._reactions: dict[int, RateWindow] = {}
        # Its times are kept the window plus the margin, and a take must fit that longer window
        # too (`kept_wait`). A slot taken the moment the window frees (no wait, so no margin)
        # leaves after the intent's commit, up to a commit window later, while an earlier post may
        # have left at once: Discord then saw one post too many in its second (a global 429 in the
        # twenty-channel end-to-end test). Immediate takes keep the margin too.
        self.global_window = RateWindow(limits.global_requests, limits.global_window,
                                        keep=limits.global_window + limits.margin)
        self._takes = 0

    def _channel(self, key: int) -> RateWindow:
        w = self._channels.get(key)
        if w is None:
            w = self._channels[key] = RateWindow(self.limits.channel_posts, self.limits.channel_window)
        return w

    def _webhook(self, key: int) -> RateWindow:
        w = self._webhooks.get(key)
        if w is None:
            w = self._webhooks[key] = RateWindow(self.limits.webhook_posts, self.limits.webhook_window)
        return w

    def _reaction(self, key: int) -> RateWindow:
        w = self._reactions.get(key)
        if w is None:
            w = self._reactions[key] = RateWindow(self.limits.reaction_posts, self.limits.reaction_window)
        return w

    def reaction_wait(self, channel: int, now: float) -> float:
        w = self._reaction(channel).wait(now)
        return w + self.limits.margin if w > 0 else 0.0

    def take_reaction(self, channel: int, now: float) -> None:
        self._reaction(channel).take(now)

    def local_wait(self, channel: int, webhook: int, now: float) -> float:
        w = max(self._channel(channel).wait(now), self._webhook(webhook).wait(now))
        return w + self.limits.margin if w > 0 else 0.0

    def try_take(self, channel: int, webhook: int, now: float, *, in_turn: bool = True) -> float | None:
        """One post (the engine's hot path: `local_wait`, `global_wait` and `take` in one call):
        0.0 when taken; seconds to wait when the channel or webhook is full; None when only the
        global window is full, or `in_turn` is False (others wait for it first)."""
        cw = self._channels.get(channel) or self._channel(channel)
        ww = self._webhooks.get(webhook) or self._webhook(webhook)
        w = max(cw.wait(now), ww.wait(now))
        if w > 0:
            return w + self.limits.margin
        gw = self.global_window
        if not in_turn or gw.kept_wait(now) > 0:  # (the kept window holds the span: it covers `wait`)
            return None
        cw.times.append(now)
        ww.times.append(now)
        gw.times.append(now)
        self._takes += 1
        if self._takes % 10_000 == 0:
            self._forget_idle(now)
        return 0.0

    def global_wait(self, now: float) -> float:
        gw = self.global_window
        w = gw.wait(now)
        return w + self.limits.margin if w > 0 else gw.kept_wait(now)

    def take(self, channel: int, webhook: int, now: float) -> None:
        self._channel(channel).take(now)
        self._webhook(webhook).take(now)
        self.global_window.take(now)
        self._takes += 1
        if self._takes % 10_000 == 0:
            self._forget_idle(now)

    def restamp(self, channel: int, webhook: int, now: float) -> None:
        """The post granted last for this channel/webhook leaves only now: move its time to `now`
        (never earlier), so whatever ran between grant and send does not count as spacing."""
        for window in (self._channel(channel), self._webhook(webhook)):
            if window.times and window.times[-1] < now:
                window.times[-1] = now

    def take_global(self, now: float) -> None:
        self.global_window.take(now)

    def _forget_idle(self, now: float) -> None:
        for table in (self._channels, self._webhooks, self._reactions):
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

    def request(self, channel: int, webhook: int) -> Grant:
        now = self.clock.monotonic()
        got = self.budget.try_take(channel, webhook, now, in_turn=not self._line)
        if got is not None:
            return got  # 0.0: taken; else the channel's or webhook's wait
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
            fut.set_result(True)
        self._arm(now)

    # -- waiting versions, for requests that must go out (the stage's own, /ask replies) -----------
    async def acquire(self, channel: int, webhook: int) -> None:
        """Wait until one post fits the channel's, the webhook's and the global window; take it."""
        while True:
            grant = self.request(channel, webhook)
            if isinstance(grant, float):
                if grant <= 0:
                    return
                await self.clock.sleep(grant)
            elif await grant:
                return

    async def acquire_global(self) -> None:
        """Wait for one global request slot (edits, deletes, notices), in turn with the posts."""
        while not self.try_global():
            await self.clock.sleep(max(0.01, self.global_wait()))

    async def acquire_reaction(self, channel: int) -> None:
        """Wait until a reaction add/remove fits the channel's reaction window and the global one."""
        while True:
            wait = self.budget.reaction_wait(channel, self.clock.monotonic())
            if wait > 0:
                await self.clock.sleep(wait)
                continue
            await self.acquire_global()
            if self.budget.reaction_wait(channel, self.clock.monotonic()) == 0:
                self.budget.take_reaction(channel, self.clock.monotonic())
                return

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._line:
            fut = self._line.popleft()[2]
            if not fut.done():
                fut.set_result(False)
