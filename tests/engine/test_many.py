"""Many sessions in one narrator: started together (their writes share commits), every beat of
every channel posted once and in order, through a restart that resumes them all at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.engine.budget import EngineLimits
from bot.engine.pacing import Pacing
from bot.engine.stage import Place
from bot.store.db import Database
from tests.engine.helpers import MOD, beats_posted, make_narrator, make_rig, simple_story

PACE = Pacing(min_delay=2.0, max_delay=3.0, first_beat_delay=2.0, breather=3.0, typing_words=10**9)


async def _soak(tmp_path: Path, sessions: int) -> None:
    story = simple_story(scenes=3, beats=4)
    # Discord's global 50 requests/s would pace thousands of sessions: here the engine is measured
    rig = await make_rig(tmp_path, [story], pacing=PACE, limits=EngineLimits.unlimited())
    commits = 0
    if isinstance(rig.db, Database):
        run = rig.db.run

        async def counted(fn):  # type: ignore[no-untyped-def]
            nonlocal commits
            commits += 1
            return await run(fn)

        rig.db.run = counted  # type: ignore[method-assign]
    places = [Place(channel_id=5000 + i, guild_id=1) for i in range(sessions)]
    await asyncio.gather(*(rig.narrator.start(p, "tale", MOD) for p in places))
    await rig.advance(10)  # title and a few beats each
    before = [len(beats_posted(rig.stage, p.channel_id)) for p in places]
    assert all(b >= 2 for b in before), sorted(set(before))
    n = await rig.reopen(pacing=PACE, limits=EngineLimits.unlimited())  # a deploy: every session resumes at once
    assert await n.resume_all() == sessions
    for _ in range(40):
        await rig.advance(5)
        views = [await n.status(p) for p in places]
        if all(v is not None and v.state == "finished" for v in views):
            break
    for p in places:
        assert beats_posted(rig.stage, p.channel_id) == list(range(len(story))), p
        kinds = [r.kind for r in rig.stage.transcript(p.channel_id)]
        assert kinds.count("title") == 1 and kinds[-1] == "closing"
    posts = len(rig.stage.posts)
    if isinstance(rig.db, Database):  # two writes per post (intent, result), far fewer commits
        assert commits < posts, (commits, posts)
    await n.close()
    await rig.db.close()


async def test_many_sessions_play_every_beat_once_through_a_restart(tmp_path: Path) -> None:
    await _soak(tmp_path, 150)


@pytest.mark.long
async def test_thousands_of_sessions_play_every_beat_once_through_a_restart(tmp_path: Path) -> None:
    await _soak(tmp_path, 2500)


async def test_catch_up_beats_of_many_sessions_are_spread_in_the_order_they_fell_due(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, [simple_story()], pacing=PACE)
    await rig.narrator.start(Place(channel_id=7000, guild_id=1), "tale", MOD)
    await rig.narrator.close()
    rows = await rig.narrator.store.resumable()
    now = rig.clock.now()
    rows[0].next_due_at = now - 600  # the bot was down for ten minutes
    n = make_narrator(rig, pacing=PACE)
    one = n._catch_up_times(rows[:1])
    assert one == {rows[0].id: now}  # a single session: at once
    many = []  # 3,000 sessions fell due, one a second: spread over min_delay, first due first
    for i in range(3000):
        r = rows[0].copy()
        r.id, r.next_due_at = 10_000 + i, now - 3600 + i
        many.append(r)
    spread = n._catch_up_times(many)
    times = [spread[r.id] for r in many]
    assert times[0] == now and times[-1] <= now + PACE.min_delay and times[-1] - times[0] > 1.0
    assert times == sorted(times)
    await rig.db.close()
