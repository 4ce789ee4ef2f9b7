"""A Stage that records every request in memory, optionally in an append-only JSON-lines file.

Used by tests, the crash test (the file is what "Discord" received, surviving SIGKILL of the
process that wrote it: each event is one `os.write` on an O_APPEND descriptor) and the benches.
Failures can be injected per operation or per channel.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.engine.budget import EngineLimits, RateWindow
from bot.engine.clock import Clock, SystemClock
from bot.engine.stage import Cue, MessageRef, Place, SeenMessage, StageError


def render_plain(cue: Cue) -> str:
    """The text a chat client would show for a cue (cards: title, description, fields)."""
    if cue.card is not None:
        parts = [cue.card.title, cue.card.description, *(f"{k}: {v}" for k, v in cue.card.fields),
                 cue.card.footer]
        return "\n".join(p for p in parts if p)
    body = f"*{cue.text}*" if cue.kind == "thought" else cue.text
    if cue.rewound:
        body = f"~~{body}~~"
    head = f"### {cue.heading}\n" if cue.heading else ""
    return head + body + (f"\n-# {cue.aside}" if cue.aside else "")


def split_plain(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut after a sentence or at a space when possible."""
    out: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind(". ", 0, limit), text.rfind("\n", 0, limit))
        cut = cut + 1 if cut > 0 else (text.rfind(" ", 0, limit) if text.rfind(" ", 0, limit) > 0 else limit)
        out.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text or not out:
        out.append(text)
    return out


@dataclass(slots=True)
class Recorded:
    message_id: int
    channel_id: int
    webhook: int
    author: str
    content: str
    kind: str
    beats: tuple[int, int] | None
    created_at: float
    mono: float
    deleted: bool = False
    edited: str | None = None
    controls: bool = False


