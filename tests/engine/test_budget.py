"""The rate budget: sliding windows, fair sharing, never over the limit, merging when behind."""

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from bot.engine.budget import BudgetGate, EngineLimits, RateBudget, RateWindow
from bot.engine.clock import FakeClock
from bot.engine.pacing import Pacing
from bot.engine.stage import Place
from tests.engine.helpers import MOD, PLACE, beats_posted, make_narrator, make_rig, make_story


def test_window_slides() -> None:
    w = RateWindow(3, 10.0)
    for t in (0.0, 1.0, 2.0):
        assert w.wait(t) == 0
        w.take(t)
    assert w.wait(5.0) == pytest.approx(5.0)  # the oldest leaves at 10.0
    assert w.wait(10.0) == 0


def test_a_window_kept_longer_than_its_span_counts_and_waits_over_its_span() -> None:
    """The global window keeps its times span + margin long (one deque for the window and the
    margin's guard): what it counts and its own wait still cover only its span; `kept_wait`
    covers the kept span."""
    w = RateWindow(2, 1.0, keep=1.05)
    w.take(0.0)
    w.take(0.9)
    assert w.count(0.95) == 2 and w.wait(0.95) == pytest.approx(0.05)  # both in its second
    assert w.kept_wait(0.95) == pytest.approx(0.1)
    assert w.count(1.02) == 1 and w.wait(1.02) == 0.0  # 0.0 left its second: one more fits it...
    assert w.kept_wait(1.02) == pytest.approx(0.03)  # ...but not the kept span yet
    assert w.count(1.06) == 1 and w.kept_wait(1.06) == 0.0 and len(w.times) == 1  # 0.0 forgotten
    b = RateBudget(EngineLimits(margin=0.05, global_requests=2))
    assert b.try_take(1, 1, 0.0) == 0.0 and b.try_take(2, 2, 0.9) == 0.0
    assert b.global_wait(0.95) == pytest.approx(0.05 + 0.05)  # full: the window's wait plus the margin
    assert b.global_wait(1.02) == pytest.approx(0.03) and b.try_take(3, 3, 1.02) is None
    assert b.try_take(3, 3, 1.0501) == 0.0 and b.global_window.count(1.0501) == 2


def test_try_take_is_local_wait_global_wait_and_take_in_one() -> None:
    b = RateBudget(EngineLimits(margin=0.05, global_requests=3))
    assert b.try_take(1, 1, 0.0, in_turn=False) is None  # others are waiting first: nothing taken
    assert b.global_window.count(0.0) == 0
    for ch in (1, 2, 3):
        assert b.try_take(ch, ch, 0.0) == 0.0
    assert b.try_take(4, 4, 0.1) is None  # only the global window is full
    wide = RateBudget(EngineLimits(margin=0.05))
    for i in range(5):  # five channels through one webhook (a parent's threads)
        assert wide.try_take(10 + i, 9, i * 0.1) == 0.0
    assert wide.try_take(20, 9, 0.5) == pytest.approx(2.0 - 0.5 + 0.05)  # 5 per 2 s, plus the margin
    assert wide.global_window.count(0.5) == 5  # a refused post takes nothing


def test_budget_limits_channel_webhook_and_global() -> None:
    b = RateBudget(EngineLimits(margin=0.0))
    for i in range(5):
        assert b.local_wait(1, 1, 0.0) == 0
        b.take(1, 1, i * 0.01)
    assert b.local_wait(1, 1, 0.1) == pytest.approx(1.9)  # 5 per 2 s per webhook
    assert b.local_wait(2, 2, 0.1) == 0  # another channel has its own webhook
    assert b.local_wait(3, 1, 0.1) > 0  # a thread of channel 1 shares its parent's webhook
    b2 = RateBudget(EngineLimits(margin=0.0))
    for i in range(30):
        b2.take(7, 7, i * 2.0)
    assert b2.local_wait(7, 7, 60.0) == 0  # first post left the 60 s window
    b2.take(7, 7, 60.0)
    assert b2.local_wait(7, 7, 61.0) == pytest.approx(1.0)
    b3 = RateBudget(EngineLimits(margin=0.0))
    for ch in range(50):
        b3.take(ch, ch, 0.5)
    assert b3.global_wait(0.9) == pytest.approx(0.6)


async def test_gate_serves_channels_round_robin() -> None:
    clock = FakeClock()
    gate = BudgetGate(RateBudget(EngineLimits(global_requests=3, channel_posts=10**6, webhook_posts=10**6)), clock)
    served: list[int] = []

    async def channel(ch: int) -> None:
        while True:
            g = gate.request(ch, ch)
            if isinstance(g, float):
                if g > 0:
                    await clock.sleep(g)
                    continue
            elif not await g:
                continue
            served.append(ch)

    tasks = [asyncio.create_task(channel(c)) for c in (1, 2, 3, 4, 5)]
    await clock.advance(20)
    first = Counter(served)
    await clock.advance(20)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    later = Counter(served) - first
    # Whoever came first got the initial burst; from then on every channel gets the same share.
    assert max(later.values()) - min(later.values()) <= 1, later
    assert len(served) >= 3 * 40 * 0.95  # the budget is used, not wasted


def _long_story(beats: int, words: int = 12, slug: str = "long") -> object:
    text = " ".join(["word"] * (words - 1)) + " end."
    return make_story([[("narration", f"{i}: {text}", None) for i in range(beats)]], slug=slug)


