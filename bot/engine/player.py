"""The session player: one per live session, owning the task that performs it.

The player runs the loop (wait for the beat to come due, take the rate budget, plan, post, record),
settles posts a crash left unresolved (reconcile), tidies the channel after a rewind, and pauses
the session when the stage refuses (halt). Commands reach it through `bot.engine.narrator`, which
holds its lock while it changes the session and then `kick()`s it.

Posting protocol (exactly once):
 1. a `posts` row is written with status "posting" in its own committed transaction;
 2. `stage.post()` is called;
 3. the row becomes "posted" with the message id AND the session moves on, in one transaction.
The session moves on only when step 3 is saved. If the database refuses step 3, the post stays
"recording": the player keeps the delivered message's id, retries the record, and nothing can
rewind or repost it meanwhile. A crash between 1 and 3 leaves a "posting" row. On start-up (and after an `Unavailable` failure,
whose outcome is unknown) the player asks `stage.recent(place)` for the newest messages and looks
for one with the cue's author name and text that no post row knows yet: found -> recorded as
posted; not found -> the row is marked "failed" and the beat is posted again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from bot.engine.api import State, StorageFailed, Tidy
from bot.engine.backstage import Backstage
from bot.engine.cues import cue_words, rewound_cue
from bot.engine.facts import facts
from bot.engine.pacing import VoteBox
from bot.engine.plan import is_current, next_post, playable_from, provably_rewound, rebuild
from bot.engine.reconcile import RECONCILE_SKEW, cue_matches, split_chain
from bot.engine.session import Command, transition
from bot.engine.stage import (
    Cue,
    Forbidden,
    Gone,
    MessageRef,
    Place,
    RateLimited,
    StageError,
    Unavailable,
)
from bot.store.sessions import AuditEntry, DatabaseFault, PostRow, SessionRow
from bot.story.model import Story

log = logging.getLogger("bot.engine")

SYSTEM_ACTOR = 0  # audit-log actor id for what the engine does on its own (pauses on failures)
MAX_BACKOFF = 60.0
MAX_FAULT_BACKOFF = 30.0  # the longest wait between two tries of a database that refused a write
CATCH_UP_CAP = 60.0  # seconds of lateness the schedule remembers (merging makes it up)


class SessionPlayer:
    """Performs one session. Its fields are the session's live state; `row` is what is saved."""

    def __init__(self, backstage: Backstage, row: SessionRow, place: Place, story: Story | None,
                 lookup: Callable[[str], Story | None] | None = None) -> None:
        self.bs = backstage
        self.row = row
        self.place = place
        self.story = story
        self._lookup = lookup  # the library: a fix saved while playing is taken before the next post
        self.lock = asyncio.Lock()
        self.seq = 0
        self.last_message_id: int | None = None
        self.votes = VoteBox(needed=max(1, row.votes_needed))
        self.task: asyncio.Task[None] | None = None
        self.blocker: asyncio.Future[Any] | None = None
        self.typed_for: int | None = None
        self.unresolved = False
        self.backoff = 0.0
        self.tidying: list[tuple[PostRow, Tidy]] = []  # messages a rewind took back, still to tidy
        self.changed: asyncio.Event | None = None
        self.in_flight = False  # a post is between its intent and its record
        self._posted: asyncio.Event | None = None  # made only for a reader waiting on the post in flight
        # The database refused a write: the session is paused (shown, not saved) until a write
        # succeeds again. `fault` is the reason; `pending` a delivered post still to be recorded.
        self.fault: str | None = None
        self.fault_told = False  # moderators have heard of this fault
        self.fault_backoff = 0.0
        self.pending: tuple[int, str, int | None, int | None, int, int, tuple[int, ...]] | None = None

    # ================================================================ small queries
    @property
    def posting(self) -> asyncio.Event | None:
        """Set once the post in flight has been recorded (or failed); None when none is in flight.
        Made on demand: most posts have nobody waiting on them."""
        if not self.in_flight:
            return None
        if self._posted is None:
            self._posted = asyncio.Event()
        return self._posted

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def playable_from(self, i: int) -> int | None:
        return playable_from(self.story, i, bool(self.row.include_notes))

    def votes_needed(self) -> int:
        row = self.row
        return 0 if row.mode == "auto" else 1 if row.mode == "manual" else max(1, row.votes_needed)

    def transition(self, command: Command, mode: str | None = None) -> State:
        return transition(self.row.state, command, (mode or self.row.mode))  # type: ignore[arg-type]

    def audit(self, actor_id: int, action: str, from_beat: int | None, to_beat: int | None,
              detail: str = "") -> AuditEntry:
        return AuditEntry(self.row.id, self.place.guild_id, self.place.channel_id, actor_id, action, from_beat,
                          to_beat, detail, self.bs.clock.now())

    def mark_changed(self) -> None:
        if self.changed is not None:
            self.changed.set()
            self.changed = None

    async def load_tidying(self, stale: Sequence[PostRow] | None = None) -> None:
        """Finish a rewind's channel tidy-up that a crash interrupted. `stale`: the session's stale
        posts when the caller already read them (start-up reads them for every session at once)."""
        row = self.row
        if row.state == "stopped" or row.tidy == "none" or self.tidying:
            return
        tidy: Tidy = row.tidy  # type: ignore[assignment]
        if stale is None:
            stale = await self.bs.store.stale_posts(row.id, row.position, include_closing=row.state != "finished")
        self.tidying.extend((p, tidy) for p in stale)

    # ================================================================ database faults
    def fault_reason(self) -> str:
        what = "the last post is still being recorded; " if self.pending is not None else ""
        return (f"the database cannot be written ({self.fault}); {what}the story goes on by itself as soon "
                "as it can, or use /story resume")

    def db_failed(self, exc: DatabaseFault) -> None:
        """A write failed: the session pauses (in memory: the database is what failed) and its task
        tells moderators and tries again until a write succeeds."""
        if self.fault is None and not self.fault_told:  # a new incident (else the same one goes on)
            log.warning("session %s: the database refused a write (%s); pausing it", self.row.id, exc)
            self.fault_backoff = 0.0
        self.fault = str(exc)[:200] or "a write failed"
        self.kick()

    async def commit(self, new: SessionRow, audit: Sequence[AuditEntry] = (), **options: Any) -> None:
        """Save `new` as the session's row; only once it is saved is it the player's row.
        Caller holds the lock. A refused write raises `StorageFailed` and changes nothing."""
        try:
            await self.bs.store.save(new, audit, **options)
        except DatabaseFault as exc:
            self.db_failed(exc)
            raise StorageFailed("The database cannot be written right now, so nothing changed; the story is "
                                "paused and goes on by itself as soon as it can.") from exc
        self.row = new
        await self._fault_over()

    async def settle(self) -> None:
        """Before a command changes the session: if the database failed, record what is owed first.
        Caller holds the lock; raises `StorageFailed` while the database still refuses."""
        if self.fault is not None and not await self.recover():
            raise StorageFailed(f"The database still cannot be written ({self.fault}), so nothing changed; "
                                "the story goes on by itself as soon as it can.")

    async def recover(self) -> bool:
        """Try the database again: record the delivered post it owes, then save the session (which
        proves writes work). True when the fault is over. Caller holds the lock."""
        if self.fault is None:
            return True
        now = self.bs.clock.now()
        try:
            if self.pending is not None:
                await self._record(*self.pending)
            row = self.row
            new = replace(row, updated_at=now)
            if row.state == "playing":
                new.next_due_at = max(row.next_due_at or now, now + self.bs.pacing.resume_delay)
            await self.bs.store.save(new, [self.audit(SYSTEM_ACTOR, "recovered", row.position, row.position,
                                                      "the database can be written again")])
        except DatabaseFault as exc:
            self.fault = str(exc)[:200] or self.fault
            return False
        self.row = new
        self.fault = None
        self.mark_changed()
        if new.state != "playing":  # else the incident is over once a post is recorded again
            await self._fault_over()
        return True

    async def _fault_over(self) -> None:
        """A write that matters succeeded: the incident is over; one notice if moderators were told."""
        if self.fault is not None or not self.fault_told:
            return
        self.fault_told = False
        self.fault_backoff = 0.0
        log.info("session %s: the database can be written again; going on", self.row.id)
        going = self.row.state in ("playing", "waiting")
        await self._tell(f"“{self._title()}”: the database can be written again"
                         + ("; the story goes on here." if going else "."))

    async def _ride_out_fault(self) -> None:
        """The task's part of a fault: tell moderators at once (not after a save that may fail),
        then retry with a growing pause until a write succeeds."""
        if not self.fault_told:
            self.fault_told = True
            await self._tell(f"“{self._title()}” is paused here: {self.fault_reason()}.")
        self.fault_backoff = min(MAX_FAULT_BACKOFF, max(1.0, self.fault_backoff * 2))
        await self.park(self.fault_backoff)
        async with self.lock:
            await self.recover()

    def _title(self) -> str:
        return self.story.title if self.story else self.row.story_slug

    async def _tell(self, text: str) -> None:
        try:
            await self.bs.stage.notify_moderators(self.place, text)
        except StageError as exc:
            log.warning("session %s: could not notify moderators: %s", self.row.id, exc)

    # ================================================================ its task
    def spawn(self) -> None:
        """Start the player's task unless it is running (or the narrator is closing)."""
        if self.bs.closing or self.running:
            return
        task = asyncio.get_running_loop().create_task(self._run(), name=f"narrator-session-{self.row.id}")
        self.task = task
        self.bs.awake.add(self)
        sid = self.row.id

        def done(t: asyncio.Task[None]) -> None:
            if self.task is t:
                self.bs.awake.discard(self)
            if t.cancelled():
                return
            exc = t.exception()
            if exc is not None:
                log.error("session %s scheduler stopped by an error", sid, exc_info=exc)

        task.add_done_callback(done)

    def kick(self) -> None:
        """Something changed: wake the task (or start one if it needs to act)."""
        self.wake()
        if not self.running and (self.row.state in ("playing", "waiting") or self.tidying or self.fault):
            self.spawn()
        self.mark_changed()

    def wake(self) -> None:
        b = self.blocker
        if b is not None and not b.done():
            b.set_result(None)

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def _parked(self, fut: asyncio.Future[Any]) -> None:
        """Bookkeeping for `is_idle`: the task sleeps on `fut` and is awake again once it resolves."""
        self.blocker = fut
        self.bs.awake.discard(self)
        fut.add_done_callback(self._woke)

    def _woke(self, _: asyncio.Future[Any]) -> None:
        if self.running:
            self.bs.awake.add(self)

    async def park(self, delay: float | None, at: float | None = None) -> None:
        """Sleep `delay` seconds (None: until woken); how late the timer fired goes to `stats.lateness`.
        `at`: the tick (monotonic, on the `Backstage.tick` grid) the delay ends at: a timer shared
        with every session due in that tick."""
        clock = self.bs.clock
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        handle = None
        target = 0.0
        if at is not None:
            target = at
            self.bs.ticks.wake_at(at, fut)
        elif delay is not None:
            delay = max(0.0, delay)
            target = clock.monotonic() + delay
            handle = clock.call_later(delay, functools.partial(_fire, fut))
        self._parked(fut)
        try:
            fired = await fut  # True from the timer; None when woken
        except BaseException:
            if handle is not None:
                handle.cancel()
            raise
        finally:
            self.blocker = None
        if fired:
            self.bs.stats.lateness.append(clock.monotonic() - target)
        elif handle is not None:
            handle.cancel()

    async def _block(self, fut: asyncio.Future[bool]) -> bool:
        self._parked(fut)
        try:
            return bool(await fut)
        finally:
            self.blocker = None

    # ================================================================ the loop
    async def _run(self) -> None:
        try:
            while not self.bs.closing:
                try:
                    if not await self._step():
                        return  # paused/finished/stopped: a command starts a new task when needed
                except DatabaseFault as exc:
                    self.db_failed(exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("session %s: unexpected error; pausing it", self.row.id)
            self.unresolved = True  # a post may be left "posting": check it before posting again
            try:
                async with self.lock:
                    await self.halt(f"an internal error stopped the narration ({type(exc).__name__})")
            except Exception:
                log.exception("session %s: could not record the pause", self.row.id)

    async def _step(self) -> bool:
        """One turn of the loop; False when the task has nothing left to do."""
        bs = self.bs
        if self.fault is not None:
            await self._ride_out_fault()
            return True
        if self.tidying:
            await self._tidy()
            return True
        row = self.row
        if row.state not in ("playing", "waiting"):
            return False
        if self.unresolved:
            await self._reconcile()
            return True
        if row.state == "waiting":
            await self.park(None)
            return True
        if self.story is None:
            async with self.lock:
                await self.halt(f"the story '{row.story_slug}' is no longer in the library")
            return False
        now = bs.clock.now()
        due = row.next_due_at if row.next_due_at is not None else now
        if due > now:
            wait = due - now
            tick = bs.tick
            at = None
            if tick > 0:
                # Wake on the tick at or before the due time (never after it), with every other
                # session due in that tick: their intents then share one commit, which is most of
                # a post's cost to the database. A beat leaves up to one tick early, never late.
                mono = bs.clock.monotonic()
                at = (mono + wait + 1e-9) // tick * tick  # (a due time on the grid keeps its tick)
                wait = at - mono
            if wait > 0:
                await self._wait_until_due(wait, at)
                return True
        webhook = self.place.parent_id or self.place.channel_id
        grant = bs.gate.request(self.place.channel_id, webhook)
        if isinstance(grant, float):
            if grant > 0:
                await self.park(grant)
                return True
        elif not await self._block(grant):
            return True
        retry = await self._post_step()
        if retry is not None:
            await self.park(retry)
        return True

    async def _wait_until_due(self, wait: float, at: float | None = None) -> None:
        """Sleep until the next beat is due (`at`: on the tick grid), showing typing shortly before
        a long beat."""
        bs = self.bs
        nxt = self.playable_from(self.row.position) if self.row.title_posted else None
        lead = bs.pacing.typing_lead
        if nxt is not None and self.story is not None and self.typed_for != nxt \
                and bs.pacing.shows_typing(facts(self.story).words[nxt]):
            if wait > lead:
                await self.park(wait - lead)
                return
            self.typed_for = nxt
            if bs.gate.try_global():
                try:
                    await bs.stage.typing(self.place)
                except Exception as exc:  # best effort by contract
                    log.debug("session %s: typing failed: %s", self.row.id, exc)
            return
        await self.park(wait, at)

    def _take_fixes(self) -> None:
        """The library's current version of the story, when it has the same beats (a speaker fixed
        in review): beats not yet posted play as fixed. A story with other beats waits for a restart."""
        fresh = self._lookup(self.row.story_slug) if self._lookup is not None else None
        if fresh is not None and self.story is not None and fresh is not self.story and len(fresh) == len(self.story):
            self.story = fresh

    # ================================================================ post and record
    async def _post_step(self) -> float | None:
        """Post the next cue (holding the session lock). Returns seconds to wait before retrying."""
        bs = self.bs
        async with self.lock:
            row = self.row
            if row.state != "playing" or bs.closing or self.story is None or self.tidying or self.unresolved \
                    or self.fault is not None:
                return None
            now = bs.clock.now()
            if row.next_due_at is not None and row.next_due_at > now + bs.tick + 1e-6:
                return None  # the pace changed while we waited for the budget
            self._take_fixes()
            kind, first, last, cue, words = next_post(self.story, row, bs.pacing, bs.limits.max_cue_chars, now)
            self.seq += 1
            seq = self.seq
            try:
                await bs.store.begin_post(row.id, seq, kind, first, last, now)
            except DatabaseFault:
                self.seq -= 1  # nothing was written or sent
                raise
            self.in_flight = True
            try:
                return await self._deliver(seq, kind, first, last, cue, words)
            finally:
                self.in_flight = False
                if self._posted is not None:
                    self._posted.set()
                    self._posted = None

    async def _deliver(self, seq: int, kind: str, first: int | None, last: int | None, cue: Cue,
                       words: int) -> float | None:
        """The stage call and its record (caller holds the lock and has begun the post)."""
        bs, row = self.bs, self.row
        if first is not None and row.next_due_at is not None and row.mode == "auto":
            bs.stats.sent_late.append(bs.clock.now() - row.next_due_at)
        try:
            ref = await bs.stage.post(self.place, cue)
        except RateLimited as exc:
            bs.stats.rate_limited += 1
            await self._not_sent(seq)
            return max(exc.retry_after, 0.05)
        except Unavailable as exc:
            log.warning("session %s: stage unavailable (%s); will check and retry", row.id, exc)
            self.unresolved = True
            self.backoff = min(MAX_BACKOFF, max(1.0, self.backoff * 2))
            return self.backoff
        except (Forbidden, Gone) as exc:
            try:
                await self._not_sent(seq)
            finally:  # moderators hear of it even when the database fails too
                await self.halt(stage_reason(exc))
            return None
        self.backoff = 0.0
        if ref.parts:  # a long beat went out as several messages: each one used the budget
            webhook = self.place.parent_id or self.place.channel_id
            for _ in ref.parts:
                bs.gate.budget.take(self.place.channel_id, webhook, bs.clock.monotonic())
        if first is not None and last is not None and last > first:
            bs.stats.merged_beats += last - first + 1
        await self._record(seq, kind, first, last, ref.message_id, words, ref.parts)
        return None

    async def _not_sent(self, seq: int) -> None:
        try:
            await self.bs.store.set_post_status(self.row.id, [seq], "failed")
        except DatabaseFault:
            self.unresolved = True  # still "posting" on record: the history check settles it later
            raise

    async def _record(self, seq: int, kind: str, first: int | None, last: int | None,
                      message_id: int, words: int, parts: tuple[int, ...] = ()) -> None:
        """The post arrived: mark it posted and move the session on, in one transaction. The player's
        row (its position) changes only once that is saved; if the database refuses, the post is
        kept as `pending` and the session is "recording" until a retry saves it."""
        bs, row, story = self.bs, self.row, self.story
        pacing = bs.pacing
        assert story is not None
        now = bs.clock.now()
        auto = row.mode == "auto"
        beat = kind not in ("title", "closing")
        playing = row.state == "playing"  # else (paused meanwhile) record progress, keep the state
        new = row.copy()
        new.updated_at = now
        if kind == "title":
            new.title_posted = 1
            new.next_due_at = now + pacing.first_beat_delay if playing else None
        elif kind == "closing":
            new.state = self.transition("finish")
            new.next_due_at = None
        else:
            assert first is not None and last is not None
            # The schedule chains from when this beat was DUE, not when it went out: a session the
            # rate budget holds back falls measurably behind, and the next post merges narration
            # to catch up (bounded by CATCH_UP_CAP so an outage does not end in a burst).
            due = row.next_due_at if row.next_due_at is not None and auto else now
            due = max(due, now - CATCH_UP_CAP)
            counts = facts(story).words
            if first == last:  # the usual post: one beat (posted, so playable)
                covered = [first]
            else:
                covered = [b.index for b in story.beats[first:last + 1] if b.kind != "note" or row.include_notes]
                for b in covered[:-1]:
                    due += pacing.delay_after(counts[b], row.wpm)
            last_words = counts[covered[-1]] if covered else words
            new.position = last + 1
            nxt = self.playable_from(last + 1)
            floor = now + pacing.min_delay
            if not playing:
                new.next_due_at = None
            elif nxt is None:  # then the closing card
                new.next_due_at = max(floor, due + pacing.delay_after(last_words, row.wpm))
            elif story.beat(nxt).scene != story.beat(last).scene:
                new.state = self.transition("scene_end")
                # the session's breather, capped by the engine's current one (--instant, time scale)
                breather = min(row.scene_breather, pacing.breather)
                pause = max(pacing.delay_after(last_words, row.wpm), breather)
                new.next_due_at = max(floor, due + pause) if auto else None
            else:
                new.state = self.transition("beat_posted")
                new.next_due_at = max(floor, due + pacing.delay_after(last_words, row.wpm)) if auto else None
        try:
            # votes are only ever cast in vote mode (a change of mode clears them)
            # The result waits for the next tick's commit, unless the session is due again before
            # that (a compressed time scale, catching up): then it would hold the next post back;
            # nor when readers move the story on (manual, vote): the next ▶ waits for this commit.
            hurry = new.next_due_at is None or new.next_due_at - now < 2 * bs.tick
            await bs.store.finish_post(row.id, seq, message_id, now, new, clear_votes=beat and row.mode != "auto",
                                       parts=parts, old=row, hurry=hurry)
        except DatabaseFault:
            self.pending = (seq, kind, first, last, message_id, words, parts)
            raise
        self.pending = None
        self.row = new
        if beat:
            self.votes.clear()
            self.last_message_id = message_id
        bs.stats.posts += 1
        self.mark_changed()
        if self.fault_told:
            await self._fault_over()

    # ================================================================ halt
    async def halt(self, reason: str) -> None:
        """Pause the session because the stage refused; tell moderators (also when the pause cannot
        be saved). Caller holds the lock."""
        bs, row = self.bs, self.row
        if row.state not in ("playing", "waiting"):
            return
        new = replace(row, state=self.transition("fail"), pause_reason=reason[:500], next_due_at=None,
                      updated_at=bs.clock.now())
        try:
            await bs.store.save(new, [self.audit(SYSTEM_ACTOR, "halt", row.position, row.position, reason)])
        except DatabaseFault as exc:
            self.db_failed(exc)  # the session waits for the database; the stage's refusal comes back then
        else:
            self.row = new
        self.mark_changed()
        await self._tell(f"“{self._title()}” is paused here: {reason}. Fix that, then use /story resume.")

    # ================================================================ reconcile
    async def _reconcile(self) -> None:
        """Settle posts left "posting" by a crash or an unknown-outcome failure."""
        bs, row = self.bs, self.row
        pending = await bs.store.unresolved_posts(row.id)
        if not pending:
            self.unresolved = False
            return
        try:
            seen = await bs.stage.recent(self.place, limit=100)
        except (Forbidden, Gone) as exc:
            async with self.lock:  # still unresolved: checked again when a moderator resumes
                await self.halt(stage_reason(exc))
            return
        except StageError as exc:
            self.backoff = min(MAX_BACKOFF, max(1.0, self.backoff * 2))
            log.warning("session %s: cannot list recent messages (%s); retrying in %.0f s", row.id, exc,
                        self.backoff)
            await self.park(self.backoff)
            return
        async with self.lock:
            row = self.row  # a command may have replaced it while we read the channel
            known = await bs.store.known_message_ids(row.id)
            candidates = sorted((m for m in seen if m.message_id not in known), key=lambda m: m.message_id)
            for p in pending:
                cue = rebuild(self.story, row, p)
                match = None
                if cue is not None:
                    for m in candidates:
                        if m.created_at >= p.created_at - RECONCILE_SKEW and cue_matches(cue, m):
                            match = m
                            break
                if match is None:
                    bs.stats.reposted += 1
                    await bs.store.set_post_status(row.id, [p.seq], "failed")
                    continue
                assert cue is not None
                chain = split_chain(cue, match, candidates)
                for m in chain:
                    candidates.remove(m)
                parts = tuple(m.message_id for m in chain[:-1])
                match = chain[-1]
                bs.stats.reconciled += 1
                if is_current(self.story, row, p):
                    await self._record(p.seq, p.kind, p.first_beat, p.last_beat, match.message_id,
                                       cue_words(cue), parts)
                    row = self.row
                else:  # the session moved meanwhile: the message is history, not progress
                    await bs.store.finish_post(row.id, p.seq, match.message_id, bs.clock.now(), row, parts=parts)
                    tidy: Tidy = row.tidy  # type: ignore[assignment]
                    if provably_rewound(row, p):  # only what a rewind provably took back is tidied away
                        if tidy == "none":
                            await bs.store.set_post_status(row.id, [p.seq], "rewound")
                        else:
                            done = PostRow(p.session_id, p.seq, p.kind, p.first_beat, p.last_beat, "posted",
                                           match.message_id, p.created_at, None, parts)
                            self.tidying.append((done, tidy))
            self.unresolved = False
            self.backoff = 0.0

    # ================================================================ tidy
    async def _tidy(self) -> None:
        """Delete (or mark) the messages a rewind took back, oldest last, within the budget."""
        bs = self.bs
        while self.tidying and not bs.closing:
            post, action = self.tidying[-1]
            if not bs.gate.try_global():
                await self.park(max(0.01, bs.gate.global_wait()))
                continue
            if post.message_id is not None:
                ref = MessageRef(self.place, post.message_id, post.parts)
                try:
                    if action == "delete":
                        await bs.stage.delete(ref)
                    else:
                        cue = rebuild(self.story, self.row, post)
                        if cue is not None:
                            await bs.stage.edit(ref, rewound_cue(cue))
                except RateLimited as exc:
                    await self.park(max(exc.retry_after, 0.05))
                    continue
                except StageError as exc:
                    log.info("session %s: could not %s message %s: %s", self.row.id, action, post.message_id, exc)
            await bs.store.set_post_status(self.row.id, [post.seq], "deleted" if action == "delete" else "rewound")
            self.tidying.pop()


def _fire(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_result(True)


def stage_reason(exc: StageError) -> str:
    text = str(exc) or type(exc).__name__
    fix = getattr(exc, "fix", "")
    if isinstance(exc, Gone):
        text = f"the channel or its webhook is gone ({text})"
    return f"{text}; {fix}" if fix else text
