"""End to end: crashes, lost webhooks, missing permissions and Discord failures never lose or
repeat a beat (the real bot process against the loopback Discord)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.discord.e2e import (
    assert_played_in_order,
    controls_message,
    finished,
    make_bot,
    play_by_reactions,
    posted,
    running,
    story_root,
)
from tests.discord.stories import short_story
from tests.emulator import Emulator
from tests.emulator.fixtures import BotProcess
from tests.emulator.state import MANAGE_WEBHOOKS, StoredMessage

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

RATE_SCALE = 0.05
TALE = short_story("tale", beats=24, scenes=3)
SLOW_TIME = 0.02  # auto mode: ~0.04-0.4 s between beats, so a kill lands mid-story


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    emulator.ratelimits.scale = RATE_SCALE
    work = tmp_path_factory.mktemp("faults")
    # DEBUG logging on: not even debug lines may carry the bot, webhook or interaction tokens
    async with running(make_bot(emulator, work, story_root(work, TALE), time_scale=SLOW_TIME, rate_scale=RATE_SCALE,
                    LOG_LEVEL="DEBUG")) as proc:
        yield proc


async def start(emu: Emulator, channel: object, mode: str, **opts: object) -> str:
    i = await emu.invoke(emu.moderator, channel, "story", subcommand="start",  # type: ignore[arg-type]
                         options={"story": "tale", "mode": mode, **opts})
    return await i.wait_reply()


def beat_messages(emu: Emulator, ch: object) -> list[object]:
    return [m for m in posted(emu, ch) if m.webhook_id and not m.embeds]  # type: ignore[arg-type]


async def test_killed_mid_story_resumes_at_the_right_beat_without_repeats(
        bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    auto = emu.add_channel(emu.guild, "crash-auto")
    manual = emu.add_channel(emu.guild, "crash-manual")
    await start(emu, manual, "manual")
    await play_by_reactions(emu, manual, emu.reader, limit=5)
    await start(emu, auto, "auto", wpm=2000)
    await emu.wait_for(lambda: len(beat_messages(emu, auto)) >= 8, 30, what="8 auto beats")
    await bot.kill()
    crashed_at = len(beat_messages(emu, auto))
    assert not finished(emu, auto)
    hooks_before = {ch.id: [h.id for h in emu.channel_webhooks(ch)] for ch in (auto, manual)}
    # the database forgets the webhooks: the bot must find its own again (owner + name)
    with sqlite3.connect(bot.database_path) as db:
        db.execute("DELETE FROM webhooks")
    await bot.start()
    await emu.wait_for(lambda: finished(emu, auto), 60, what="the auto story to finish after the restart")
    assert len(beat_messages(emu, auto)) > crashed_at
    assert_played_in_order(emu, auto, TALE)
    # the manual session waits for readers again: ▶ on a message from before the crash works
    # (reactions come from raw events), and so do Continue buttons (persistent DynamicItem)
    assert await play_by_reactions(emu, manual, emu.reader, limit=1) == 1
    await play_by_reactions(emu, manual, emu.reader, button=True)
    assert_played_in_order(emu, manual, TALE)
    assert bot.returncodes[0] == -9
    assert {ch.id: [h.id for h in emu.channel_webhooks(ch)] for ch in (auto, manual)} == hooks_before
    await emu.wait_for(lambda: not any(m.components for m in posted(emu, manual)), 5,
                       what="no Continue button left after The End")



async def test_deleted_webhook_is_recreated_mid_story(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "lost-webhook")
    await start(emu, ch, "manual")
    await play_by_reactions(emu, ch, emu.reader, limit=3)
    (hook,) = emu.channel_webhooks(ch)
    await emu.delete_webhook(hook.id)
    await play_by_reactions(emu, ch, emu.reader)
    assert_played_in_order(emu, ch, TALE)
    hooks = emu.channel_webhooks(ch)
    assert len(hooks) == 1 and hooks[0].id != hook.id


async def test_without_manage_webhooks_the_bot_speaks_itself_and_says_so_once(
        bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "no-webhooks")
    await emu.set_bot_permissions(ch, deny=MANAGE_WEBHOOKS)
    await start(emu, ch, "manual")
    await play_by_reactions(emu, ch, emu.reader, limit=4)
    msgs = posted(emu, ch)
    assert not emu.channel_webhooks(ch)
    notices = [m for m in msgs if "Manage Webhooks" in m.content]
    assert len(notices) == 1
    voiced = [m for m in msgs if m.embeds and (m.embeds[0].get("author") or {}).get("name") == "Gaara"]
    assert voiced and all(m.author.id == emu.bot_user.id and m.webhook_id is None for m in voiced)
    # the story goes on; a second story in the same channel does not repeat the notice
    await play_by_reactions(emu, ch, emu.reader)
    await start(emu, ch, "auto", wpm=2000)
    await emu.wait_for(lambda: len([m for m in posted(emu, ch) if any(
        e.get("title") == "The End" for e in m.embeds)]) == 2, 60, what="the second story to end")
    assert len([m for m in posted(emu, ch) if "Manage Webhooks" in m.content]) == 1


async def test_discord_failures_do_not_lose_or_repeat_beats(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "flaky")
    await start(emu, ch, "auto", wpm=2000)
    await emu.wait_for(lambda: len(beat_messages(emu, ch)) >= 3, 30)
    outage = emu.fail("503", "POST /webhooks/{webhook_id}/{webhook_token}", count=2)
    await emu.wait_for(lambda: outage.remaining == 0, 30, what="both 503s to be served")
    emu.fail("timeout", "POST /webhooks/{webhook_id}/{webhook_token}", count=1, hang=1.0)
    await emu.wait_for(lambda: finished(emu, ch), 90, what="the story to finish despite failures")
    assert_played_in_order(emu, ch, TALE)


async def test_a_locked_thread_pauses_the_story_until_a_moderator_resumes(
        bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    parent = emu.add_channel(emu.guild, "locked-parent")
    thread = await emu.create_thread(parent, "locked side")
    await start(emu, thread, "manual")
    await play_by_reactions(emu, thread, emu.reader, limit=2)
    latest = await emu.wait_for(lambda: controls_message(emu, thread, set()), 10)
    await emu.set_thread_state(thread, locked=True)
    await emu.react(emu.moderator, latest)  # the next beat cannot be posted: the story pauses

    def notices() -> list[StoredMessage]:
        return [m for m in posted(emu, parent) if "paused" in m.content and "locked" in m.content]

    await emu.wait_for(lambda: bool(notices()), 30, what="the pause notice in the parent channel")
    status = await emu.invoke(emu.reader, thread, "story", subcommand="status")
    text = await status.wait_reply()
    assert "paused" in text and "locked" in text, text
    assert len(notices()) == 1 and f"<#{thread.id}>" in notices()[0].content
    await emu.set_thread_state(thread, locked=False)
    i = await emu.invoke(emu.moderator, thread, "story", subcommand="resume")
    assert "Resumed" in await i.wait_reply()
    await play_by_reactions(emu, thread, emu.reader)
    assert_played_in_order(emu, thread, TALE)


async def test_a_channel_full_of_webhooks_falls_back_and_says_why(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "full-of-webhooks")
    for n in range(emu.max_webhooks_per_channel):
        emu.add_webhook(ch, f"someone else's {n}")
    await start(emu, ch, "manual")
    await play_by_reactions(emu, ch, emu.reader, limit=2)
    notices = [m for m in posted(emu, ch) if "as many webhooks as Discord allows" in m.content]
    assert len(notices) == 1
    assert any((m.embeds[0].get("author") or {}).get("name") == "Gaara" for m in posted(emu, ch) if m.embeds)
