"""End to end: no reader can make the bot post a working link, a control character or an
over-long reply; moderators hear of every pause, not only the first one per process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.discord.e2e import controls_message, make_bot, play_by_reactions, posted, running, story_root
from tests.discord.stories import short_story
from tests.emulator import Emulator
from tests.emulator.fixtures import BotProcess
from tests.emulator.state import StoredMessage

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

RATE_SCALE = 0.05
TALE = short_story("tale", beats=12, scenes=2)
SUPPRESS_EMBEDS = 1 << 2
LINKS = ("https://", "http://", "discord.gg/", "evil.example", "www.evil.example")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    emulator.ratelimits.scale = RATE_SCALE
    work = tmp_path_factory.mktemp("safety")
    async with running(make_bot(emulator, work, story_root(work, TALE), rate_scale=RATE_SCALE)) as proc:
        yield proc


async def start(emu: Emulator, channel: object, mode: str) -> None:
    i = await emu.invoke(emu.moderator, channel, "story", subcommand="start",  # type: ignore[arg-type]
                         options={"story": "tale", "mode": mode})
    await i.wait_reply()


def _answers(emu: Emulator, ch: object) -> list[StoredMessage]:
    return [m for m in posted(emu, ch) if m.name == "Gaara" and "answering" in m.content]  # type: ignore[arg-type]


async def test_ask_echoes_no_working_link_no_embed_and_no_control_character(
        bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "phishing")
    await start(emu, ch, "manual")
    await play_by_reactions(emu, ch, emu.reader, limit=3)
    asker = emu.add_member(emu.guild, "visit www.evil.example/free")
    q = ("were you told https://evil.example/login or [free nitro](http://evil.example/n) "
         "or discord.gg/evilcode\x00\x07\x1b[31m\u202e ok?")
    i = await emu.invoke(asker, ch, "ask", options={"character": "gaara", "question": q})
    reply = await i.wait_reply()
    answer = await emu.wait_for(lambda: _answers(emu, ch)[-1] if _answers(emu, ch) else None, 15,
                                what=f"Gaara's answer (bot said {reply!r})")
    text = answer.content
    assert "evil" in text  # the question is echoed (as text) ...
    for link in LINKS:
        assert link not in text, (link, text)  # ... but nothing in it is a link Discord would follow
    assert not any(c in text for c in "\x00\x07\x1b\u202e"), repr(text)
    assert answer.flags & SUPPRESS_EMBEDS, "a message carrying a reader's words must suppress link embeds"
    assert not answer.embeds
    assert all(link not in reply for link in LINKS)


async def test_a_refusal_quoting_a_3000_character_name_is_still_delivered(
        bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "long-names")
    await start(emu, ch, "manual")
    name = "Gaara-imposter " * 200  # 3,000 characters
    i = await emu.invoke(emu.reader, ch, "ask", options={"character": name, "question": "hello?"})
    reply = await i.wait_reply()
    assert "is not in" in reply and len(reply) <= 2000
    assert i.ephemeral


async def test_the_same_failure_after_a_resume_is_told_again(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    parent = emu.add_channel(emu.guild, "twice-locked")
    thread = await emu.create_thread(parent, "locked twice")
    await start(emu, thread, "manual")
    await play_by_reactions(emu, thread, emu.reader, limit=1)
    await emu.wait_for(lambda: controls_message(emu, thread, set()), 10)
    await emu.set_thread_state(thread, locked=True)

    def notices() -> list[StoredMessage]:
        return [m for m in posted(emu, parent) if "paused" in m.content and "locked" in m.content]

    i = await emu.invoke(emu.moderator, thread, "story", subcommand="next")
    await i.wait_reply()
    await emu.wait_for(lambda: len(notices()) == 1, 30, what="the first pause notice")
    # a moderator resumes before fixing it: the same failure is a new incident, told again
    i = await emu.invoke(emu.moderator, thread, "story", subcommand="resume")
    assert "Resumed" in await i.wait_reply()
    i = await emu.invoke(emu.moderator, thread, "story", subcommand="next")
    await i.wait_reply()
    await emu.wait_for(lambda: len(notices()) == 2, 30, what="the second pause notice")
    await emu.set_thread_state(thread, locked=False)
    i = await emu.invoke(emu.moderator, thread, "story", subcommand="resume")
    assert "Resumed" in await i.wait_reply()
