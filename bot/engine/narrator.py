"""The narrator: the commands and queries moderators and readers use, over a registry of players.

Plain asyncio; it reaches Discord (or the terminal) only through a `Stage`, the database only
through `bot.store.sessions.SessionStore`, and time only through a `Clock`. Each command checks
the state machine (`bot.engine.session`), changes the session under its player's lock, saves it,
and `kick()`s the player (`bot.engine.player`), whose task does the posting.

Start-up policy (`resume_all`): every playing/waiting session is reloaded. Waiting sessions keep
waiting for readers. A playing session whose next beat came due while the bot was down posts ONE
catch-up beat as soon as the rate budget allows, then continues at normal pace (the missed time
is not made up by bursting; nothing is skipped).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import Literal, Protocol, TypeVar

from bot.engine.api import (
    MODES,
    Actor,
    AdvanceResult,
    Mode,
    NarratorError,
    NoSession,
    NotAllowed,
    SessionExists,
    SessionView,
    State,
    StorageFailed,
    Tidy,
    UnknownStory,
)
from bot.engine.backstage import Backstage, EngineStats
from bot.engine.budget import BudgetGate, EngineLimits, RateBudget
from bot.engine.clock import Clock, SystemClock
from bot.engine.pacing import Pacing, PressLimiter
from bot.engine.player import SessionPlayer
from bot.engine.reconcile import cue_matches
from bot.engine.registry import PlayerRegistry
from bot.engine.session import Command
from bot.engine.shards import ShardSet
from bot.engine.stage import Place, Stage
from bot.store import Store
from bot.store.sessions import (
    AuditEntry,
    DatabaseFault,
    LiveSessionExists,
    PostRow,
    PostSummary,
    SessionRow,
    SessionStore,
)
from bot.story.model import Story

_T = TypeVar("_T")
log = logging.getLogger("bot.engine")


class StorySource(Protocol):
    """Anything with `get(slug) -> Story | None`, e.g. `bot.story.library.Library`."""

    def get(self, slug: str, /) -> Story | None: ...


StoryLookup = Mapping[str, Story] | Callable[[str], Story | None] | StorySource
# A ▶ on a message we have not recorded yet (a fast reader reacting while the post's response is
# still in flight) is held this long for the post to be recorded, then applied if it matches.
HOLD_EARLY_PRESS = 5.0
# Catch-up beats after a restart are spread over this many seconds per overdue session (at most
# `Pacing.min_delay` in all): 2,000 sessions a second, far more than Discord's global budget lets out.
CATCH_UP_SPREAD = 0.0005


async def _wait_for(clock: Clock, event: asyncio.Event, seconds: float) -> None:
    """Wait until `event` is set or `seconds` (on `clock`) have passed."""
    waiter = asyncio.ensure_future(event.wait())
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (waiter, sleeper):
            t.cancel()


def view_of(player: SessionPlayer) -> SessionView:
    """A read-only snapshot of a player's session (with a database fault shown as a pause)."""
    row, story = player.row, player.story
    beat_count = len(story) if story else row.position
    scene_index = 0
    if story is not None and len(story):
        last = min(max(row.position - 1, 0), len(story) - 1)
        scene_index = story.beat(last).scene
    view = SessionView(
        session_id=row.id, place=player.place, story_slug=row.story_slug,
        story_title=story.title if story else row.story_slug, state=row.state,  # type: ignore[arg-type]
        mode=row.mode,  # type: ignore[arg-type]
        wpm=row.wpm, position=row.position, beat_count=beat_count, scene_index=scene_index,
        scene_count=len(story.scenes) if story else 0, started_by=row.started_by,
        votes=player.votes.count(row.position), votes_needed=player.votes_needed(),
        pause_reason=row.pause_reason, next_due_at=row.next_due_at, tidy=row.tidy,
    )
    if player.fault is not None:  # what readers and moderators see; the saved row is untouched
        view = replace(view, state="paused", pause_reason=player.fault_reason(), next_due_at=None,
                       recording=player.pending is not None)
    return view