@dataclass(slots=True)
class RecordingStage:
    path: Path | None = None
    clock: Clock = field(default_factory=SystemClock)
    split_at: int | None = None  # like Discord: a longer message becomes several (MessageRef.parts)
    on_post: Callable[[Recorded], None] | None = None
    posts: list[Recorded] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)
    typings: list[tuple[int, float]] = field(default_factory=list)
    notices: list[tuple[int, str]] = field(default_factory=list)
    requests: list[float] = field(default_factory=list)  # monotonic time of every request
    _by_id: dict[int, Recorded] = field(default_factory=dict)
    _fail: dict[str, deque[StageError]] = field(default_factory=lambda: defaultdict(deque))
    _broken: dict[int, StageError] = field(default_factory=dict)
    _next_id: int = 1_000_001
    _fd: int | None = None

    def __post_init__(self) -> None:
        if self.path is not None:
            if self.path.exists():
                self._load(self.path)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _load(self, path: Path) -> None:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue  # a torn last line cannot happen with O_APPEND writes, but be lenient
            if ev["op"] == "post":
                rec = Recorded(ev["id"], ev["channel"], ev["webhook"], ev["author"], ev["content"], ev["kind"],
                               (ev["beats"][0], ev["beats"][1]) if ev["beats"] else None, ev["at"], 0.0)
                self.posts.append(rec)
                self._by_id[rec.message_id] = rec
                self._next_id = max(self._next_id, rec.message_id + 1)
            elif ev["op"] == "delete" and ev["id"] in self._by_id:
                self._by_id[ev["id"]].deleted = True
            elif ev["op"] == "edit" and ev["id"] in self._by_id:
                self._by_id[ev["id"]].edited = ev["content"]

    def _write(self, ev: dict[str, object]) -> None:
        if self._fd is not None:
            os.write(self._fd, (json.dumps(ev, ensure_ascii=False) + "\n").encode())

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # -- failure injection -----------------------------------------------------------------------
    def fail_next(self, exc: StageError, op: str = "post", times: int = 1) -> None:
        for _ in range(times):
            self._fail[op].append(exc)

    def break_channel(self, channel_id: int, exc: StageError | None) -> None:
        """Every post to `channel_id` raises `exc` until called again with None."""
        if exc is None:
            self._broken.pop(channel_id, None)
        else:
            self._broken[channel_id] = exc

    def _check(self, op: str, place: Place | None) -> None:
        self.requests.append(self.clock.monotonic())
        q = self._fail.get(op)
        if q:
            raise q.popleft()
        if place is not None and place.channel_id in self._broken and op == "post":
            raise self._broken[place.channel_id]

    # -- Stage ----------------------------------------------------------------------------------
    async def post(self, place: Place, cue: Cue) -> MessageRef:
        self._check("post", place)
        content = render_plain(cue)
        pieces = split_plain(content, self.split_at) if self.split_at and cue.card is None else [content]
        ids: list[int] = []
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            rec = Recorded(self._next_id, place.channel_id, place.parent_id or place.channel_id, cue.voice.name,
                           piece, cue.kind, cue.beats, self.clock.now(), self.clock.monotonic(),
                           controls=cue.controls and last)
            self._next_id += 1
            self._write({"op": "post", "id": rec.message_id, "channel": rec.channel_id, "webhook": rec.webhook,
                         "author": rec.author, "content": rec.content, "kind": rec.kind,
                         "beats": list(rec.beats) if rec.beats else None, "at": rec.created_at})
            self.posts.append(rec)
            self._by_id[rec.message_id] = rec
            ids.append(rec.message_id)
            if self.on_post is not None:
                self.on_post(rec)
            if not last:
                self.requests.append(self.clock.monotonic())
        self.cues.append(cue)
        return MessageRef(place, ids[-1], tuple(ids[:-1]))

    async def edit(self, ref: MessageRef, cue: Cue) -> None:
        self._check("edit", None)
        for mid in ref.all_ids:
            rec = self._by_id.get(mid)
            if rec is not None:
                rec.edited = render_plain(cue)
                self._write({"op": "edit", "id": rec.message_id, "content": rec.edited})

    async def delete(self, ref: MessageRef) -> None:
        self._check("delete", None)
        for mid in ref.all_ids:
            rec = self._by_id.get(mid)
            if rec is not None and not rec.deleted:
                rec.deleted = True
                self._write({"op": "delete", "id": rec.message_id})

    async def typing(self, place: Place) -> None:
        self.requests.append(self.clock.monotonic())
        self.typings.append((place.channel_id, self.clock.now()))

    async def recent(self, place: Place, limit: int = 20) -> list[SeenMessage]:
        self._check("recent", None)
        out: list[SeenMessage] = []
        for rec in reversed(self.posts):
            if rec.channel_id == place.channel_id and not rec.deleted:
                out.append(SeenMessage(rec.message_id, rec.author, rec.edited or rec.content, rec.created_at))
                if len(out) >= limit:
                    break
        return out

    async def notify_moderators(self, place: Place, text: str) -> None:
        self._check("notify", None)
        self.notices.append((place.channel_id, text))

    # -- inspection -----------------------------------------------------------------------------
    def transcript(self, channel_id: int, *, include_deleted: bool = False) -> list[Recorded]:
        return [r for r in self.posts if r.channel_id == channel_id and (include_deleted or not r.deleted)]

    def violations(self, limits: EngineLimits) -> list[str]:
        """Every moment the recorded posts broke a rate limit (sliding windows, monotonic time)."""
        out: list[str] = []
        channels: dict[int, RateWindow] = {}
        hooks: dict[int, RateWindow] = {}
        for rec in self.posts:
            cw = channels.setdefault(rec.channel_id, RateWindow(limits.channel_posts, limits.channel_window))
            hw = hooks.setdefault(rec.webhook, RateWindow(limits.webhook_posts, limits.webhook_window))
            if cw.wait(rec.mono - 1e-9) > 0:
                out.append(f"channel {rec.channel_id} over {limits.channel_posts}/{limits.channel_window}s "
                           f"at {rec.mono:.3f}")
            if hw.wait(rec.mono - 1e-9) > 0:
                out.append(f"webhook {rec.webhook} over {limits.webhook_posts}/{limits.webhook_window}s "
                           f"at {rec.mono:.3f}")
            cw.take(rec.mono)
            hw.take(rec.mono)
        gw = RateWindow(limits.global_requests, limits.global_window)
        for t in sorted(self.requests):
            if gw.wait(t - 1e-9) > 0:
                out.append(f"global over {limits.global_requests}/{limits.global_window}s at {t:.3f}")
            gw.take(t)
        return out