async def test_many_sessions_over_the_global_budget(tmp_path: Path) -> None:
    limits = EngineLimits(global_requests=10)
    story = _long_story(40)
    rig = await make_rig(tmp_path, [story], limits=limits)  # type: ignore[list-item]
    places = [Place(channel_id=500 + i, guild_id=1) for i in range(80)]
    for p in places:
        await rig.narrator.start(p, "long", MOD)
    await rig.advance(60)
    assert rig.stage.violations(limits) == []
    # 80 sessions want ~16 posts/s against 10/s: the budget is used (almost) fully ...
    in_window = [r for r in rig.stage.posts if r.mono - 1000.0 <= 59.0]
    assert len(in_window) >= 0.95 * 10 * 59
    # ... shared fairly ...
    per = Counter(r.channel_id for r in rig.stage.posts)
    assert max(per.values()) - min(per.values()) <= 3, per
    # ... and channels that fell behind merge narration instead of queueing it
    merged = [r for r in rig.stage.posts if r.beats and r.beats[1] > r.beats[0]]
    assert merged and all(len(r.content) <= 1900 for r in merged)
    await rig.advance(600)
    for p in places:
        assert beats_posted(rig.stage, p.channel_id) == list(range(40))
    assert rig.stage.violations(limits) == []
    await rig.narrator.close()
    await rig.db.close()


async def test_channel_and_webhook_limits_with_a_thread(tmp_path: Path) -> None:
    limits = EngineLimits()
    story = _long_story(80, words=40)
    rig = await make_rig(tmp_path, [story], limits=limits, pacing=Pacing.instant())  # type: ignore[list-item]
    parent = Place(channel_id=10, guild_id=1)
    thread = Place(channel_id=11, guild_id=1, parent_id=10)
    await rig.narrator.start(parent, "long", MOD)
    await rig.narrator.start(thread, "long", MOD)
    await rig.advance(30)
    assert rig.stage.violations(limits) == []
    first_2s = [r for r in rig.stage.posts if r.mono - 1000.0 < 2.0]
    assert len(first_2s) == 5  # the shared webhook: 5 per 2 s for parent and thread together
    await rig.advance(600)
    assert beats_posted(rig.stage, 10) == list(range(80))
    assert beats_posted(rig.stage, 11) == list(range(80))
    assert rig.stage.violations(limits) == []
    merged = [r for r in rig.stage.posts if r.beats and r.beats[1] > r.beats[0]]
    assert merged, "instant pacing outruns the webhook limit, so narration merges"
    assert all(len(r.content) <= 1900 for r in rig.stage.posts)
    await rig.narrator.close()
    await rig.db.close()


async def test_a_long_beat_arrives_whole_in_several_messages_and_uses_their_budget(tmp_path: Path) -> None:
    from bot.engine.recording import RecordingStage

    huge = " ".join(f"Sentence number {i} goes on." for i in range(150))  # ~4,200 characters
    story = make_story([[("narration", "Short opening.", None), ("narration", huge, None),
                         ("narration", "After it.", None)]])
    rig = await make_rig(tmp_path, [story])
    await rig.narrator.close()
    rig.stage = RecordingStage(clock=rig.clock, split_at=2000)
    rig.narrator = make_narrator(rig, limits=EngineLimits(channel_posts=3, channel_window=60.0))
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(30)
    recs = rig.stage.transcript(PLACE.channel_id)
    long_parts = [r for r in recs if r.beats == (1, 1)]
    assert len(long_parts) == 3 and all(len(r.content) <= 2000 for r in long_parts)
    assert " ".join(r.content for r in long_parts).split() == huge.split()  # every word, in order
    # title + beat 0 + 3 parts = 5 messages > 3 per minute: beat 2 waits for the window
    assert [r.beats for r in recs].count((2, 2)) == 0
    await rig.advance(60)
    after = [r for r in rig.stage.transcript(PLACE.channel_id) if r.beats == (2, 2)]
    assert len(after) == 1 and after[0].created_at - long_parts[-1].created_at >= 59
    await rig.narrator.close()
    await rig.db.close()


def test_a_post_counts_from_when_it_leaves_not_from_its_grant() -> None:
    # The stage may need to look up or create the webhook between grant and send; Discord's
    # window starts when the post arrives, so the budget moves the post's time to the send.
    b = RateBudget(EngineLimits(margin=0.0, webhook_posts=1, webhook_window=2.0))
    b.take(1, 1, 0.0)
    assert b.local_wait(1, 1, 1.0) == pytest.approx(1.0)
    b.restamp(1, 1, 0.7)
    assert b.local_wait(1, 1, 1.0) == pytest.approx(1.7)
    b.restamp(1, 1, 0.2)  # never earlier
    assert b.local_wait(1, 1, 1.0) == pytest.approx(1.7)


def test_a_slot_taken_as_the_global_window_frees_keeps_the_margin_too() -> None:
    limits = EngineLimits()
    budget = RateBudget(limits)
    for i in range(limits.global_requests):  # a full second of posts, each in its own channel
        assert budget.try_take(i, i, 0.0) == 0.0
    edge = limits.global_window
    # the window frees at `edge`, but a post taken then leaves later than its slot: not yet
    assert budget.try_take(999, 999, edge + limits.margin / 2) is None
    assert 0 < budget.global_wait(edge + limits.margin / 2) <= limits.margin
    assert budget.try_take(999, 999, edge + limits.margin + 1e-6) == 0.0
