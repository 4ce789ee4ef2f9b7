"""Crashes between the stage call and the record, stage failures, and the start-up policy."""

from pathlib import Path

import pytest

from bot.engine.narrator import Narrator
from bot.engine.recording import RecordingStage
from bot.engine.stage import Cue, Forbidden, Gone, MessageRef, Place, RateLimited, SeenMessage, Unavailable
from tests.engine.helpers import MOD, PLACE, Rig, beats_posted, kinds, make_narrator, make_rig


class Crash(BaseException):
    """Stands in for SIGKILL: nothing after it runs (no except Exception catches it)."""


class CrashingStage:
    """Delegates to a RecordingStage; crashes before or after delivering the Nth post."""

    def __init__(self, inner: RecordingStage) -> None:
        self.inner = inner
        self.crash_at: int | None = None
        self.when = "after"
        self.calls = 0

    async def post(self, place: Place, cue: Cue) -> MessageRef:
        self.calls += 1
        if self.calls == self.crash_at and self.when == "before":
            raise Crash
        ref = await self.inner.post(place, cue)
        if self.calls == self.crash_at and self.when == "after":
            raise Crash
        return ref

    async def edit(self, ref: MessageRef, cue: Cue) -> None:
        await self.inner.edit(ref, cue)

    async def delete(self, ref: MessageRef) -> None:
        await self.inner.delete(ref)

    async def typing(self, place: Place) -> None:
        await self.inner.typing(place)

    async def recent(self, place: Place, limit: int = 20) -> list[SeenMessage]:
        return await self.inner.recent(place, limit)

    async def notify_moderators(self, place: Place, text: str) -> None:
        await self.inner.notify_moderators(place, text)


async def _restart(rig: Rig) -> Narrator:
    await rig.narrator.close()
    rig.narrator = make_narrator(rig)
    return rig.narrator


@pytest.mark.parametrize("when", ["after", "before"])
async def test_crash_around_the_stage_call_posts_each_beat_once(tmp_path: Path, when: str) -> None:
    rig = await make_rig(tmp_path)
    crashing = CrashingStage(rig.stage)
    crashing.crash_at, crashing.when = 4, when  # title, beat 0, beat 1, then beat 2 crashes
    rig.narrator = Narrator(rig.db, crashing, rig.stories, clock=rig.clock)
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(30)
    expected_now = [0, 1, 2] if when == "after" else [0, 1]
    assert beats_posted(rig.stage) == expected_now
    unresolved = await rig.narrator.store.unresolved_posts(1)
    assert [(p.first_beat, p.status) for p in unresolved] == [(2, "posting")]

    n = await _restart(rig)
    assert await n.resume_all() == 1
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(6))
    assert kinds(rig.stage).count("title") == 1 and kinds(rig.stage).count("closing") == 1
    if when == "after":
        assert n.stats.reconciled == 1 and n.stats.reposted == 0
    else:
        assert n.stats.reconciled == 0 and n.stats.reposted == 1
    assert await n.store.unresolved_posts(1) == []
    await n.close()
    await rig.db.close()


async def test_rate_limited_waits_and_keeps_order(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(5)
    assert beats_posted(rig.stage) == [0]
    rig.stage.fail_next(RateLimited(7.0))
    t0 = rig.clock.now()
    await rig.advance(60)
    recs = [r for r in rig.stage.transcript(PLACE.channel_id) if r.beats]
    assert [r.beats[0] for r in recs[:3]] == [0, 1, 2]
    beat1_due = 4.8  # 11 words at 200 wpm + 1.5 s after beat 0
    assert recs[1].created_at - t0 == pytest.approx(beat1_due + 7.0)
    assert rig.narrator.stats.rate_limited == 1
    await rig.narrator.close()
    await rig.db.close()


@pytest.mark.parametrize("delivered", [True, False])
async def test_unavailable_retries_without_duplicates(tmp_path: Path, delivered: bool) -> None:
    rig = await make_rig(tmp_path)
    stage = rig.stage

    class Flaky(CrashingStage):
        async def post(self, place: Place, cue: Cue) -> MessageRef:
            self.calls += 1
            if self.calls == 3:
                if delivered:
                    await stage.post(place, cue)  # it arrived, but the answer got lost
                raise Unavailable("502 Bad Gateway")
            return await stage.post(place, cue)

    rig.narrator = Narrator(rig.db, Flaky(stage), rig.stories, clock=rig.clock)
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(600)
    assert beats_posted(stage) == list(range(6))
    assert kinds(stage)[-1] == "closing"
    await rig.narrator.close()
    await rig.db.close()


@pytest.mark.parametrize("error", [Forbidden("Missing Permissions", fix="Give the bot Manage Webhooks."),
                                   Gone("Unknown Channel")])
async def test_forbidden_or_gone_pauses_only_that_session(tmp_path: Path, error: Exception) -> None:
    rig = await make_rig(tmp_path)
    other = Place(channel_id=200, guild_id=1)
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.narrator.start(other, "tale", MOD)
    await rig.advance(5)
    rig.stage.break_channel(PLACE.channel_id, error)  # type: ignore[arg-type]
    await rig.advance(60)
    st = await rig.narrator.status(PLACE)
    assert st is not None and st.state == "paused" and st.pause_reason
    if isinstance(error, Forbidden):
        assert "Manage Webhooks" in st.pause_reason
    assert len([n for n in rig.stage.notices if n[0] == PLACE.channel_id]) == 1  # told once
    await rig.advance(600)
    assert len([n for n in rig.stage.notices if n[0] == PLACE.channel_id]) == 1
    assert beats_posted(rig.stage, other.channel_id) == list(range(6))  # the other channel went on
    assert beats_posted(rig.stage) == [0]
    log = await rig.narrator.audit_log(PLACE)
    assert log[-1].action == "halt"
    # fixed: a moderator resumes and the story continues where it stopped
    rig.stage.break_channel(PLACE.channel_id, None)
    await rig.narrator.resume(PLACE, MOD)
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(6))
    await rig.narrator.close()
    await rig.db.close()


