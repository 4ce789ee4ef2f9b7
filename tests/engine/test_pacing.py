"""Reading pace, scene breathers, typing, votes and ▶ presses, on a fake clock."""

import asyncio
from pathlib import Path

import pytest

from bot.engine.api import Actor, NotAllowed, TooFast
from bot.engine.pacing import Pacing, PressLimiter, VoteBox
from tests.engine.helpers import MOD, PLACE, beats_posted, make_rig, make_story


def test_delay_is_reading_time_plus_base_clamped() -> None:
    p = Pacing()
    assert p.delay_after(10, 200) == pytest.approx(10 / 200 * 60 + 1.5)  # 4.5 s
    assert p.delay_after(0, 200) == 2.0  # never faster than min_delay
    assert p.delay_after(1000, 200) == 20.0  # never slower than max_delay
    assert p.delay_after(10, 100) == pytest.approx(7.5)
    assert p.scene_end_delay(10, 200) == 30.0
    assert Pacing(min_delay=1, max_delay=5).delay_after(100, 200) == 5
    with pytest.raises(NotAllowed):
        p.check_wpm(20)


def test_vote_box_counts_distinct_readers_per_position() -> None:
    box = VoteBox(needed=2)
    assert not box.add(3, 10)
    assert not box.add(3, 10)  # the same reader twice is one vote
    assert box.count(3) == 1
    assert box.add(3, 11)
    assert not box.add(4, 10)  # a new position starts a new count
    assert box.count(3) == 0 and box.count(4) == 1


def test_press_limiter() -> None:
    lim = PressLimiter(2.0)
    lim.check(1, 10, 100.0)
    with pytest.raises(TooFast) as info:
        lim.check(1, 10, 101.0)
    assert info.value.retry_after == pytest.approx(1.0)
    lim.check(1, 11, 101.0)  # another reader is fine
    lim.check(2, 10, 101.0)  # the same reader in another session is fine
    lim.check(1, 10, 102.5)


TWELVE = "one two three four five six seven eight nine ten eleven twelve."
LONG = " ".join(["word"] * 60) + "."


async def test_beats_follow_reading_pace_and_scene_breather(tmp_path: Path) -> None:
    story = make_story([[("narration", TWELVE, None), ("narration", TWELVE, None)],
                        [("narration", TWELVE, None)]])
    rig = await make_rig(tmp_path, [story])
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(0)
    t0 = rig.clock.now()
    await rig.advance(200)
    times = [r.created_at - t0 for r in rig.stage.transcript(PLACE.channel_id)]
    # title at 0; first beat after first_beat_delay (5 s); 12 words at 200 wpm = 3.6 s + 1.5 base;
    # the scene ends after beat 1: a 30 s breather; the closing card follows the last beat's reading time.
    assert times == pytest.approx([0, 5, 10.1, 40.1, 45.2])
    await rig.narrator.close()
    await rig.db.close()


async def test_wpm_changes_the_pace(tmp_path: Path) -> None:
    story = make_story([[("narration", TWELVE, None), ("narration", TWELVE, None), ("narration", TWELVE, None)]])
    rig = await make_rig(tmp_path, [story])
    await rig.narrator.start(PLACE, "tale", MOD, wpm=100)
    await rig.advance(5)
    t0 = rig.clock.now()
    await rig.advance(7.1)  # 12 words at 100 wpm = 7.2 s + 1.5 s: not yet
    assert beats_posted(rig.stage) == [0]
    await rig.advance(1.7)
    assert beats_posted(rig.stage) == [0, 1]
    assert rig.stage.transcript(PLACE.channel_id)[-1].created_at - t0 == pytest.approx(8.7)
    await rig.narrator.close()
    await rig.db.close()


