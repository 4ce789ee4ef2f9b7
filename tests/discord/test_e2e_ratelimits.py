"""End to end under Discord's REAL rate limits (the emulator's windows at full size): 20
channels in auto mode at a pace faster than Discord allows receive every beat, in order, with
zero 429 responses — the bot waits before a limit instead of reacting to 429s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.story.model import Story
from tests.discord.e2e import (
    SEED,
    assert_played_in_order,
    finished,
    make_bot,
    posted,
    running,
    seed_story,
    story_root,
)
from tests.discord.stories import short_story
from tests.emulator import Emulator
from tests.emulator.fixtures import BotProcess

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

CHANNELS = 20
# 34 beats + title + closing card: more than the 30 webhook posts a channel may make in a minute
STORY = short_story("rush", beats=34, scenes=2)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    emulator.ratelimits.scale = 1.0
    work = tmp_path_factory.mktemp("limits")
    async with running(make_bot(emulator, work, story_root(work, STORY, seed=True), time_scale=0.001)) as proc:
        yield proc


async def test_twenty_channels_at_full_speed_get_every_beat_with_zero_429s(
        bot: BotProcess, emulator: Emulator) -> None:
    await rush(emulator, STORY, "rush", timeout=150)


@pytest.mark.long
async def test_twenty_channels_play_the_whole_seed_under_real_limits(bot: BotProcess, emulator: Emulator) -> None:
    seed = seed_story()
    assert seed is not None, "story_data/precious-person must load: the seed ships with the bot"
    await rush(emulator, seed, SEED, timeout=600)


async def rush(emu: Emulator, story: Story, slug: str, *, timeout: float) -> None:  # noqa: ASYNC109
    channels = [emu.add_channel(emu.guild, f"{slug}-{n}") for n in range(CHANNELS)]
    limited_before = emu.stats.rate_limited
    started = time.monotonic()

    async def start(ch: object) -> None:
        i = await emu.invoke(emu.moderator, ch, "story", subcommand="start",  # type: ignore[arg-type]
                             options={"story": slug, "mode": "auto", "wpm": 100000})
        assert "Started" in await i.wait_reply()

    await asyncio.gather(*(start(ch) for ch in channels))
    await emu.wait_for(lambda: all(finished(emu, ch) for ch in channels), timeout,
                       what="every channel to reach The End")
    elapsed = time.monotonic() - started
    assert emu.stats.rate_limited == limited_before, emu.stats.rate_limited_requests[:5]
    for ch in channels:
        assert_played_in_order(emu, ch, story)
    per_channel = max(len(posted(emu, ch)) for ch in channels)
    print(f"\n{CHANNELS} channels x {per_channel} posts in {elapsed:.1f} s, 0 x 429")
    assert not any(m.pings_anyone for ch in channels for m in emu.messages(ch))
