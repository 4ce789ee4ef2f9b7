"""End to end through the real bot process (`python -m bot run`) and the loopback Discord:
stories played to the end by reactions, by buttons and in auto mode; moderator commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.discord.e2e import (
    assert_played_in_order,
    cards,
    continue_id,
    finished,
    make_bot,
    play_by_reactions,
    posted,
    seed_story,
    story_root,
)
from tests.discord.stories import short_story
from tests.emulator import Emulator
from tests.emulator.fixtures import BotProcess

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

RATE_SCALE = 0.05  # this module shrinks Discord's rate windows (emulator and bot alike)
SHORT = short_story("short-tale", beats=12, scenes=2)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    emulator.ratelimits.scale = RATE_SCALE
    work = tmp_path_factory.mktemp("play")
    proc = make_bot(emulator, work, story_root(work, SHORT, seed=True), rate_scale=RATE_SCALE)
    await proc.start()
    try:
        yield proc
    finally:
        if proc.running:
            assert await proc.stop() == 0
    assert not proc.secrets_in_log(), proc.secrets_in_log()


async def start(emu: Emulator, channel: object, story: str, mode: str = "manual", **opts: object) -> str:
    i = await emu.invoke(emu.moderator, channel, "story", subcommand="start",  # type: ignore[arg-type]
                         options={"story": story, "mode": mode, **opts})
    reply = await i.wait_reply()
    assert i.ephemeral
    return reply


async def test_short_story_manual_by_reactions(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "short-manual")
    reply = await start(emu, ch, "short-tale")
    assert "Started" in reply
    await play_by_reactions(emu, ch, emu.reader)
    msgs = posted(emu, ch)
    assert cards(msgs, "Short Tale") and msgs[0].embeds[0]["title"] == "Short Tale"
    assert cards(msgs, "The End") and msgs[-1] is cards(msgs, "The End")[0]
    assert_played_in_order(emu, ch, SHORT)
    assert all(not m.pings_anyone for m in emu.messages(ch))
    assert emu.stats.rate_limited == 0
