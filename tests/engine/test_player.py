"""The session player on its own (no façade): exactly once across crashes, and a database that
refuses to record a post readers already saw."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.backstage import Backstage
from bot.engine.budget import BudgetGate, EngineLimits, RateBudget
from bot.engine.pacing import Pacing
from bot.engine.player import SessionPlayer
from bot.engine.recording import Recorded
from bot.engine.stage import Stage
from bot.store.sessions import SessionRow, SessionStore
from bot.story.model import Story
from tests.engine.faults import FailingStore
from tests.engine.helpers import PLACE, Rig, beats_posted, kinds, make_rig
from tests.engine.test_exactly_once import CrashingStage, LostAnswer


def backstage(rig: Rig, stage: Stage | None = None, store: SessionStore | None = None) -> Backstage:
    limits = EngineLimits()
    bs = Backstage(store=store or SessionStore(rig.db), stage=stage or rig.stage, clock=rig.clock,
                   pacing=Pacing(), limits=limits, gate=BudgetGate(RateBudget(limits), rig.clock))
    rig.clock.add_idle_check(lambda: not bs.awake)
    return bs


async def new_player(bs: Backstage, story: Story, mode: str = "auto") -> SessionPlayer:
    now = bs.clock.now()
    row = SessionRow(id=0, guild_id=PLACE.guild_id, channel_id=PLACE.channel_id, parent_id=None,
                     story_slug=story.slug, story_hash=story.content_hash(), position=0, state="playing",
                     mode=mode, wpm=200, votes_needed=2, scene_breather=30.0, tidy="delete", include_notes=0,
                     pause_reason=None, next_due_at=now, started_by=1, created_at=now, updated_at=now,
                     title_posted=0)
    row.id = await bs.store.create(row)
    return SessionPlayer(bs, row, PLACE, story)


async def reload_player(bs: Backstage, story: Story) -> SessionPlayer:
    """What start-up does for one session: its saved row and what the post log says."""
    row = await bs.store.latest_for_channel(PLACE.channel_id)
    assert row is not None
    summary = (await bs.store.post_summaries([row.id]))[row.id]
    player = SessionPlayer(bs, row, PLACE, story)
    player.seq, player.last_message_id, player.unresolved = summary.max_seq, summary.last_message_id, \
        summary.unresolved
    return player


@pytest.mark.parametrize("when", ["after", "before"])
async def test_a_player_killed_around_the_stage_call_posts_each_beat_once(tmp_path: Path, when: str) -> None:
    rig = await make_rig(tmp_path)
    story = rig.stories["tale"]
    crashing = CrashingStage(rig.stage)
    crashing.crash_at, crashing.when = 4, when  # title, beat 0, beat 1, then beat 2 "kills" the process
    player = await new_player(backstage(rig, crashing), story)
    player.spawn()
    await rig.advance(30)
    assert player.task is not None and player.task.done()  # dead, as after SIGKILL
    assert beats_posted(rig.stage) == ([0, 1, 2] if when == "after" else [0, 1])

    bs = backstage(rig)  # the next process
    again = await reload_player(bs, story)
    assert again.unresolved and again.row.position == 2
    again.spawn()
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(6))
    assert kinds(rig.stage).count("title") == 1 and kinds(rig.stage).count("closing") == 1
    assert (bs.stats.reconciled, bs.stats.reposted) == ((1, 0) if when == "after" else (0, 1))
    assert again.row.state == "finished" and await bs.store.unresolved_posts(again.row.id) == []
    await rig.narrator.close()
    await rig.db.close()


async def test_a_delivered_post_whose_record_fails_is_kept_and_recorded_when_the_database_is_back(
        tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    story = rig.stories["tale"]
    store = FailingStore(rig.db)

    def disk_fills_after_beat_1(rec: Recorded) -> None:
        if rec.beats == (1, 1):
            store.fail()  # the post is out; its record will not be saved

    rig.stage.on_post = disk_fills_after_beat_1
    bs = backstage(rig, store=store)
    player = await new_player(bs, story)
    player.spawn()
    await rig.advance(12)
    assert beats_posted(rig.stage) == [0, 1]
    assert player.pending is not None and player.fault is not None
    assert player.row.position == 1  # the position moves only with the saved record
    assert store.refused[0] == "finish_post"
    # moderators are told although nothing about the fault could be saved
    assert len(rig.stage.notices) == 1 and "database" in rig.stage.notices[0][1]
    await rig.advance(300)  # still full: retried, nothing reposted, nothing deleted, told once
    assert beats_posted(rig.stage) == [0, 1] and len(rig.stage.notices) == 1
    assert store.refused.count("finish_post") > 3
    store.heal()
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(6))
    assert not [r for r in rig.stage.transcript(PLACE.channel_id, include_deleted=True) if r.deleted]
    assert len(rig.stage.notices) == 2 and "again" in rig.stage.notices[1][1]  # one notice on recovery
    beat1 = next(r for r in rig.stage.posts if r.beats == (1, 1))
    posted = {p.first_beat: p for p in await bs.store.posts(player.row.id, "posted")}
    assert posted[1].message_id == beat1.message_id
    assert player.row.state == "finished" and player.fault is None and player.pending is None
    await rig.narrator.close()
    await rig.db.close()


async def test_a_post_that_cannot_be_begun_is_not_sent_and_the_player_goes_on_by_itself(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    store = FailingStore(rig.db)
    player = await new_player(backstage(rig, store=store), rig.stories["tale"])
    player.spawn()
    await rig.advance(6)
    assert beats_posted(rig.stage) == [0]
    store.fail("begin_post")
    await rig.advance(60)
    assert beats_posted(rig.stage) == [0] and player.fault is not None and player.pending is None
    assert len(rig.stage.notices) == 1
    store.heal()
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(6)) and kinds(rig.stage).count("closing") == 1
    assert len(rig.stage.notices) == 2
    await rig.narrator.close()
    await rig.db.close()


async def test_reconcile_keeps_a_delivered_post_it_cannot_prove_was_rewound(tmp_path: Path) -> None:
    """A post of unknown outcome (it arrived; the answer was lost), then the session jumps FORWARD:
    the message readers saw is recorded as history and left in the channel, not deleted."""
    rig = await make_rig(tmp_path)
    story = rig.stories["tale"]  # 2 scenes x 3 beats
    lost = LostAnswer(rig.stage)
    lost.crash_at = 3  # beat 1 arrives, reported unavailable
    bs = backstage(rig, lost)
    player = await new_player(bs, story)
    player.spawn()
    await rig.advance(9.9)
    assert beats_posted(rig.stage) == [0, 1] and player.unresolved
    async with player.lock:  # what a moderator's jump to scene 2 does to the row
        player.row.position = 3
        player.row.next_due_at = rig.clock.now() + 2
    player.kick()
    await rig.advance(600)
    shown = rig.stage.transcript(PLACE.channel_id, include_deleted=True)
    assert not [r for r in shown if r.deleted]
    assert beats_posted(rig.stage) == [0, 1, 3, 4, 5]
    posted = await bs.store.posts(player.row.id, "posted")
    assert 1 in {p.first_beat for p in posted}
    await rig.narrator.close()
    await rig.db.close()