async def test_startup_posts_one_catch_up_beat_then_normal_pace(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(5)
    assert beats_posted(rig.stage) == [0]
    await rig.narrator.close()
    await rig.advance(3600)  # the bot is down for an hour
    n = make_narrator(rig)
    rig.narrator = n
    assert await n.resume_all() == 1
    await rig.advance(0)
    assert beats_posted(rig.stage) == [0, 1]  # one catch-up beat at once ...
    await rig.advance(1.9)
    assert beats_posted(rig.stage) == [0, 1]  # ... then the normal pace, not a burst
    await rig.advance(3)
    assert beats_posted(rig.stage) == [0, 1, 2]
    await n.close()
    await rig.db.close()


async def test_waiting_sessions_keep_waiting_after_restart(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD, mode="manual")
    await rig.advance(10)
    await rig.narrator.close()
    await rig.advance(3600)
    n = make_narrator(rig)
    rig.narrator = n
    assert await n.resume_all() == 1
    await rig.advance(60)
    assert beats_posted(rig.stage) == [0]
    st = await n.status(PLACE)
    assert st is not None and st.state == "waiting"
    await n.close()
    await rig.db.close()


async def test_paused_and_missing_stories(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(5)
    await rig.narrator.close()
    rig.stories.clear()  # the story folder was removed
    n = make_narrator(rig)
    rig.narrator = n
    assert await n.resume_all() == 0
    st = await n.status(PLACE)
    assert st is not None and st.state == "paused" and "no longer in the library" in (st.pause_reason or "")
    await n.close()
    await rig.db.close()


class LostAnswer(CrashingStage):
    """The Nth post arrives, but the stage reports it Unavailable (the outcome looked unknown)."""

    async def post(self, place: Place, cue: Cue) -> MessageRef:
        self.calls += 1
        ref = await self.inner.post(place, cue)
        if self.calls == self.crash_at:
            raise Unavailable("timeout")
        return ref


@pytest.mark.parametrize("then", ["pause", "rewind"])
async def test_unknown_outcome_then_a_moderator_acts(tmp_path: Path, then: str) -> None:
    rig = await make_rig(tmp_path, tidy="delete")
    stage = LostAnswer(rig.stage)
    stage.crash_at = 3  # title, beat 0, then beat 1 is delivered but reported unavailable
    rig.narrator = Narrator(rig.db, stage, rig.stories, clock=rig.clock, tidy="delete")
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(9.9)  # beat 1 went out at 9.8 s; the engine is backing off before it checks
    assert beats_posted(rig.stage) == [0, 1]
    if then == "pause":
        await rig.narrator.pause(PLACE, MOD)
        await rig.advance(30)
        st = await rig.narrator.status(PLACE)
        assert st is not None and st.state == "paused" and beats_posted(rig.stage) == [0, 1]
        await rig.narrator.resume(PLACE, MOD)  # first settles beat 1 (it arrived), then goes on
        await rig.advance(600)
        assert beats_posted(rig.stage) == list(range(6))
    else:
        await rig.narrator.rewind(PLACE, MOD, beats=1)  # position 1 -> 0: beat 0 again
        await rig.advance(600)
        assert beats_posted(rig.stage) == list(range(6))  # the stray beat 1 was tidied away
        stray = [r for r in rig.stage.transcript(PLACE.channel_id, include_deleted=True) if r.deleted]
        assert sorted(r.beats for r in stray if r.beats) == [(0, 0), (1, 1)]
    await rig.narrator.close()
    await rig.db.close()


async def test_reconcile_waits_out_an_unavailable_history_then_settles(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    crashing = CrashingStage(rig.stage)
    crashing.crash_at = 3  # beat 1 delivered, then "killed"
    rig.narrator = Narrator(rig.db, crashing, rig.stories, clock=rig.clock)
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(30)
    n = await _restart(rig)
    rig.stage.fail_next(Unavailable("503"), op="recent", times=2)
    assert await n.resume_all() == 1
    await rig.advance(0)
    assert beats_posted(rig.stage) == [0, 1]  # nothing guessed while the history is unreadable
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(6)) and n.stats.reconciled == 1
    await n.close()
    await rig.db.close()


async def test_reconcile_without_history_permission_pauses(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    crashing = CrashingStage(rig.stage)
    crashing.crash_at = 3
    rig.narrator = Narrator(rig.db, crashing, rig.stories, clock=rig.clock)
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(30)
    n = await _restart(rig)
    rig.stage.fail_next(Forbidden("Missing Access", fix="Give the bot Read Message History here."), op="recent")
    await n.resume_all()
    await rig.advance(60)
    st = await n.status(PLACE)
    assert st is not None and st.state == "paused" and "Read Message History" in (st.pause_reason or "")
    assert beats_posted(rig.stage) == [0, 1]
    assert len(rig.stage.notices) == 1
    await n.resume(PLACE, MOD)  # permission granted: the delivered beat is found, not posted again
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(6)) and n.stats.reconciled == 1
    await n.close()
    await rig.db.close()
