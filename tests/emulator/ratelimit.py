"""Discord-style rate limits on the real monotonic clock.

Buckets are fixed windows like Discord's: the window opens with the first request and resets
`per` seconds later; `X-RateLimit-Remaining/Reset-After` describe it, so discord.py can wait
pre-emptively. Limits enforced (the ones a narrator bot meets):

* per webhook: 5 executes per 2 s (reported in the headers);
* per channel: 30 webhook executes per 60 s, shared by every webhook of the channel (only
  visible as a 429 with scope "shared", like on Discord — budget for it);
* global: 50 requests per second per bot token (interaction callbacks exempt);
* channel messages 5 / 5 s per channel, reactions 1 / 0.25 s per channel; others are generous.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass


@dataclass
class Window:
    limit: int
    per: float
    start: float = 0.0
    count: int = 0

    def _roll(self, now: float) -> None:
        if now >= self.start + self.per:
            self.start = now
            self.count = 0

    def would_allow(self, now: float) -> bool:
        self._roll(now)
        return self.count < self.limit

    def take(self, now: float) -> None:
        self._roll(now)
        self.count += 1

    def remaining(self, now: float) -> int:
        self._roll(now)
        return max(0, self.limit - self.count)

    def reset_after(self, now: float) -> float:
        if self.count == 0:
            return self.per
        return max(0.0, self.start + self.per - now)


@dataclass
class Verdict:
    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    scope: str = "user"
    is_global: bool = False


def _bucket_hash(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:16]


class RateLimiter:
    def __init__(self, *, global_limit: int = 50, global_per: float = 1.0,
                 webhook_limit: int = 5, webhook_per: float = 2.0,
                 channel_webhook_limit: int = 30, channel_webhook_per: float = 60.0) -> None:
        self.global_limit, self.global_per = global_limit, global_per
        self.webhook_limit, self.webhook_per = webhook_limit, webhook_per
        self.channel_webhook_limit, self.channel_webhook_per = channel_webhook_limit, channel_webhook_per
        self.enabled = True
        #: multiply every window (tests of pacing may shrink them; the default is Discord's)
        self.scale = 1.0
        self._windows: dict[str, Window] = {}
        self.clock = time.monotonic

    def _window(self, key: str, limit: int, per: float) -> Window:
        w = self._windows.get(key)
        if w is None or w.per != per * self.scale:
            w = self._windows[key] = Window(limit, per * self.scale)
        return w

    def reset(self) -> None:
        self._windows.clear()

    def check(self, *, identity: str | None, bucket: str | None, limit: int, per: float,
              shared: str | None = None, route: str = "") -> Verdict:
        """Account one request. `identity` is the bot token (None: exempt from the global limit),
        `bucket` the route bucket key (route + major parameters), `shared` the per-channel webhook
        key (if any), `route` the template: like Discord, the reported bucket hash names the route
        only — discord.py combines it with the major parameters itself."""
        now = self.clock()
        headers: dict[str, str] = {}
        route_w = self._window("route:" + bucket, limit, per) if bucket else None
        if route_w is not None:
            headers = {
                "X-RateLimit-Limit": str(route_w.limit),
                "X-RateLimit-Bucket": _bucket_hash(route or (bucket or "")),
            }
        if not self.enabled:
            if route_w is not None:
                headers.update(self._describe(route_w, now))
            return Verdict(True, headers)
        glob = self._window("global:" + identity, self.global_limit, self.global_per) if identity else None
        if glob is not None and not glob.would_allow(now):
            retry = glob.reset_after(now)
            return Verdict(False, {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"},
                           retry, "global", True)
        if route_w is not None and not route_w.would_allow(now):
            headers.update(self._describe(route_w, now))
            headers["X-RateLimit-Scope"] = "user"
            return Verdict(False, headers, route_w.reset_after(now), "user")
        shared_w = (self._window("shared:" + shared, self.channel_webhook_limit, self.channel_webhook_per)
                    if shared else None)
        if shared_w is not None and not shared_w.would_allow(now):
            if route_w is not None:
                headers.update(self._describe(route_w, now))
            headers["X-RateLimit-Scope"] = "shared"
            return Verdict(False, headers, shared_w.reset_after(now), "shared")
        if glob is not None:
            glob.take(now)
        if route_w is not None:
            route_w.take(now)
            headers.update(self._describe(route_w, now))
        if shared_w is not None:
            shared_w.take(now)
        return Verdict(True, headers)

    @staticmethod
    def _describe(w: Window, now: float) -> dict[str, str]:
        reset_after = w.reset_after(now)
        return {
            "X-RateLimit-Remaining": str(w.remaining(now)),
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        }
