"""A send budget that waits BEFORE a request would be rate limited, instead of reacting to 429s.

Discord's webhook limits (5 per 2 s per webhook, 30 per 60 s per channel, ~50/s per bot) are
sliding windows here, with a small safety margin. Each `acquire` names the windows one send
counts against; it returns when a send fits in all of them, and records it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Window:
    key: Hashable
    limit: int
    seconds: float


class SendBudget:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, scale: float = 1.0) -> None:
        # `scale` shrinks every window (only for an emulator whose windows are shrunk alike).
        self.scale = scale
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[Hashable, deque[float]] = {}

    def wait_needed(self, windows: Sequence[Window]) -> float:
        now = self._clock()
        wait = 0.0
        for w in windows:
            q = self._sent.get(w.key)
            if not q:
                continue
            span = w.seconds * self.scale
            while q and q[0] <= now - span:
                q.popleft()
            if len(q) >= w.limit:
                wait = max(wait, q[len(q) - w.limit] + span - now)
        return wait

    async def acquire(self, windows: Sequence[Window]) -> float:
        """Wait until one more send fits every window, record it; returns seconds waited."""
        waited = 0.0
        while True:
            wait = self.wait_needed(windows)
            if wait <= 0:
                now = self._clock()
                for w in windows:
                    self._sent.setdefault(w.key, deque()).append(now)
                return waited
            await self._sleep(wait)
            waited += wait


# Discord's limits with a margin for clock skew and latency between us and Discord.
PER_WEBHOOK = (5, 2.3)  # 5 per 2 s
PER_CHANNEL = (29, 61.0)  # 30 per 60 s
GLOBAL = (40, 1.05)  # 50 per second for the whole bot


def webhook_windows(webhook_id: int, channel_id: int) -> list[Window]:
    return [
        Window(("webhook", webhook_id), *PER_WEBHOOK),
        Window(("channel", channel_id), *PER_CHANNEL),
        Window("global", *GLOBAL),
    ]


def bot_windows(channel_id: int) -> list[Window]:
    return [Window(("bot-channel", channel_id), 5, 5.2), Window(("channel", channel_id), *PER_CHANNEL),
            Window("global", *GLOBAL)]


def reaction_windows(channel_id: int) -> list[Window]:
    return [Window(("reaction", channel_id), 1, 0.3), Window("global", *GLOBAL)]


def webhook_edit_windows(webhook_id: int) -> list[Window]:
    return [Window(("webhook-edit", webhook_id), 5, 2.3), Window("global", *GLOBAL)]
