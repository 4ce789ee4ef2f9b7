"""Per-user cooldown for /ask, on the bot's injected `Clock` so tests never sleep."""

from __future__ import annotations

import math
from collections.abc import Callable

from bot.engine.clock import Clock


class Cooldown:
    """Remembers when each user last got an answer; `remaining()` says how long they must wait."""

    def __init__(self, seconds: float, clock: Clock, *, max_users: int = 10_000) -> None:
        if seconds < 0:
            raise ValueError("cooldown seconds must be >= 0")
        self.seconds = seconds
        self._clock = clock
        self._last: dict[int, float] = {}
        self._max_users = max_users

    def remaining(self, user_id: int) -> float:
        last = self._last.get(user_id)
        if last is None:
            return 0.0
        return max(0.0, last + self.seconds - self._clock.monotonic())

    def mark(self, user_id: int) -> Callable[[], None]:
        """Start the user's cooldown now; returns a function that takes it back (if the answer
        failed for a reason that is not the user's)."""
        now = self._clock.monotonic()
        if len(self._last) >= self._max_users:
            # Forget everyone whose cooldown is over; memory stays bounded on a busy server.
            self._last = {u: t for u, t in self._last.items() if t + self.seconds > now}
        before = self._last.get(user_id)
        self._last[user_id] = now

        def undo() -> None:
            if self._last.get(user_id) == now:
                if before is None:
                    del self._last[user_id]
                else:
                    self._last[user_id] = before

        return undo

    @staticmethod
    def wait_text(seconds: float) -> str:
        whole = max(1, math.ceil(seconds))
        return f"{whole} second{'s' if whole != 1 else ''}"