async def test_typing_shown_before_long_beats_only(tmp_path: Path) -> None:
    story = make_story([[("narration", TWELVE, None), ("narration", LONG, None), ("narration", TWELVE, None)]])
    rig = await make_rig(tmp_path, [story])
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(5)  # beat 0 posted; beat 1 (60 words) due 5.1 s later
    assert rig.stage.typings == []
    t0 = rig.clock.now()
    await rig.advance(1.2)  # typing starts typing_lead (4 s) before the beat
    assert [t - t0 for _, t in rig.stage.typings] == pytest.approx([1.1])
    await rig.advance(60)
    assert len(rig.stage.typings) == 1  # the short beat after it gets none
    await rig.narrator.close()
    await rig.db.close()


READERS = [Actor(user_id=100 + i, name=f"r{i}") for i in range(6)]


async def test_vote_mode_needs_distinct_readers(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, votes_needed=2)
    await rig.narrator.start(PLACE, "tale", MOD, mode="vote")
    await rig.advance(10)
    assert beats_posted(rig.stage) == [0]
    r = await rig.narrator.advance(PLACE, READERS[0])
    assert (r.advanced, r.votes, r.votes_needed) == (False, 1, 2)
    with pytest.raises(TooFast):  # the same reader again, too soon
        await rig.narrator.advance(PLACE, READERS[0])
    await rig.advance(3)
    r = await rig.narrator.advance(PLACE, READERS[0])  # after the cooldown: still one vote
    assert (r.advanced, r.votes) == (False, 1)
    st = await rig.narrator.status(PLACE)
    assert st is not None and st.votes == 1 and st.state == "waiting"
    r = await rig.narrator.advance(PLACE, READERS[1])
    assert r.advanced and r.votes == 2
    await rig.advance(0)
    assert beats_posted(rig.stage) == [0, 1]
    # the count starts again at the new position; a moderator's ▶ forces it
    r = await rig.narrator.advance(PLACE, MOD)
    assert r.advanced
    await rig.advance(0)
    assert beats_posted(rig.stage) == [0, 1, 2]
    await rig.narrator.close()
    await rig.db.close()


async def test_votes_survive_a_restart(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, votes_needed=2)
    await rig.narrator.start(PLACE, "tale", MOD, mode="vote")
    await rig.advance(10)
    await rig.narrator.advance(PLACE, READERS[0])
    n = await rig.reopen(votes_needed=2)
    assert await n.resume_all() == 1
    r = await n.advance(PLACE, READERS[1])
    assert r.advanced
    await rig.advance(0)
    assert beats_posted(rig.stage) == [0, 1]
    await n.close()
    await rig.db.close()


async def test_simultaneous_presses_advance_exactly_once(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD, mode="manual")
    await rig.advance(10)
    results = await asyncio.gather(*(rig.narrator.advance(PLACE, a) for a in READERS))
    assert sum(r.advanced for r in results) == 1
    await rig.advance(0)
    assert beats_posted(rig.stage) == [0, 1]
    await rig.narrator.close()
    await rig.db.close()


async def test_press_on_an_old_message_is_ignored(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD, mode="manual")
    await rig.advance(10)
    latest = rig.stage.transcript(PLACE.channel_id)[-1].message_id
    old = rig.stage.transcript(PLACE.channel_id)[0].message_id
    assert not (await rig.narrator.advance(PLACE, READERS[0], message_id=old)).advanced
    assert (await rig.narrator.advance(PLACE, READERS[1], message_id=latest)).advanced
    await rig.narrator.close()
    await rig.db.close()


async def test_manual_mode_waits_at_scene_end_too(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)  # 2 scenes of 3 beats
    await rig.narrator.start(PLACE, "tale", MOD, mode="manual")
    await rig.advance(10)
    for _ in range(2):
        await rig.narrator.advance(PLACE, MOD)
        await rig.advance(3)  # past the press cooldown
    assert beats_posted(rig.stage) == [0, 1, 2]
    st = await rig.narrator.status(PLACE)
    assert st is not None and st.state == "waiting"
    await rig.advance(120)
    assert beats_posted(rig.stage) == [0, 1, 2]
    await rig.narrator.close()
    await rig.db.close()


async def test_auto_mode_refuses_reader_presses(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD)
    with pytest.raises(NotAllowed):
        await rig.narrator.advance(PLACE, READERS[0])
    await rig.narrator.close()
    await rig.db.close()