class Narrator:
    """Implements `bot.engine.api.NarratorService`.

    Narrator(db: Store, stage: Stage,
             stories: Mapping[str, Story] | Callable[[str], Story | None] | Library | None = None,
             *, library: Library | None = None,   # alias of `stories`
             clock: Clock | None = None, limits: EngineLimits | None = None,
             pacing: Pacing | None = None, tidy: Tidy = "delete",
             include_notes: bool = False, votes_needed: int | None = None,
             gate: BudgetGate | None = None,    # default: a new one over `limits`
             store: SessionStore | None = None)   # default: SessionStore(db)

    `db` must be migrated. `stories` finds a Story by slug: a dict, a function, or anything with
    `.get(slug)` such as `bot.story.library.Library` (looked up on every use, so a reloaded
    library is seen at once). Call `await resume_all()` once at start-up and `await close()` at
    shutdown. Moderator commands require `actor.moderator`; the caller decides who that is.
    Extras beyond the protocol: `resume_session(place)` (start-up for one place: the demo),
    `wait_for_state(place, states)`, `session_for_message(message_id)`, `audit_log(place)`,
    `set_tidy(tidy)` (default for new sessions), `set_session_tidy(place, actor, tidy)`,
    `stats` (posts, merges, 429s, reconciled/re-posted, timer lateness), `is_idle()`.
    """

    def __init__(self, db: Store, stage: Stage, stories: StoryLookup | None = None, *,
                 library: StorySource | None = None, clock: Clock | None = None,
                 limits: EngineLimits | None = None, pacing: Pacing | None = None,
                 tidy: Tidy = "delete", include_notes: bool = False,
                 votes_needed: int | None = None, gate: BudgetGate | None = None,
                 store: SessionStore | None = None, shards: ShardSet | None = None) -> None:
        source = stories if stories is not None else library
        if source is None:
            raise TypeError("Narrator needs `stories` (or `library`)")
        self._stories: StoryLookup = source
        # How to look a slug up, decided once (players ask before every post).
        self._find: Callable[[str], Story | None] = (
            source.get if isinstance(source, Mapping) else source if callable(source) else source.get)
        clock = clock or SystemClock()
        limits = limits or EngineLimits()
        pacing = pacing or Pacing()
        self.backstage = Backstage(store=store or SessionStore(db), stage=stage, clock=clock, pacing=pacing,
                                   limits=limits, gate=gate or BudgetGate(RateBudget(limits), clock))
        self.players = PlayerRegistry(self.backstage, self._story)
        self.tidy: Tidy = tidy
        self.include_notes = include_notes
        self.votes_needed = votes_needed or pacing.votes_needed
        self.presses = PressLimiter(pacing.press_cooldown)
        # Several processes share one database: each resumes only its own shards' guilds.
        self.shards = None if shards is None or shards.everything else shards
        clock.add_idle_check(self.is_idle)

    # The shared services, by their usual names (tests and benches read them).
    @property
    def store(self) -> SessionStore:
        return self.backstage.store

    @property
    def stage(self) -> Stage:
        return self.backstage.stage

    @property
    def clock(self) -> Clock:
        return self.backstage.clock

    @property
    def pacing(self) -> Pacing:
        return self.backstage.pacing

    @property
    def limits(self) -> EngineLimits:
        return self.backstage.limits

    @property
    def gate(self) -> BudgetGate:
        return self.backstage.gate

    @property
    def stats(self) -> EngineStats:
        return self.backstage.stats

    def is_idle(self) -> bool:
        """True when every session task is parked on a timer, a vote or the rate budget."""
        return self.players.is_idle()

    # ================================================================ helpers
    def _story(self, slug: str) -> Story | None:
        return self._find(slug)

    def _include_notes(self, slug: str) -> bool:
        per_story = getattr(self._stories, "include_notes", None)  # Library: story.toml's setting
        if callable(per_story) and not isinstance(self._stories, Mapping):
            return bool(per_story(slug)) or self.include_notes
        return self.include_notes

    @staticmethod
    def _require_mod(actor: Actor, what: str) -> None:
        if not actor.moderator:
            raise NotAllowed(f"Only moderators can {what}.")

    async def _need(self, place: Place) -> SessionPlayer:
        player = await self.players.load(place)
        if player is None:
            raise NoSession("No story is running here; start one with /story start.")
        return player

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
        # Only a live session can refuse the start (an ended one is simply replaced).
        old = self.players.loaded(place.channel_id) or await self.players.load(place, live_only=True)
        if old is not None:
            async with old.lock:
                old.transition("start")
        now = self.clock.now()
        row = SessionRow(
            id=0, guild_id=place.guild_id, channel_id=place.channel_id, parent_id=place.parent_id,
            story_slug=story.slug, story_hash=story.content_hash(), position=0, state="playing", mode=mode,
            wpm=wpm, votes_needed=self.votes_needed, scene_breather=self.pacing.breather,
            tidy=self.tidy, include_notes=int(self._include_notes(story.slug)), pause_reason=None,
            next_due_at=now, started_by=actor.user_id, created_at=now, updated_at=now, title_posted=0,
        )
        entry = AuditEntry(None, place.guild_id, place.channel_id, actor.user_id, "start", None, 0,
                           f"{story.slug} mode={mode} wpm={wpm}", now)
        try:
            row.id = await self.store.create(row, entry)
        except LiveSessionExists:
            raise SessionExists("A story is already running here; stop it with /story stop first.") from None
        except DatabaseFault as exc:
            raise StorageFailed(f"The database cannot be written right now ({exc}); try again later.") from exc
        player = self.players.adopt(row, None)
        player.spawn()
        return view_of(player)

    async def _command(self, place: Place, actor: Actor, command: Command, what: str) -> SessionPlayer:
        self._require_mod(actor, what)
        return await self._need(place)

    # Every command below holds the player's lock, settles a database fault first (recording what
    # is owed), changes a COPY of the row, and `commit`s it: the player's row changes only once it
    # is saved, so a refused write leaves nothing half-changed (and no state nothing drives).

    async def pause(self, place: Place, actor: Actor) -> SessionView:
        player = await self._command(place, actor, "pause", "pause the story")
        async with player.lock:
            await player.settle()
            row = player.row
            new = replace(row, state=player.transition("pause"), pause_reason=f"Paused by {actor.name or 'a moderator'}.",
                          next_due_at=None, updated_at=self.clock.now())
            await player.commit(new, [player.audit(actor.user_id, "pause", row.position, row.position)])
        player.kick()
        return view_of(player)

    async def resume(self, place: Place, actor: Actor) -> SessionView:
        player = await self._command(place, actor, "resume", "resume the story")
        async with player.lock:
            if player.fault is not None:  # paused by a database fault: resuming means trying it again
                await player.settle()
                player.kick()
                return view_of(player)
            row = player.row
            state = player.transition("resume")
            now = self.clock.now()
            new = replace(row, state=state, pause_reason=None, updated_at=now,
                          next_due_at=now + self.pacing.resume_delay if state == "playing" else None)
            await player.commit(new, [player.audit(actor.user_id, "resume", row.position, row.position)])
        player.kick()
        return view_of(player)

    async def next(self, place: Place, actor: Actor) -> SessionView:
        player = await self._command(place, actor, "next", "skip ahead")
        async with player.lock:
            await player.settle()
            row = player.row
            now = self.clock.now()
            new = replace(row, state=player.transition("next"), next_due_at=now, updated_at=now)
            await player.commit(new, [player.audit(actor.user_id, "next", row.position, row.position)],
                                clear_votes=True)
            player.votes.clear()
        player.kick()
        return view_of(player)

    async def advance(self, place: Place, actor: Actor, message_id: int | None = None) -> AdvanceResult:
        player = await self._need(place)
        row = player.row
        needed = player.votes_needed()
        if row.mode == "auto" and row.state in ("playing", "waiting"):
            raise NotAllowed("This story plays by itself; ▶ is only needed in manual or vote mode.")
        posted = player.posting if message_id is not None and message_id != player.last_message_id else None
        if posted is not None:
            # Possibly the message being posted right now, seen by a quick reader before we
            # recorded its id: wait (bounded) for the record instead of dropping the press.
            await _wait_for(self.clock, posted, HOLD_EARLY_PRESS)
            row = player.row
            needed = player.votes_needed()
        if message_id is not None and player.last_message_id is not None and message_id != player.last_message_id:
            return AdvanceResult(False, player.votes.count(row.position), needed)
        if player.fault is not None:
            async with player.lock:
                await player.settle()  # refuses while the database still fails: the press is not lost silently
        player.transition("advance")  # refuses when paused/finished/stopped
        wait = self.presses.wait(row.id, actor.user_id, self.clock.monotonic())
        if wait > 0 and message_id is not None and message_id == player.last_message_id:
            # A press on the newest beat soon after the reader's previous one (a short line:
            # "Hm?") is a real press: hold it until the pacing allows, like an early press.
            await self.clock.sleep(wait)
            player.transition("advance")
            if message_id != player.last_message_id:
                return AdvanceResult(False, player.votes.count(player.row.position), player.votes_needed())
        self.presses.check(row.id, actor.user_id, self.clock.monotonic())
        async with player.lock:
            await player.settle()
            row = player.row
            needed = player.votes_needed()
            if row.state != "waiting":  # already moving on (another reader was first)
                return AdvanceResult(False, player.votes.count(row.position), needed)
            if message_id is not None and player.last_message_id is not None and message_id != player.last_message_id:
                # a newer beat was recorded while we waited for the lock: this press was for the
                # older one, and must not skip the beat the reader has not seen yet
                return AdvanceResult(False, player.votes.count(row.position), needed)
            now = self.clock.now()
            if row.mode == "vote" and not actor.moderator:
                reached = player.votes.add(row.position, actor.user_id)
                if not reached:
                    try:
                        await self.store.add_vote(row.id, row.position, actor.user_id, now)
                    except DatabaseFault as exc:
                        player.votes.voters.discard(actor.user_id)
                        player.db_failed(exc)
                        raise StorageFailed("The database cannot be written right now, so your ▶ was not "
                                            "counted; the story goes on by itself as soon as it can.") from exc
                    player.mark_changed()
                    return AdvanceResult(False, player.votes.count(row.position), needed)
            votes = max(1, player.votes.count(row.position))
            new = replace(row, state=player.transition("advance"), next_due_at=now, updated_at=now)
            try:
                await player.commit(new, clear_votes=True)
            except StorageFailed:
                if row.mode == "vote" and not actor.moderator:
                    player.votes.voters.discard(actor.user_id)
                raise
        player.kick()
        return AdvanceResult(True, votes, needed)

    async def _move(self, player: SessionPlayer, actor: Actor, command: Literal["rewind", "jump"], target: int,
                    detail: str) -> SessionView:
        """Shared by rewind and jump (caller holds the lock and has settled the player)."""
        row = player.row
        old = row.position
        new_state = player.transition(command)
        tidy: Tidy = row.tidy  # type: ignore[assignment]
        taken = await self.store.posted_after(row.id, target) if target < old or row.state == "finished" else []
        # A merged message that starts before the target goes as a whole, so go back to its start.
        starts = [p.first_beat for p in taken if p.first_beat is not None]
        if starts and min(starts) < target:
            target = min(starts)
        now = self.clock.now()
        new = replace(row, position=target, state=new_state, updated_at=now,
                      next_due_at=now + self.pacing.resume_delay if new_state == "playing" else None)
        if new_state == "paused" and row.pause_reason is None:
            new.pause_reason = "Rewound; use /story resume to continue."
        # With "none" the messages are history at once; otherwise they stay "posted" until the
        # stage has deleted/marked them, so a crash before that is finished on the next start.
        await player.commit(new, [player.audit(actor.user_id, command, old, target, detail)], clear_votes=True,
                            post_status=([p.seq for p in taken], "rewound") if taken and tidy == "none" else None)
        player.votes.clear()
        player.typed_for = None
        if tidy != "none":
            queued = {p.seq for p, _ in player.tidying}
            player.tidying.extend((p, tidy) for p in taken if p.seq not in queued)
        if player.last_message_id in {p.message_id for p in taken}:
            player.last_message_id = None
        return view_of(player)

    async def rewind(self, place: Place, actor: Actor, *, beats: int | None = None,
                     scene: Literal["current", "previous"] | None = None) -> SessionView:
        player = await self._command(place, actor, "rewind", "rewind the story")
        async with player.lock:
            await player.settle()  # a post still being recorded is recorded first, never rewound unseen
            row, story = player.row, player.story
            player.transition("rewind")
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
            view = await self._move(player, actor, "rewind", target, detail)
        player.kick()
        return view

    async def jump(self, place: Place, actor: Actor, scene: int) -> SessionView:
        player = await self._command(place, actor, "jump", "jump to a scene")
        async with player.lock:
            await player.settle()
            row, story = player.row, player.story
            player.transition("jump")
            if story is None:
                raise UnknownStory(f"The story “{row.story_slug}” is no longer in the library.")
            n = len(story.scenes)
            if not 1 <= scene <= n:
                raise NotAllowed(f"There {'is' if n == 1 else 'are'} {n} scene{'s' if n != 1 else ''}; "
                                 f"pick a number from 1 to {n}.")
            first = story.scenes[scene - 1].first_beat
            if first < 0:
                raise NotAllowed(f"Scene {scene} is empty.")
            view = await self._move(player, actor, "jump", first, f"scene {scene}")
        player.kick()
        return view

    async def stop(self, place: Place, actor: Actor) -> SessionView:
        player = await self._command(place, actor, "stop", "stop the story")
        async with player.lock:
            await player.settle()
            row = player.row
            new = replace(row, state=player.transition("stop"), next_due_at=None, updated_at=self.clock.now())
            await player.commit(new, [player.audit(actor.user_id, "stop", row.position, row.position)],
                                clear_votes=True)
        player.kick()
        return view_of(player)

    async def restart(self, place: Place, actor: Actor) -> SessionView:
        player = await self._command(place, actor, "restart", "restart the story")
        async with player.lock:
            await player.settle()
            row = player.row
            if player.story is None:
                raise UnknownStory(f"The story “{row.story_slug}” is no longer in the library.")
            now = self.clock.now()
            new = replace(row, state=player.transition("restart"), position=0, title_posted=0, pause_reason=None,
                          next_due_at=now, updated_at=now, story_hash=player.story.content_hash())
            try:
                await player.commit(new, [player.audit(actor.user_id, "restart", row.position, 0)],
                                    clear_votes=True, supersede_posts=True)
            except LiveSessionExists:
                raise SessionExists("Another story is running here; stop it with /story stop first.") from None
            player.votes.clear()
            player.typed_for = None
        player.kick()
        return view_of(player)

    async def set_pace(self, place: Place, actor: Actor, *, wpm: int | None = None,
                       mode: Mode | None = None) -> SessionView:
        player = await self._command(place, actor, "set_pace", "change the pace")
        if wpm is None and mode is None:
            raise NotAllowed("Give a reading speed (wpm), a mode, or both.")
        if wpm is not None:
            self.pacing.check_wpm(wpm)
        if mode is not None and mode not in MODES:
            raise NotAllowed(f"Mode must be one of {', '.join(MODES)}.")
        async with player.lock:
            await player.settle()
            row = player.row
            entries = []
            new_state = row.state
            if wpm is not None:
                new_state = player.transition("set_pace")
            if mode is not None:
                new_state = player.transition("set_mode", mode)
            now = self.clock.now()
            new = replace(row, updated_at=now)
            if wpm is not None and wpm != row.wpm:
                entries.append(player.audit(actor.user_id, "set_pace", row.position, row.position,
                                            f"{row.wpm} -> {wpm} wpm"))
                new.wpm = wpm
            if mode is not None and mode != row.mode:
                entries.append(player.audit(actor.user_id, "set_mode", row.position, row.position,
                                            f"{row.mode} -> {mode}"))
                new.mode = mode
                if new_state == "playing" and row.state == "waiting":
                    new.next_due_at = now + self.pacing.resume_delay
            new.state = new_state
            await player.commit(new, entries, clear_votes=mode is not None)
            if mode is not None and mode != row.mode:
                player.votes.clear()
        player.kick()
        return view_of(player)

    def set_tidy(self, tidy: Tidy) -> None:
        """What rewinds do in sessions started from now on ("delete", "mark" or "none")."""
        self.tidy = tidy

    async def set_session_tidy(self, place: Place, actor: Actor, tidy: Tidy) -> SessionView:
        player = await self._command(place, actor, "set_pace", "change how rewinds tidy the channel")
        if tidy not in ("delete", "mark", "none"):
            raise NotAllowed("Choose delete, mark or none.")
        async with player.lock:
            await player.settle()
            row = player.row
            new = replace(row, tidy=tidy, updated_at=self.clock.now())
            await player.commit(new, [player.audit(actor.user_id, "set_tidy", row.position, row.position, tidy)])
        return view_of(player)

    # ================================================================ queries
    async def aside(self, place: Place, upto: int, post: Callable[[], Awaitable[_T]]) -> _T:
        """Run `post` (an /ask answer quoting beats 0..`upto`) under the session's lock: it never
        lands between the parts of a beat, and is refused when a moderator took the story back
        below `upto` while it was being composed (it would tell what the channel no longer shows)."""
        player = await self._need(place)
        async with player.lock:
            if player.row.position - 1 < upto:
                raise NotAllowed("The story was taken back while that answer was being written; ask again.")
            return await post()

    async def status(self, place: Place) -> SessionView | None:
        player = await self.players.load(place)
        return view_of(player) if player is not None else None

    async def recap(self, place: Place) -> list[int]:
        player = await self.players.load(place)
        if player is None or player.story is None or player.row.position <= 0:
            return []
        story, pos = player.story, min(player.row.position, len(player.story))
        scene = story.scene_of(pos - 1)
        return [b.index for b in scene.beats
                if b.index < pos and (b.kind != "note" or player.row.include_notes)]

    async def session_for_message(self, message_id: int) -> SessionView | None:
        """The session that posted `message_id` (for ▶ reactions/buttons), if it is loaded."""
        sid = await self.store.session_for_message(message_id)
        if sid is None:
            return None
        player = self.players.by_session(sid)
        if player is not None:
            return view_of(player)
        row = await self.store.get(sid)
        if row is None:
            return None
        return await self.status(Place(row.channel_id, row.guild_id, row.parent_id))

    async def audit_log(self, place: Place, limit: int = 100) -> list[AuditEntry]:
        return await self.store.audit_log(place.channel_id, limit)

    async def wait_for_state(self, place: Place, states: Collection[State]) -> SessionView:
        """Wait until the session in `place` is in one of `states` (e.g. finished, paused)."""
        while True:
            player = await self._need(place)
            if player.row.state in states:
                return view_of(player)
            if player.changed is None:
                player.changed = asyncio.Event()
            await player.changed.wait()

    # ================================================================ lifecycle
    async def resume_all(self) -> int:
        if self.shards is None:
            rows = await self.store.resumable()
        else:
            rows = [r for r in await self.store.resumable(self.shards.count, self.shards.ids)
                    if self.shards.owns(r.guild_id)]
        if not rows:
            return 0
        summaries = await self.store.post_summaries([r.id for r in rows] if len(rows) <= 500 else None)
        todo = []
        for row in rows:
            cur = self.players.loaded(row.channel_id)
            if cur is None or cur.row.id != row.id or not cur.running:
                todo.append(row)
        # What rewinds left to tidy, read for every session at once (a query each made resuming
        # 10,000 sessions take minutes).
        stale = await self.store.stale_posts_many([r for r in todo if r.tidy != "none" and r.state != "stopped"])
        catch_up = self._catch_up_times(todo)
        count = 0
        for row in todo:
            if row.id in catch_up:
                row.next_due_at = catch_up[row.id]
            if await self._resume_row(row, summaries.get(row.id), stale.get(row.id, ())):
                count += 1
        return count

    def _catch_up_times(self, rows: Sequence[SessionRow]) -> dict[int, float]:
        """When each overdue playing session posts its one catch-up beat: at once for one session;
        for many, spread over up to `min_delay` in the order they fell due. Thousands of sessions
        resumed together would otherwise post in the same instant, and, since a schedule chains
        from when a beat was due, stay in lockstep ever after."""
        now = self.clock.now()
        late = sorted((r.next_due_at, r.id) for r in rows
                      if r.state == "playing" and r.next_due_at is not None and r.next_due_at < now)
        spread = min(self.pacing.min_delay, CATCH_UP_SPREAD * len(late))
        return {sid: now + spread * rank / len(late) for rank, (_, sid) in enumerate(late)}

    async def resume_session(self, place: Place) -> SessionView | None:
        """Start-up for ONE place (the terminal demo): like `resume_all`, for this place only."""
        row = await self.store.latest_for_channel(place.channel_id)
        if row is None:
            return None
        cur = self.players.loaded(row.channel_id)
        if cur is None or cur.row.id != row.id or not cur.running:
            if row.state in ("playing", "waiting"):
                await self._resume_row(row, (await self.store.post_summaries([row.id])).get(row.id))
            else:
                await self.players.load(place)
        return await self.status(place)

    async def _resume_row(self, row: SessionRow, summary: PostSummary | None,
                          stale: Sequence[PostRow] | None = None) -> bool:
        """Resume one session; `stale`: its posts left to tidy, when the caller read them already
        (for the row as given: a command that loaded the session meanwhile reads its own)."""
        position = row.position
        player = self.players.loaded(row.channel_id)
        if player is None or player.row.id != row.id:  # else a command already loaded it: keep that one
            player = self.players.adopt(row, summary)
        if player.row is not row or player.row.position != position:
            stale = None
        row = player.row
        if player.story is None:
            async with player.lock:
                await player.halt(f"the story '{row.story_slug}' is no longer in the library")
            return False
        if player.story.content_hash() != row.story_hash:
            log.warning("session %s: the story '%s' changed since it started; continuing at beat %s",
                        row.id, row.story_slug, row.position)
        now = self.clock.now()
        if row.state == "playing" and row.next_due_at is not None and row.next_due_at < now:
            row.next_due_at = now  # catch-up policy: one beat now, then normal pace
        if row.state == "waiting" and row.mode == "vote":
            player.votes.position = row.position
            player.votes.voters = await self.store.voters(row.id, row.position)
        await player.load_tidying(stale)
        player.spawn()
        return True

    async def close(self) -> None:
        await self.players.close()


__all__ = ["EngineStats", "Narrator", "NarratorError", "cue_matches"]
