"""The narrator: one scheduler task per session, exactly-once posting, moderator commands.

Plain asyncio; it reaches Discord (or the terminal) only through a `Stage`, the database only
through `bot.store.sessions.SessionStore`, and time only through a `Clock`.

Posting protocol (exactly once):
 1. a `posts` row is written with status "posting" in its own committed transaction;
 2. `stage.post()` is called;
 3. the row becomes "posted" with the message id AND the session moves on, in one transaction.
A crash between 1 and 3 leaves a "posting" row. On start-up (and after an `Unavailable` failure,
whose outcome is unknown) the engine asks `stage.recent(place)` for the newest messages and looks
for one with the cue's author name and text that no post row knows yet: found -> recorded as
posted; not found -> the row is marked "failed" and the beat is posted again.

Start-up policy (`resume_all`): every playing/waiting session is reloaded. Waiting sessions keep
waiting for readers. A playing session whose next beat came due while the bot was down posts ONE
catch-up beat as soon as the rate budget allows, then continues at normal pace (the missed time
is not made up by bursting; nothing is skipped).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from bot.engine.api import (
    MODES,
    Actor,
    AdvanceResult,
    FixOnRewind,
    Mode,
    NarratorError,
    NoSession,
    NotAllowed,
    SessionExists,
    SessionView,
    State,
    UnknownStory,
)
from bot.engine.budget import BudgetGate, EngineLimits, RateBudget
from bot.engine.clock import Clock, FakeClock, SystemClock
from bot.engine.cues import (
    can_merge,
    closing_cue,
    cue_for_beat,
    cue_words,
    merge_narration,
    rewound_cue,
    title_cue,
)
from bot.engine.pacing import Pacing, PressLimiter, VoteBox
from bot.engine.session import Command, transition
from bot.engine.stage import (
    Cue,
    Forbidden,
    Gone,
    MessageRef,
    Place,
    RateLimited,
    SeenMessage,
    Stage,
    StageError,
    Unavailable,
)
from bot.store.db import Database
from bot.store.sessions import AuditEntry, LiveSessionExists, PostRow, PostSummary, SessionRow, SessionStore
from bot.story.model import Beat, Story

log = logging.getLogger("bot.engine")

class StorySource(Protocol):
    """Anything with `get(slug) -> Story | None`, e.g. `bot.story.library.Library`."""

    def get(self, slug: str, /) -> Story | None: ...


StoryLookup = Mapping[str, Story] | Callable[[str], Story | None] | StorySource
SYSTEM_ACTOR = 0  # audit-log actor id for what the engine does on its own (pauses on failures)
RECONCILE_SKEW = 120.0  # seconds of clock difference tolerated between us and the stage
MAX_BACKOFF = 60.0
CATCH_UP_CAP = 60.0  # seconds of lateness the schedule remembers (merging makes it up)
# A ▶ on a message we have not recorded yet (a fast reader reacting while the post's response is
# still in flight) is held this long for the post to be recorded, then applied if it matches.
HOLD_EARLY_PRESS = 5.0


@dataclass(slots=True)
class EngineStats:
    posts: int = 0
    merged_beats: int = 0  # beats that went out inside a merged narration message
    rate_limited: int = 0
    reconciled: int = 0  # unresolved posts found already posted
    reposted: int = 0  # unresolved posts that had not arrived and were posted again
    lateness: deque[float] = field(default_factory=lambda: deque(maxlen=200_000))


@dataclass(eq=False, slots=True)
class _Live:
    row: SessionRow
    place: Place
    story: Story | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0
    last_message_id: int | None = None
    votes: VoteBox = field(default_factory=lambda: VoteBox(needed=2))
    task: asyncio.Task[None] | None = None
    blocker: asyncio.Future[Any] | None = None
    typed_for: int | None = None
    unresolved: bool = False
    backoff: float = 0.0
    cleanup: list[tuple[PostRow, FixOnRewind]] = field(default_factory=list)
    changed: asyncio.Event | None = None
    posting: asyncio.Event | None = None  # set when the post in flight has been recorded (or failed)


_NORM = re.compile(r"[\W_]+", re.UNICODE)


def _norm(s: str) -> str:
    return _NORM.sub(" ", s).strip().casefold()


def cue_matches(cue: Cue, seen: SeenMessage) -> bool:
    """Does a message the stage still sees look like this cue? (author name + the cue's words)"""
    if _norm(seen.author_name) != _norm(cue.voice.name):
        return False
    needle = _norm(cue.text)[:160]
    return bool(needle) and needle in _norm(seen.content)


def _split_chain(cue: Cue, first: SeenMessage, candidates: list[SeenMessage]) -> list[SeenMessage]:
    """The messages a split cue became: `first` (its opening words matched) and the messages by the
    same voice right after it whose words continue the cue. `candidates` is in posting order."""
    whole = _norm(" ".join(x for x in (cue.heading, cue.text, cue.aside) if x))
    chain = [first]
    author = _norm(first.author_name)
    for m in candidates[candidates.index(first) + 1:]:
        words = _norm(m.content)
        if _norm(m.author_name) != author or not words or words[:160] not in whole:
            break
        chain.append(m)
    return chain


class Narrator:
    """Implements `bot.engine.api.NarratorService`.

    Narrator(db: Database, stage: Stage,
             stories: Mapping[str, Story] | Callable[[str], Story | None] | Library | None = None,
             *, library: Library | None = None,   # alias of `stories`
             clock: Clock | None = None, limits: EngineLimits | None = None,
             pacing: Pacing | None = None, fix_on_rewind: FixOnRewind = "delete",
             include_notes: bool = False, votes_needed: int | None = None)

    `db` must be migrated. `stories` finds a Story by slug: a dict, a function, or anything with
    `.get(slug)` such as `bot.story.library.Library` (looked up on every use, so a reloaded
    library is seen at once). Call `await resume_all()` once at start-up and `await close()` at
    shutdown. Moderator commands require `actor.moderator`; the caller decides who that is.
    Extras beyond the protocol: `resume_session(place)` (start-up for one place: the demo),
    `wait_for_state(place, states)`, `session_for_message(message_id)`, `audit_log(place)`,
    `set_rewind_fix(fix)` (default for new sessions), `set_session_rewind_fix(place, actor, fix)`,
    `stats` (posts, merges, 429s, reconciled/re-posted, timer lateness), `is_idle()`.
    """

    def __init__(self, db: Database, stage: Stage, stories: StoryLookup | None = None, *,
                 library: StorySource | None = None, clock: Clock | None = None,
                 limits: EngineLimits | None = None, pacing: Pacing | None = None,
                 fix_on_rewind: FixOnRewind = "delete", include_notes: bool = False,
                 votes_needed: int | None = None) -> None:
        self.store = SessionStore(db)
        self.stage = stage
        source = stories if stories is not None else library
        if source is None:
            raise TypeError("Narrator needs `stories` (or `library`)")
        self._stories: StoryLookup = source
        self.clock: Clock = clock or SystemClock()
        self.limits = limits or EngineLimits()
        self.pacing = pacing or Pacing()
        self.fix_on_rewind: FixOnRewind = fix_on_rewind
        self.include_notes = include_notes
        self.votes_needed = votes_needed or self.pacing.votes_needed
        self.gate = BudgetGate(RateBudget(self.limits), self.clock)
        self.presses = PressLimiter(self.pacing.press_cooldown)
        self.stats = EngineStats()
        self._live: dict[int, _Live] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._awake: set[_Live] = set()  # session tasks that are running, not parked (is_idle)
        self._load_lock = asyncio.Lock()
        self._closing = False
        if isinstance(self.clock, FakeClock):
            self.clock.add_idle_check(self.is_idle)

    # ================================================================ helpers
    def _story(self, slug: str) -> Story | None:
        src = self._stories
        if isinstance(src, Mapping):
            return src.get(slug)
        if callable(src):
            return src(slug)
        return src.get(slug)

    def _include_notes(self, slug: str) -> bool:
        per_story = getattr(self._stories, "include_notes", None)  # Library: story.toml's setting
        if callable(per_story) and not isinstance(self._stories, Mapping):
            return bool(per_story(slug)) or self.include_notes
        return self.include_notes

    @staticmethod
    def _require_mod(actor: Actor, what: str) -> None:
        if not actor.moderator:
            raise NotAllowed(f"Only moderators can {what}.")

    def _adopt(self, row: SessionRow, summary: PostSummary | None) -> _Live:
        place = Place(channel_id=row.channel_id, guild_id=row.guild_id, parent_id=row.parent_id)
        story = self._story(row.story_slug)
        lv = _Live(row=row, place=place, story=story, votes=VoteBox(needed=max(1, row.votes_needed)))
        if summary is not None:
            lv.seq = summary.max_seq
            lv.last_message_id = summary.last_message_id
            lv.unresolved = summary.unresolved
        if story is not None and row.position > len(story):
            row.position = len(story)
        old = self._live.get(row.channel_id)
        if old is not None and old.task is not None and not old.task.done():
            old.task.cancel()
        self._live[row.channel_id] = lv
        return lv

    async def _get(self, place: Place) -> _Live | None:
        lv = self._live.get(place.channel_id)
        if lv is not None:
            return lv
        async with self._load_lock:
            lv = self._live.get(place.channel_id)
            if lv is not None:
                return lv
            row = await self.store.latest_for_channel(place.channel_id)
            if row is None:
                return None
            summary = (await self.store.post_summaries([row.id])).get(row.id)
            lv = self._adopt(row, summary)
            if row.state == "waiting" and row.mode == "vote":
                lv.votes.position = row.position
                lv.votes.voters = await self.store.voters(row.id, row.position)
            await self._load_cleanup(lv)
            if lv.cleanup:
                self._spawn(lv)
            return lv

    async def _load_cleanup(self, lv: _Live) -> None:
        """Finish a rewind's channel tidy-up that a crash interrupted."""
        row = lv.row
        if row.fix_on_rewind == "none" or row.state == "stopped" or lv.cleanup:
            return
        fix: FixOnRewind = row.fix_on_rewind  # type: ignore[assignment]
        stale = await self.store.stale_posts(row.id, row.position, include_closing=row.state != "finished")
        lv.cleanup.extend((p, fix) for p in stale)

    async def _need(self, place: Place) -> _Live:
        lv = await self._get(place)
        if lv is None:
            raise NoSession("No story is running here; start one with /story start.")
        return lv

    def _audit(self, lv: _Live, actor_id: int, action: str, from_beat: int | None, to_beat: int | None,
               detail: str = "") -> AuditEntry:
        return AuditEntry(lv.row.id, lv.place.guild_id, lv.place.channel_id, actor_id, action, from_beat,
                          to_beat, detail, self.clock.now())

    def _playable_from(self, lv: _Live, i: int) -> int | None:
        story = lv.story
        if story is None:
            return None
        n = len(story)
        if not lv.row.include_notes:
            while i < n and story.beat(i).kind == "note":
                i += 1
        return i if i < n else None

    def _votes_needed(self, row: SessionRow) -> int:
        return 0 if row.mode == "auto" else 1 if row.mode == "manual" else max(1, row.votes_needed)

    def _view(self, lv: _Live) -> SessionView:
        row, story = lv.row, lv.story
        beat_count = len(story) if story else row.position
        scene_index = 0
        if story is not None and len(story):
            last = min(max(row.position - 1, 0), len(story) - 1)
            scene_index = story.beat(last).scene
        return SessionView(
            session_id=row.id, place=lv.place, story_slug=row.story_slug,
            story_title=story.title if story else row.story_slug, state=row.state,  # type: ignore[arg-type]
            mode=row.mode,  # type: ignore[arg-type]
            wpm=row.wpm, position=row.position, beat_count=beat_count, scene_index=scene_index,
            scene_count=len(story.scenes) if story else 0, started_by=row.started_by,
            votes=lv.votes.count(row.position), votes_needed=self._votes_needed(row),
            pause_reason=row.pause_reason, next_due_at=row.next_due_at, fix_on_rewind=row.fix_on_rewind,
        )

    def _changed(self, lv: _Live) -> None:
        if lv.changed is not None:
            lv.changed.set()
            lv.changed = None

    def _transition(self, lv: _Live, command: Command, mode: str | None = None) -> State:
        return transition(lv.row.state, command, (mode or lv.row.mode))  # type: ignore[arg-type]

    # ================================================================ task registry
    def _spawn(self, lv: _Live) -> None:
        if self._closing or (lv.task is not None and not lv.task.done()):
            return
        task = asyncio.get_running_loop().create_task(self._run(lv), name=f"narrator-session-{lv.row.id}")
        lv.task = task
        self._awake.add(lv)
        self._tasks[lv.row.id] = task
        sid = lv.row.id

        def done(t: asyncio.Task[None]) -> None:
            if lv.task is t:
                self._awake.discard(lv)
            self._task_done(sid, t)

        task.add_done_callback(done)

    def _task_done(self, session_id: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(session_id) is task:
            del self._tasks[session_id]
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("session %s scheduler stopped by an error", session_id, exc_info=exc)

    def _kick(self, lv: _Live) -> None:
        """Something changed: wake the session's task (or start one if it needs to act)."""
        b = lv.blocker
        if b is not None and not b.done():
            b.set_result(None)
        if lv.task is None or lv.task.done():
            if lv.row.state in ("playing", "waiting") or lv.cleanup:
                self._spawn(lv)
        self._changed(lv)

    def is_idle(self) -> bool:
        """True when every session task is parked on a timer, a vote or the rate budget."""
        return not self._awake

    def _parked(self, lv: _Live, fut: asyncio.Future[Any]) -> None:
        """Bookkeeping for `is_idle`: `lv` sleeps on `fut` and is awake again once it resolves."""
        lv.blocker = fut
        self._awake.discard(lv)

        def woke(_: asyncio.Future[Any]) -> None:
            if lv.task is not None and not lv.task.done():
                self._awake.add(lv)

        fut.add_done_callback(woke)

    async def _park(self, lv: _Live, delay: float | None) -> None:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        handle = None
        fired = False
        target = 0.0
        if delay is not None:
            target = self.clock.monotonic() + max(0.0, delay)

            def fire() -> None:
                nonlocal fired
                if not fut.done():
                    fired = True
                    fut.set_result(None)

            handle = self.clock.call_later(max(0.0, delay), fire)
        self._parked(lv, fut)
        try:
            await fut
        finally:
            lv.blocker = None
            if handle is not None:
                handle.cancel()
        if fired:
            self.stats.lateness.append(self.clock.monotonic() - target)

    async def _wait_for(self, event: asyncio.Event, seconds: float) -> None:
        """Wait until `event` is set or `seconds` (on the engine's clock) have passed."""
        waiter = asyncio.ensure_future(event.wait())
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (waiter, sleeper):
                t.cancel()

    async def _block(self, lv: _Live, fut: asyncio.Future[bool]) -> bool:
        self._parked(lv, fut)
        try:
            return bool(await fut)
        finally:
            lv.blocker = None

    # ================================================================ the scheduler
    async def _run(self, lv: _Live) -> None:
        try:
            while not self._closing:
                if lv.cleanup:
                    await self._fix_channel(lv)
                    continue
                row = lv.row
                if row.state not in ("playing", "waiting"):
                    return  # paused/finished/stopped: a command starts a new task when needed
                if lv.unresolved:
                    await self._reconcile(lv)
                    continue
                if row.state == "waiting":
                    await self._park(lv, None)
                    continue
                if lv.story is None:
                    async with lv.lock:
                        await self._halt(lv, f"the story '{row.story_slug}' is no longer in the library")
                    return
                now = self.clock.now()
                due = row.next_due_at if row.next_due_at is not None else now
                if due > now:
                    await self._wait_until_due(lv, due - now)
                    continue
                webhook = lv.place.parent_id or lv.place.channel_id
                grant = self.gate.request(lv.place.channel_id, webhook)
                if isinstance(grant, float):
                    if grant > 0:
                        await self._park(lv, grant)
                        continue
                elif not await self._block(lv, grant):
                    continue
                retry = await self._post_step(lv)
                if retry is not None:
                    await self._park(lv, retry)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("session %s: unexpected error; pausing it", lv.row.id)
            lv.unresolved = True  # a post may be left "posting": check it before posting again
            try:
                async with lv.lock:
                    await self._halt(lv, f"an internal error stopped the narration ({type(exc).__name__})")
            except Exception:
                log.exception("session %s: could not record the pause", lv.row.id)

    async def _wait_until_due(self, lv: _Live, wait: float) -> None:
        """Sleep until the next beat is due, showing typing shortly before a long beat."""
        nxt = self._playable_from(lv, lv.row.position) if lv.row.title_posted else None
        lead = self.pacing.typing_lead
        if nxt is not None and lv.story is not None and lv.typed_for != nxt \
                and self.pacing.shows_typing(lv.story.beat(nxt).word_count()):
            if wait > lead:
                await self._park(lv, wait - lead)
                return
            lv.typed_for = nxt
            if self.gate.try_global():
                try:
                    await self.stage.typing(lv.place)
                except Exception as exc:  # best effort by contract
                    log.debug("session %s: typing failed: %s", lv.row.id, exc)
            return
        await self._park(lv, wait)

    def _plan(self, lv: _Live, now: float) -> tuple[str, int | None, int | None, Cue, int] | None:
        """What to post next: (post kind, first beat, last beat, cue, words)."""
        fresh = self._story(lv.row.story_slug)  # a fix saved since (same beats) plays from the next beat
        if fresh is not None and lv.story is not None and fresh is not lv.story and len(fresh) == len(lv.story):
            lv.story = fresh
        row, story = lv.row, lv.story
        assert story is not None
        if not row.title_posted:
            return "title", None, None, title_cue(story, session_id=row.id, wpm=row.wpm), 0
        i = self._playable_from(lv, row.position)
        if i is None:
            return "closing", None, None, closing_cue(story, session_id=row.id), 0
        controls = row.mode != "auto"
        beat = story.beat(i)
        beats: list[Beat] = [beat]
        if row.mode == "auto" and beat.kind == "narration" and row.next_due_at is not None:
            # Behind schedule (the rate budget held us back): fold narration beats that would
            # already have been due into this message instead of queueing them.
            due, j = row.next_due_at, i
            while True:
                due += self.pacing.delay_after(story.beat(j).word_count(), row.wpm)
                k = self._playable_from(lv, j + 1)
                if k is None or due > now or not can_merge(story, [*beats, story.beat(k)],
                                                           self.limits.max_cue_chars):
                    break
                beats.append(story.beat(k))
                j = k
        if len(beats) > 1:
            cue = merge_narration(story, beats, session_id=row.id, controls=controls)
        else:
            cue = cue_for_beat(story, beat, session_id=row.id, controls=controls)
        return "beat", beats[0].index, beats[-1].index, self._headed(lv, cue), sum(b.word_count() for b in beats)

    def _headed(self, lv: _Live, cue: Cue) -> Cue:
        """Add "Scene N — Title" when the cue opens a scene (scene 1 only when it has a title)."""
        story = lv.story
        if story is None or cue.beats is None:
            return cue
        first = cue.beats[0]
        scene = story.scenes[story.beat(first).scene]
        if self._playable_from(lv, max(scene.first_beat, 0)) != first:
            return cue
        title = " ".join((scene.title or "").split())
        if scene.index == 0 and not title:
            return cue
        return replace(cue, heading=f"Scene {scene.index + 1}" + (f" — {title}" if title else ""))

    def _rebuild(self, lv: _Live, p: PostRow) -> Cue | None:
        story = lv.story
        if story is None:
            return None
        if p.kind == "title":
            return title_cue(story, session_id=lv.row.id, wpm=lv.row.wpm)
        if p.kind == "closing":
            return closing_cue(story, session_id=lv.row.id)
        if p.first_beat is None or p.last_beat is None or p.last_beat >= len(story):
            return None
        controls = lv.row.mode != "auto"
        if p.first_beat == p.last_beat:
            return self._headed(lv, cue_for_beat(story, story.beat(p.first_beat), session_id=lv.row.id,
                                                 controls=controls))
        beats = [b for b in story.beats[p.first_beat:p.last_beat + 1]
                 if b.kind != "note" or lv.row.include_notes]
        return self._headed(lv, merge_narration(story, beats, session_id=lv.row.id, controls=controls))

    async def _post_step(self, lv: _Live) -> float | None:
        """Post the next cue (holding the session lock). Returns seconds to wait before retrying."""
        async with lv.lock:
            row = lv.row
            if row.state != "playing" or self._closing or lv.story is None or lv.cleanup or lv.unresolved:
                return None
            now = self.clock.now()
            if row.next_due_at is not None and row.next_due_at > now + 1e-6:
                return None  # the pace changed while we waited for the budget
            plan = self._plan(lv, now)
            if plan is None:
                return None
            kind, first, last, cue, words = plan
            lv.seq += 1
            seq = lv.seq
            await self.store.begin_post(row.id, seq, kind, first, last, now)
            lv.posting = asyncio.Event()
            try:
                return await self._deliver(lv, seq, kind, first, last, cue, words)
            finally:
                lv.posting.set()
                lv.posting = None

    async def _deliver(self, lv: _Live, seq: int, kind: str, first: int | None, last: int | None, cue: Cue,
                       words: int) -> float | None:
        """The stage call and its record (caller holds the lock and has begun the post)."""
        row = lv.row
        try:
            ref = await self.stage.post(lv.place, cue)
        except RateLimited as exc:
            self.stats.rate_limited += 1
            await self.store.set_post_status(row.id, [seq], "failed")
            return max(exc.retry_after, 0.05)
        except Unavailable as exc:
            log.warning("session %s: stage unavailable (%s); will check and retry", row.id, exc)
            lv.unresolved = True
            lv.backoff = min(MAX_BACKOFF, max(1.0, lv.backoff * 2))
            return lv.backoff
        except (Forbidden, Gone) as exc:
            await self.store.set_post_status(row.id, [seq], "failed")
            await self._halt(lv, _reason(exc))
            return None
        lv.backoff = 0.0
        if ref.parts:  # a long beat went out as several messages: each one used the budget
            webhook = lv.place.parent_id or lv.place.channel_id
            for _ in ref.parts:
                self.gate.budget.take(lv.place.channel_id, webhook, self.clock.monotonic())
        if first is not None and last is not None and last > first:
            self.stats.merged_beats += last - first + 1
        await self._record(lv, seq, kind, first, last, ref.message_id, words, ref.parts)
        return None

    async def _record(self, lv: _Live, seq: int, kind: str, first: int | None, last: int | None,
                      message_id: int, words: int, parts: tuple[int, ...] = ()) -> None:
        """The post arrived: mark it posted and move the session on (one transaction)."""
        row, story = lv.row, lv.story
        assert story is not None
        now = self.clock.now()
        auto = row.mode == "auto"
        clear = False
        playing = row.state == "playing"  # else (paused meanwhile) record progress, keep the state
        if kind == "title":
            row.title_posted = 1
            row.next_due_at = now + self.pacing.first_beat_delay if playing else None
        elif kind == "closing":
            row.state = self._transition(lv, "finish")
            row.next_due_at = None
        else:
            assert first is not None and last is not None
            # The schedule chains from when this beat was DUE, not when it went out: a session the
            # rate budget holds back falls measurably behind, and the next post merges narration
            # to catch up (bounded by CATCH_UP_CAP so an outage does not end in a burst).
            due = row.next_due_at if row.next_due_at is not None and auto else now
            due = max(due, now - CATCH_UP_CAP)
            covered = [b for b in story.beats[first:last + 1] if b.kind != "note" or row.include_notes]
            for b in covered[:-1]:
                due += self.pacing.delay_after(b.word_count(), row.wpm)
            last_words = covered[-1].word_count() if covered else words
            row.position = last + 1
            clear = True
            lv.votes.clear()
            lv.last_message_id = message_id
            nxt = self._playable_from(lv, last + 1)
            floor = now + self.pacing.min_delay
            if not playing:
                row.next_due_at = None
            elif nxt is None:  # then the closing card
                row.next_due_at = max(floor, due + self.pacing.delay_after(last_words, row.wpm))
            elif story.beat(nxt).scene != story.beat(last).scene:
                row.state = self._transition(lv, "scene_end")
                # the session's breather, capped by the engine's current one (--instant, time scale)
                breather = min(row.scene_breather, self.pacing.breather)
                pause = max(self.pacing.delay_after(last_words, row.wpm), breather)
                row.next_due_at = max(floor, due + pause) if auto else None
            else:
                row.state = self._transition(lv, "beat_posted")
                row.next_due_at = max(floor, due + self.pacing.delay_after(last_words, row.wpm)) \
                    if auto else None
        row.updated_at = now
        await self.store.finish_post(row.id, seq, message_id, now, row, clear_votes=clear, parts=parts)
        self.stats.posts += 1
        self._changed(lv)

    async def _halt(self, lv: _Live, reason: str) -> None:
        """Pause the session because the stage refused; tell moderators once. Caller holds the lock."""
        row = lv.row
        if row.state not in ("playing", "waiting"):
            return
        row.state = self._transition(lv, "fail")
        row.pause_reason = reason[:500]
        row.next_due_at = None
        row.updated_at = self.clock.now()
        await self.store.save(row, [self._audit(lv, SYSTEM_ACTOR, "halt", row.position, row.position, reason)])
        self._changed(lv)
        title = lv.story.title if lv.story else row.story_slug
        try:
            await self.stage.notify_moderators(
                lv.place, f"“{title}” is paused here: {reason}. Fix that, then use /story resume.")
        except StageError as exc:
            log.warning("session %s: could not notify moderators: %s", row.id, exc)

    async def _reconcile(self, lv: _Live) -> None:
        """Settle posts left "posting" by a crash or an unknown-outcome failure."""
        row = lv.row
        pending = await self.store.unresolved_posts(row.id)
        if not pending:
            lv.unresolved = False
            return
        try:
            seen = await self.stage.recent(lv.place, limit=100)
        except (Forbidden, Gone) as exc:
            async with lv.lock:  # still unresolved: checked again when a moderator resumes
                await self._halt(lv, _reason(exc))
            return
        except StageError as exc:
            lv.backoff = min(MAX_BACKOFF, max(1.0, lv.backoff * 2))
            log.warning("session %s: cannot list recent messages (%s); retrying in %.0f s", row.id, exc,
                        lv.backoff)
            await self._park(lv, lv.backoff)
            return
        async with lv.lock:
            known = await self.store.known_message_ids(row.id)
            candidates = sorted((m for m in seen if m.message_id not in known), key=lambda m: m.message_id)
            for p in pending:
                cue = self._rebuild(lv, p)
                match = None
                if cue is not None:
                    for m in candidates:
                        if m.created_at >= p.created_at - RECONCILE_SKEW and cue_matches(cue, m):
                            match = m
                            break
                if match is None:
                    self.stats.reposted += 1
                    await self.store.set_post_status(row.id, [p.seq], "failed")
                    continue
                assert cue is not None
                chain = _split_chain(cue, match, candidates)
                for m in chain:
                    candidates.remove(m)
                parts = tuple(m.message_id for m in chain[:-1])
                match = chain[-1]
                self.stats.reconciled += 1
                if self._is_current(lv, p):
                    await self._record(lv, p.seq, p.kind, p.first_beat, p.last_beat, match.message_id,
                                       cue_words(cue), parts)
                else:  # the session moved (rewind) meanwhile: the message is history, not progress
                    await self.store.finish_post(row.id, p.seq, match.message_id, self.clock.now(), row,
                                                 parts=parts)
                    fix: FixOnRewind = row.fix_on_rewind  # type: ignore[assignment]
                    if p.kind != "title":
                        if fix == "none":
                            await self.store.set_post_status(row.id, [p.seq], "rewound")
                        else:
                            done = PostRow(p.session_id, p.seq, p.kind, p.first_beat, p.last_beat, "posted",
                                           match.message_id, p.created_at, None, parts)
                            lv.cleanup.append((done, fix))
            lv.unresolved = False
            lv.backoff = 0.0

    def _is_current(self, lv: _Live, p: PostRow) -> bool:
        """Is this unresolved post the one the session is waiting to see delivered?"""
        row = lv.row
        if row.state in ("finished", "stopped"):
            return False
        if p.kind == "title":
            return not row.title_posted
        if p.kind == "closing":
            return row.state == "playing" and bool(row.title_posted) \
                and self._playable_from(lv, row.position) is None
        return bool(row.title_posted) and p.first_beat == self._playable_from(lv, row.position)

    async def _fix_channel(self, lv: _Live) -> None:
        """Delete (or mark) the messages a rewind took back, oldest last, within the budget."""
        while lv.cleanup and not self._closing:
            post, action = lv.cleanup[-1]
            if not self.gate.try_global():
                await self._park(lv, max(0.01, self.gate.global_wait()))
                continue
            if post.message_id is not None:
                ref = MessageRef(lv.place, post.message_id, post.parts)
                try:
                    if action == "delete":
                        await self.stage.delete(ref)
                    else:
                        cue = self._rebuild(lv, post)
                        if cue is not None:
                            await self.stage.edit(ref, rewound_cue(cue))
                except RateLimited as exc:
                    await self._park(lv, max(exc.retry_after, 0.05))
                    continue
                except StageError as exc:
                    log.info("session %s: could not %s message %s: %s", lv.row.id, action, post.message_id, exc)
            await self.store.set_post_status(lv.row.id, [post.seq], "deleted" if action == "delete" else "rewound")
            lv.cleanup.pop()

    # ================================================================ commands
    async def start(self, place: Place, story_slug: str, actor: Actor, *, mode: Mode = "auto",
                    wpm: int | None = None) -> SessionView:
        self._require_mod(actor, "start a story")
        story = self._story(story_slug)
        if story is None:
            raise UnknownStory(f"There is no story called “{story_slug}”; /story list shows what is available.")
        if len(story) == 0:
            raise UnknownStory(f"“{story.title}” has no beats to play.")
        if mode not in MODES:
            raise NotAllowed(f"Mode must be one of {', '.join(MODES)}.")
        wpm = self.pacing.check_wpm(wpm if wpm is not None else self.pacing.wpm)
        old = await self._get(place)
        if old is not None:
            async with old.lock:
                self._transition(old, "start")
        now = self.clock.now()
        row = SessionRow(
            id=0, guild_id=place.guild_id, channel_id=place.channel_id, parent_id=place.parent_id,
            story_slug=story.slug, story_hash=story.content_hash(), position=0, state="playing", mode=mode,
            wpm=wpm, votes_needed=self.votes_needed, scene_breather=self.pacing.breather,
            fix_on_rewind=self.fix_on_rewind, include_notes=int(self._include_notes(story.slug)), pause_reason=None,
            next_due_at=now, started_by=actor.user_id, created_at=now, updated_at=now, title_posted=0,
        )
        entry = AuditEntry(None, place.guild_id, place.channel_id, actor.user_id, "start", None, 0,
                           f"{story.slug} mode={mode} wpm={wpm}", now)
        try:
            row.id = await self.store.create(row, entry)
        except LiveSessionExists:
            raise SessionExists("A story is already running here; stop it with /story stop first.") from None
        lv = self._adopt(row, None)
        self._spawn(lv)
        return self._view(lv)

    async def _command(self, place: Place, actor: Actor, command: Command, what: str) -> _Live:
        self._require_mod(actor, what)
        return await self._need(place)

    async def pause(self, place: Place, actor: Actor) -> SessionView:
        lv = await self._command(place, actor, "pause", "pause the story")
        async with lv.lock:
            row = lv.row
            row.state = self._transition(lv, "pause")
            row.pause_reason = f"Paused by {actor.name or 'a moderator'}."
            row.next_due_at = None
            row.updated_at = self.clock.now()
            await self.store.save(row, [self._audit(lv, actor.user_id, "pause", row.position, row.position)])
        self._kick(lv)
        return self._view(lv)

    async def resume(self, place: Place, actor: Actor) -> SessionView:
        lv = await self._command(place, actor, "resume", "resume the story")
        async with lv.lock:
            row = lv.row
            row.state = self._transition(lv, "resume")
            row.pause_reason = None
            now = self.clock.now()
            row.next_due_at = now + self.pacing.resume_delay if row.state == "playing" else None
            row.updated_at = now
            await self.store.save(row, [self._audit(lv, actor.user_id, "resume", row.position, row.position)])
        self._kick(lv)
        return self._view(lv)

    async def next(self, place: Place, actor: Actor) -> SessionView:
        lv = await self._command(place, actor, "next", "skip ahead")
        async with lv.lock:
            row = lv.row
            row.state = self._transition(lv, "next")
            now = self.clock.now()
            row.next_due_at = now
            row.updated_at = now
            await self.store.save(row, [self._audit(lv, actor.user_id, "next", row.position, row.position)],
                                  clear_votes=True)
            lv.votes.clear()
        self._kick(lv)
        return self._view(lv)

    async def advance(self, place: Place, actor: Actor, message_id: int | None = None) -> AdvanceResult:
        lv = await self._need(place)
        row = lv.row
        needed = self._votes_needed(row)
        if row.mode == "auto" and row.state in ("playing", "waiting"):
            raise NotAllowed("This story plays by itself; ▶ is only needed in manual or vote mode.")
        if message_id is not None and message_id != lv.last_message_id and lv.posting is not None:
            # Possibly the message being posted right now, seen by a quick reader before we
            # recorded its id: wait (bounded) for the record instead of dropping the press.
            await self._wait_for(lv.posting, HOLD_EARLY_PRESS)
            row = lv.row
            needed = self._votes_needed(row)
        if message_id is not None and lv.last_message_id is not None and message_id != lv.last_message_id:
            return AdvanceResult(False, lv.votes.count(row.position), needed)
        self._transition(lv, "advance")  # refuses when paused/finished/stopped
        self.presses.check(row.id, actor.user_id, self.clock.monotonic())
        async with lv.lock:
            row = lv.row
            needed = self._votes_needed(row)
            if row.state != "waiting":  # already moving on (another reader was first)
                return AdvanceResult(False, lv.votes.count(row.position), needed)
            if message_id is not None and lv.last_message_id is not None and message_id != lv.last_message_id:
                # a newer beat was recorded while we waited for the lock: this press was for the
                # older one, and must not skip the beat the reader has not seen yet
                return AdvanceResult(False, lv.votes.count(row.position), needed)
            now = self.clock.now()
            if row.mode == "vote" and not actor.moderator:
                reached = lv.votes.add(row.position, actor.user_id)
                if not reached:
                    await self.store.add_vote(row.id, row.position, actor.user_id, now)
                    self._changed(lv)
                    return AdvanceResult(False, lv.votes.count(row.position), needed)
            votes = max(1, lv.votes.count(row.position))
            row.state = self._transition(lv, "advance")
            row.next_due_at = now
            row.updated_at = now
            await self.store.save(row, clear_votes=True)
        self._kick(lv)
        return AdvanceResult(True, votes, needed)

    async def _move(self, lv: _Live, actor: Actor, command: Literal["rewind", "jump"], target: int,
                    detail: str) -> SessionView:
        """Shared by rewind and jump (caller holds the lock)."""
        row = lv.row
        old = row.position
        new_state = self._transition(lv, command)
        fix: FixOnRewind = row.fix_on_rewind  # type: ignore[assignment]
        taken = await self.store.posted_after(row.id, target) if target < old or row.state == "finished" else []
        # A merged message that starts before the target goes as a whole, so go back to its start.
        starts = [p.first_beat for p in taken if p.first_beat is not None]
        if starts and min(starts) < target:
            target = min(starts)
        now = self.clock.now()
        row.position = target
        row.state = new_state
        row.next_due_at = now + self.pacing.resume_delay if new_state == "playing" else None
        if new_state == "paused" and row.pause_reason is None:
            row.pause_reason = "Rewound; use /story resume to continue."
        row.updated_at = now
        lv.votes.clear()
        lv.typed_for = None
        # With "none" the messages are history at once; otherwise they stay "posted" until the
        # stage has deleted/marked them, so a crash before that is finished on the next start.
        await self.store.save(row, [self._audit(lv, actor.user_id, command, old, target, detail)],
                              clear_votes=True,
                              post_status=([p.seq for p in taken], "rewound") if taken and fix == "none" else None)
        if fix != "none":
            queued = {p.seq for p, _ in lv.cleanup}
            lv.cleanup.extend((p, fix) for p in taken if p.seq not in queued)
        if lv.last_message_id in {p.message_id for p in taken}:
            lv.last_message_id = None
        return self._view(lv)

    async def rewind(self, place: Place, actor: Actor, *, beats: int | None = None,
                     scene: Literal["current", "previous"] | None = None) -> SessionView:
        lv = await self._command(place, actor, "rewind", "rewind the story")
        async with lv.lock:
            row, story = lv.row, lv.story
            self._transition(lv, "rewind")
            if story is None:
                raise UnknownStory(f"The story “{row.story_slug}” is no longer in the library.")
            last = min(row.position, len(story)) - 1  # last beat shown
            if scene is not None:
                cur = story.beat(max(last, 0)).scene
                idx = cur if scene == "current" else max(0, cur - 1)
                target = max(0, story.scenes[idx].first_beat)
                detail = f"to the start of the {scene} scene"
            else:
                n = 1 if beats is None else beats
                if n < 1:
                    raise NotAllowed("Rewind by at least one beat.")
                target = max(0, row.position - n)
                detail = f"{n} beat{'s' if n != 1 else ''}"
            view = await self._move(lv, actor, "rewind", target, detail)
        self._kick(lv)
        return view

    async def jump(self, place: Place, actor: Actor, scene: int) -> SessionView:
        lv = await self._command(place, actor, "jump", "jump to a scene")
        async with lv.lock:
            row, story = lv.row, lv.story
            self._transition(lv, "jump")
            if story is None:
                raise UnknownStory(f"The story “{row.story_slug}” is no longer in the library.")
            n = len(story.scenes)
            if not 1 <= scene <= n:
                raise NotAllowed(f"There {'is' if n == 1 else 'are'} {n} scene{'s' if n != 1 else ''}; "
                                 f"pick a number from 1 to {n}.")
            first = story.scenes[scene - 1].first_beat
            if first < 0:
                raise NotAllowed(f"Scene {scene} is empty.")
            view = await self._move(lv, actor, "jump", first, f"scene {scene}")
        self._kick(lv)
        return view

    async def stop(self, place: Place, actor: Actor) -> SessionView:
        lv = await self._command(place, actor, "stop", "stop the story")
        async with lv.lock:
            row = lv.row
            row.state = self._transition(lv, "stop")
            row.next_due_at = None
            row.updated_at = self.clock.now()
            await self.store.save(row, [self._audit(lv, actor.user_id, "stop", row.position, row.position)],
                                  clear_votes=True)
        self._kick(lv)
        return self._view(lv)

    async def restart(self, place: Place, actor: Actor) -> SessionView:
        lv = await self._command(place, actor, "restart", "restart the story")
        async with lv.lock:
            row = lv.row
            if lv.story is None:
                raise UnknownStory(f"The story “{row.story_slug}” is no longer in the library.")
            old_state, old = row.state, row.position
            row.state = self._transition(lv, "restart")
            now = self.clock.now()
            row.position = 0
            row.title_posted = 0
            row.pause_reason = None
            row.next_due_at = now
            row.updated_at = now
            row.story_hash = lv.story.content_hash()
            lv.votes.clear()
            lv.typed_for = None
            try:
                await self.store.save(row, [self._audit(lv, actor.user_id, "restart", old, 0)], clear_votes=True,
                                      supersede_posts=True)
            except LiveSessionExists:
                row.state, row.position = old_state, old
                raise SessionExists("Another story is running here; stop it with /story stop first.") from None
        self._kick(lv)
        return self._view(lv)

    async def set_pace(self, place: Place, actor: Actor, *, wpm: int | None = None,
                       mode: Mode | None = None) -> SessionView:
        lv = await self._command(place, actor, "set_pace", "change the pace")
        if wpm is None and mode is None:
            raise NotAllowed("Give a reading speed (wpm), a mode, or both.")
        if wpm is not None:
            self.pacing.check_wpm(wpm)
        if mode is not None and mode not in MODES:
            raise NotAllowed(f"Mode must be one of {', '.join(MODES)}.")
        async with lv.lock:
            row = lv.row
            entries = []
            new_state = row.state
            if wpm is not None:
                new_state = self._transition(lv, "set_pace")
            if mode is not None:
                new_state = self._transition(lv, "set_mode", mode)
            now = self.clock.now()
            if wpm is not None and wpm != row.wpm:
                entries.append(self._audit(lv, actor.user_id, "set_pace", row.position, row.position,
                                           f"{row.wpm} -> {wpm} wpm"))
                row.wpm = wpm
            if mode is not None and mode != row.mode:
                entries.append(self._audit(lv, actor.user_id, "set_mode", row.position, row.position,
                                           f"{row.mode} -> {mode}"))
                row.mode = mode
                lv.votes.clear()
                if new_state == "playing" and row.state == "waiting":
                    row.next_due_at = now + self.pacing.resume_delay
            row.state = new_state
            row.updated_at = now
            await self.store.save(row, entries, clear_votes=mode is not None)
        self._kick(lv)
        return self._view(lv)

    def set_rewind_fix(self, fix: FixOnRewind) -> None:
        """Default channel fix for sessions started from now on ("delete", "mark" or "none")."""
        self.fix_on_rewind = fix

    async def set_session_rewind_fix(self, place: Place, actor: Actor, fix: FixOnRewind) -> SessionView:
        lv = await self._command(place, actor, "set_pace", "change how rewinds tidy the channel")
        if fix not in ("delete", "mark", "none"):
            raise NotAllowed("Choose delete, mark or none.")
        async with lv.lock:
            lv.row.fix_on_rewind = fix
            lv.row.updated_at = self.clock.now()
            await self.store.save(lv.row, [self._audit(lv, actor.user_id, "set_rewind_fix", lv.row.position,
                                                       lv.row.position, fix)])
        return self._view(lv)

    # ================================================================ queries
    async def status(self, place: Place) -> SessionView | None:
        lv = await self._get(place)
        return self._view(lv) if lv is not None else None

    async def recap(self, place: Place) -> list[int]:
        lv = await self._get(place)
        if lv is None or lv.story is None or lv.row.position <= 0:
            return []
        story, pos = lv.story, min(lv.row.position, len(lv.story))
        scene = story.scene_of(pos - 1)
        return [b.index for b in scene.beats
                if b.index < pos and (b.kind != "note" or lv.row.include_notes)]

    async def session_for_message(self, message_id: int) -> SessionView | None:
        """The session that posted `message_id` (for ▶ reactions/buttons), if it is loaded."""
        sid = await self.store.session_for_message(message_id)
        if sid is None:
            return None
        for lv in self._live.values():
            if lv.row.id == sid:
                return self._view(lv)
        row = await self.store.get(sid)
        if row is None:
            return None
        return await self.status(Place(row.channel_id, row.guild_id, row.parent_id))

    async def audit_log(self, place: Place, limit: int = 100) -> list[AuditEntry]:
        return await self.store.audit_log(place.channel_id, limit)

    async def wait_for_state(self, place: Place, states: Collection[State]) -> SessionView:
        """Wait until the session in `place` is in one of `states` (e.g. finished, paused)."""
        while True:
            lv = await self._need(place)
            if lv.row.state in states:
                return self._view(lv)
            if lv.changed is None:
                lv.changed = asyncio.Event()
            await lv.changed.wait()

    # ================================================================ lifecycle
    async def resume_all(self) -> int:
        rows = await self.store.resumable()
        if not rows:
            return 0
        summaries = await self.store.post_summaries([r.id for r in rows] if len(rows) <= 500 else None)
        count = 0
        for row in rows:
            cur = self._live.get(row.channel_id)
            if cur is not None and cur.row.id == row.id and cur.task is not None and not cur.task.done():
                continue
            if await self._resume_row(row, summaries.get(row.id)):
                count += 1
        return count

    async def resume_session(self, place: Place) -> SessionView | None:
        """Start-up for ONE place (the terminal demo): like `resume_all`, for this place only."""
        row = await self.store.latest_for_channel(place.channel_id)
        if row is None:
            return None
        cur = self._live.get(row.channel_id)
        if cur is None or cur.row.id != row.id or cur.task is None or cur.task.done():
            if row.state in ("playing", "waiting"):
                await self._resume_row(row, (await self.store.post_summaries([row.id])).get(row.id))
            else:
                await self._get(place)
        return await self.status(place)

    async def _resume_row(self, row: SessionRow, summary: PostSummary | None) -> bool:
        lv = self._live.get(row.channel_id)
        if lv is None or lv.row.id != row.id:  # else a command already loaded it: keep that one
            lv = self._adopt(row, summary)
        row = lv.row
        if lv.story is None:
            async with lv.lock:
                await self._halt(lv, f"the story '{row.story_slug}' is no longer in the library")
            return False
        if lv.story.content_hash() != row.story_hash:
            log.warning("session %s: the story '%s' changed since it started; continuing at beat %s",
                        row.id, row.story_slug, row.position)
        now = self.clock.now()
        if row.state == "playing" and row.next_due_at is not None and row.next_due_at < now:
            row.next_due_at = now  # catch-up policy: one beat now, then normal pace
        if row.state == "waiting" and row.mode == "vote":
            lv.votes.position = row.position
            lv.votes.voters = await self.store.voters(row.id, row.position)
        await self._load_cleanup(lv)
        self._spawn(lv)
        return True

    async def close(self) -> None:
        self._closing = True
        for lv in list(self._live.values()):
            b = lv.blocker
            if b is not None and not b.done():
                b.set_result(None)
        tasks = [t for t in self._tasks.values() if not t.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=10.0)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self.gate.close()


def _reason(exc: StageError) -> str:
    text = str(exc) or type(exc).__name__
    fix = getattr(exc, "fix", "")
    if isinstance(exc, Gone):
        text = f"the channel or its webhook is gone ({text})"
    return f"{text}; {fix}" if fix else text


__all__ = ["EngineStats", "Narrator", "NarratorError", "cue_matches"]
