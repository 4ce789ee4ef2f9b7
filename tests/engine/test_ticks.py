"""Due beats are served on a tick grid (the store's commit window): the sessions due in one tick
wake together, their intents share one commit, no beat leaves late, and a post still leaves
within the rate budget's margin of its slot however long the window is."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bot.engine.budget import EngineLimits
from bot.engine.pacing import Pacing
from bot.engine.stage import Place
from tests.engine.helpers import MOD, make_rig, simple_story

PACE = Pacing(min_delay=2.0, max_delay=3.0, first_beat_delay=2.0, breather=3.0, typing_words=10**9)


def count_commits(db: Any) -> list[int]:
    commits = [0]
    run = db.run

    async def counted(fn: Any) -> Any:
        commits[0] += 1
        return await run(fn)

    db.run = counted
    return commits


async def test_sessions_due_in_one_tick_post_together_on_the_grid_never_late(tmp_path: Path) -> None:
    tick = 0.05
    rig = await make_rig(tmp_path, [simple_story(scenes=1, beats=6)], pacing=PACE)
    rig.db.commit_window = tick  # as the bot opens it: the engine's tick is the store's window
    try:
        places = [Place(channel_id=500 + i, guild_id=1) for i in range(3)]
        for p in places:  # started 10 ms apart: due 10 ms apart, in the same tick
            await rig.narrator.start(p, "tale", MOD)
            await rig.advance(0.01)
        commits = count_commits(rig.db)
        rig.narrator.stats.sent_late.clear()
        posted0 = len(rig.stage.posts)
        await rig.advance(60)
        beats = [r for r in rig.stage.posts[posted0:] if r.beats]
        assert len(beats) == 3 * 6
        late = list(rig.narrator.stats.sent_late)
        assert late and max(late) <= 1e-9  # never after the beat was due
        assert min(late) >= -tick - 1e-9  # at most one tick before
        # Each beat left on the grid, with the other sessions' beats of its tick.
        instants = {round(r.mono / tick) for r in beats}
        assert all(abs(r.mono / tick - round(r.mono / tick)) < 1e-6 for r in beats)
        assert len(instants) <= 2 * len(beats) / 3  # (a tick's edge may fall between two sessions' due times)
        # One commit per tick carries its intents; the results follow after the window (here the
        # next tick is seconds of fake time away: live, they ride with the next tick's intents).
        assert commits[0] <= 2 * len(instants) + 3
    finally:
        await rig.narrator.close()
        await rig.db.close()


async def test_a_post_leaves_within_the_margin_of_its_slot_however_long_the_commit_window(tmp_path: Path) -> None:
    """The slot is taken before the intent commits; the intent does not wait for the window (a
    post that left one window after its slot was counted met a global 429 with a 50 ms window)."""
    rig = await make_rig(tmp_path, [simple_story(scenes=1, beats=3)], pacing=PACE)
    rig.db.commit_window = 1.0  # real seconds: an intent waiting for it would show
    taken: list[float] = []
    sent: list[float] = []
    budget = rig.narrator.backstage.gate.budget
    try_take = budget.try_take

    def timed(*args: Any, **kw: Any) -> float | None:
        got = try_take(*args, **kw)
        if got == 0.0:
            taken.append(time.monotonic())
        return got

    budget.try_take = timed  # type: ignore[method-assign]
    rig.stage.on_post = lambda _: sent.append(time.monotonic())
    try:
        await rig.narrator.start(Place(channel_id=700, guild_id=1), "tale", MOD)
        await rig.advance(30)
        assert len(sent) == 5 and len(taken) == 5  # the title card, three beats, the closing card
        assert max(s - t for s, t in zip(sent, taken, strict=True)) < EngineLimits().margin
    finally:
        await rig.narrator.close()
        await rig.db.close()


async def test_the_tick_is_the_largest_fraction_of_the_window_that_wakes_few_enough_sessions() -> None:
    import asyncio

    from bot.engine.backstage import TickTimers
    from bot.engine.clock import FakeClock

    clock = FakeClock()
    ticks = TickTimers(clock, lambda: 0.1)
    loop = asyncio.get_running_loop()

    async def one_second(per_tick: int, tick: float) -> list[asyncio.Future[object]]:
        futs: list[asyncio.Future[object]] = []
        for k in range(1, round(1 / tick) + 1):
            for _ in range(per_tick):
                futs.append(loop.create_future())
                ticks.wake_at(clock.monotonic() + k * tick, futs[-1])
        assert clock.pending() == round(1 / tick)  # one timer per tick, however many wait for it
        await clock.advance(1.0)
        return futs

    early = loop.create_future()
    early.set_result(None)  # woken early (a command): left alone at its tick
    ticks.wake_at(clock.monotonic() + 0.1, early)
    futs = await one_second(300, 0.1)  # 3,000 sessions due a second: 300 in a 0.1 s tick
    assert early.result() is None and all(f.result() is True for f in futs)
    await one_second(300, 0.1)
    assert ticks.scale == 1 / 4  # 75 per 25 ms tick (half would still be 150)
    for _ in range(2):  # (the rate is measured over the second before a tick: one of each rate)
        await one_second(40, 0.025)  # 1,600 a second: 80 per 50 ms
    assert ticks.scale == 1 / 2
    for _ in range(2):
        await one_second(2, 0.05)  # 40 a second: the whole window
    assert ticks.scale == 1.0


async def test_a_readers_step_is_committed_at_once_whatever_the_window(tmp_path: Path) -> None:
    """In manual mode the next ▶ waits for this post's result (the session's lock): it does not
    wait for the commit window (200 ms live), or every step would lag by it."""
    import asyncio

    from bot.engine.api import Actor

    rig = await make_rig(tmp_path, [simple_story(scenes=1, beats=6)], pacing=PACE)
    place = Place(channel_id=700, guild_id=1)
    try:
        await rig.narrator.start(place, "tale", MOD, mode="manual")
        await rig.advance(10)
        rig.db.commit_window = 30.0  # far longer than this test may take

        async def position() -> int:
            rows = await rig.db.fetchall("SELECT position FROM sessions WHERE channel_id = ?", (place.channel_id,))
            return int(rows[0][0])

        for _ in range(3):
            before = await position()
            last = rig.stage.posts[-1].message_id
            step = asyncio.ensure_future(rig.narrator.advance(place, Actor(42, "Reader"), message_id=last))
            await rig.advance(30)  # (fake time: the reading pace between two presses)
            assert (await asyncio.wait_for(step, 5.0)).advanced
            for _ in range(100):  # a few turns of the event loop, no real time
                if await position() != before:
                    break
                await asyncio.sleep(0)
            assert await position() == before + 1, "the step is committed without waiting for the window"
    finally:
        await rig.narrator.close()
        await rig.db.close()
