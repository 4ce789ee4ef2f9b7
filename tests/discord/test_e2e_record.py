"""End to end: the database refuses to record a beat Discord already delivered (the real bot
process against the loopback Discord; the fault is a write lock held on the bot's database file
by this test, which makes every write of the bot fail after its busy timeout, as a full disk does)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.discord.e2e import (
    assert_played_in_order,
    controls_message,
    finished,
    make_bot,
    posted,
    running,
    story_root,
)
from tests.discord.stories import short_story
from tests.emulator import Emulator
from tests.emulator.fixtures import BotProcess
from tests.emulator.state import StoredMessage

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

TALE = short_story("tale", beats=6, scenes=1)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    work = tmp_path_factory.mktemp("record")
    async with running(make_bot(emulator, work, story_root(work, TALE), time_scale=0.02)) as proc:
        yield proc


def notices(emu: Emulator, ch: object) -> list[StoredMessage]:
    return [m for m in posted(emu, ch) if m.webhook_id is None and "database" in m.content]  # type: ignore[arg-type]


async def test_a_beat_delivered_while_the_database_refuses_its_record_is_kept(
        bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "disk-full")
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="start", options={"story": "tale", "mode": "manual"})
    await i.wait_reply()
    first = await emu.wait_for(lambda: controls_message(emu, ch, set()), 20, what="the first beat with ▶")
    emu.webhook_response_delay = 3.0  # the message is in the channel at once; the bot hears back later
    lock: sqlite3.Connection | None = None
    try:
        await emu.react(emu.reader, first)

        def second_beat() -> StoredMessage | None:
            return next((m for m in posted(emu, ch) if m.id > first.id and m.webhook_id), None)

        second = await emu.wait_for(second_beat, 15, what="the second beat to be delivered")
        # the disk "fills" while the post is in flight: every write of the bot now fails
        lock = sqlite3.connect(bot.database_path, timeout=5, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        told = await emu.wait_for(lambda: notices(emu, ch), 30, what="moderators to hear of the fault")
        assert "paused" in told[0].content and "recorded" in told[0].content
        await asyncio.sleep(2)  # still failing: nothing reposted, nothing deleted
        assert not second.deleted and [m.id for m in posted(emu, ch) if m.webhook_id and m.id > first.id] == [second.id]
    finally:
        emu.webhook_response_delay = 0.0
        if lock is not None:
            lock.execute("ROLLBACK")
            lock.close()
    # the disk is freed: the moderator resumes (or the bot already went on by itself)
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="resume")
    await i.wait_reply()
    await emu.wait_for(lambda: len(notices(emu, ch)) >= 2, 40, what="the notice that the story goes on")
    assert "goes on" in notices(emu, ch)[1].content and "written again" in notices(emu, ch)[1].content and len(notices(emu, ch)) == 2
    # the delivered beat is still there, with the Continue readers need, and it works
    assert not second.deleted
    again = await emu.wait_for(lambda: controls_message(emu, ch, {first.id}), 20, what="▶ on the second beat")
    assert again.id == second.id and again.components
    await emu.react(emu.reader, second)
    third = await emu.wait_for(lambda: next((m for m in posted(emu, ch) if m.id > second.id and m.webhook_id),
                                            None), 20, what="the third beat")
    assert not third.deleted and not second.deleted


async def test_an_auto_story_waits_out_a_database_fault_and_goes_on_by_itself(
        bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "disk-full-auto")
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="start", options={"story": "tale", "wpm": 1000})
    await i.wait_reply()
    await emu.wait_for(lambda: len([m for m in posted(emu, ch) if m.webhook_id and not m.embeds]) >= 2, 20,
                       what="two beats")
    lock = sqlite3.connect(bot.database_path, timeout=5, isolation_level=None)
    try:
        lock.execute("BEGIN EXCLUSIVE")
        await emu.wait_for(lambda: notices(emu, ch), 30, what="moderators to hear of the fault")
        await asyncio.sleep(1)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    await emu.wait_for(lambda: finished(emu, ch), 60, what="the story to finish by itself")
    assert_played_in_order(emu, ch, TALE)
    assert [m for m in emu.messages(ch, include_deleted=True) if m.deleted] == []
    told = notices(emu, ch)
    assert len(told) == 2 and "paused" in told[0].content and "goes on" in told[1].content