def test_scaled_pacing_and_limits() -> None:
    from bot.engine.budget import EngineLimits

    p = Pacing().scaled(0.01)
    assert p.min_delay == pytest.approx(0.02) and p.breather == pytest.approx(0.3)
    assert p.wpm_max == 100_000 and p.press_cooldown == pytest.approx(0.02) and p.wpm == 200
    assert Pacing().scaled(1.0) == Pacing()
    lim = EngineLimits().scaled(0.5)
    assert (lim.channel_window, lim.webhook_window, lim.global_window) == (30.0, 1.0, 0.5)
    assert lim.channel_posts == 30 and EngineLimits().scaled(1) == EngineLimits()
    with pytest.raises(ValueError):
        Pacing().scaled(0)
    with pytest.raises(ValueError):
        EngineLimits().scaled(1.5)


@pytest.mark.parametrize("match", [True, False])
async def test_a_press_on_the_message_still_being_recorded_is_held_then_applied(tmp_path: Path,
                                                                               match: bool) -> None:
    from bot.engine.narrator import Narrator
    from bot.engine.stage import Cue, MessageRef, Place
    from tests.engine.test_exactly_once import CrashingStage

    rig = await make_rig(tmp_path)
    await rig.narrator.close()
    release = asyncio.Event()
    delivered = asyncio.Event()

    class SlowAnswer(CrashingStage):  # the message arrives at once; the response to us is slow
        async def post(self, place: Place, cue: Cue) -> MessageRef:
            ref = await self.inner.post(place, cue)
            if cue.beats == (1, 1):
                delivered.set()
                await release.wait()
            return ref

    rig.narrator = Narrator(rig.db, SlowAnswer(rig.stage), rig.stories, clock=rig.clock)
    await rig.narrator.start(PLACE, "tale", MOD, mode="manual")
    await rig.advance(10)
    assert beats_posted(rig.stage) == [0]
    first = rig.stage.posts[-1].message_id
    assert (await rig.narrator.advance(PLACE, READERS[0], message_id=first)).advanced
    await asyncio.wait_for(delivered.wait(), 5)  # the session posts at once (no timer involved)
    fresh = rig.stage.posts[-1].message_id  # beat 1 is in the channel; its id is not recorded yet
    press = asyncio.ensure_future(rig.narrator.advance(PLACE, READERS[1], message_id=fresh if match else first))
    await asyncio.sleep(0)
    release.set()
    result = await press
    assert result.advanced is match  # held and applied; a press on an old message still is not
    await rig.advance(10)
    assert beats_posted(rig.stage) == ([0, 1, 2] if match else [0, 1])
    await rig.narrator.close()
    await rig.db.close()


async def test_a_quick_press_on_the_newest_beat_is_held_until_the_cooldown_then_applied(tmp_path: Path) -> None:
    """A short line ("Hm?") read in under 2 s: the reader's ▶ on it must count, not vanish."""
    rig = await make_rig(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD, mode="manual")
    await rig.advance(10)
    reader = READERS[0]
    first = rig.stage.posts[-1].message_id
    assert (await rig.narrator.advance(PLACE, reader, message_id=first)).advanced
    await rig.advance(0.5)
    assert beats_posted(rig.stage) == [0, 1]
    newest = rig.stage.posts[-1].message_id
    press = asyncio.ensure_future(rig.narrator.advance(PLACE, reader, message_id=newest))
    await rig.advance(1.0)
    assert not press.done() and beats_posted(rig.stage) == [0, 1]  # held: the pacing does not allow it yet
    await rig.advance(1.0)
    assert (await press).advanced
    await rig.advance(0)
    assert beats_posted(rig.stage) == [0, 1, 2]
    # a quick second press on a message that is no longer the newest still does nothing
    assert not (await rig.narrator.advance(PLACE, reader, message_id=newest)).advanced
    with pytest.raises(TooFast):  # and /story next without a message is told to wait, as before
        await rig.narrator.advance(PLACE, reader)
    await rig.narrator.close()
    await rig.db.close()
