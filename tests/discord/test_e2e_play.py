"""End to end through the real bot process (`python -m bot run`) and the loopback Discord:
stories played to the end by reactions, by buttons and in auto mode; moderator commands."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.story.model import Character
from tests.discord.e2e import (
    SEED,
    assert_played_in_order,
    cards,
    controls_message,
    finished,
    make_bot,
    message_text,
    play_by_reactions,
    posted,
    press,
    running,
    seed_story,
    story_root,
)
from tests.discord.stories import make_story, short_story
from tests.emulator import Emulator
from tests.emulator.fixtures import BotProcess
from tests.emulator.state import StoredMessage

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

RATE_SCALE = 0.05  # this module shrinks Discord's rate windows (emulator and bot alike)
SHORT = short_story("short-tale", beats=12, scenes=2)
LONGER = short_story("three-parts", beats=18, scenes=3)
CROWD = tuple(Character(key=f"villager-{n:02d}", name=f"Villager {n:02d}",
                        persona=f"Villager number {n}, see https://example.com/v{n} for more.")
              for n in range(1, 24))  # 23 characters: three pages of ten


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    emulator.ratelimits.scale = RATE_SCALE
    work = tmp_path_factory.mktemp("play")
    emu = emulator
    pings = f"@everyone @here <@&{emu.mod_role.id}> <@{emu.reader.id}>"
    mentions = make_story("mentions", [[
        (None, "narration", f"A crowd gathered. {pings} all looked up."),
        ("gaara", "dialogue", f"“Listen, {pings}!” Gaara said."),
        ("clyde", "dialogue", "“My name is hard to say,” Clyde said."),
    ]])
    crowd = make_story("crowd", [[(None, "narration", "A crowd gathered in the square.")]], cast=CROWD)
    async with running(make_bot(emulator, work, story_root(work, SHORT, LONGER, mentions, crowd, seed=True),
                                rate_scale=RATE_SCALE)) as proc:
        yield proc


async def start(emu: Emulator, channel: object, story: str, mode: str = "manual", **opts: object) -> str:
    i = await emu.invoke(emu.moderator, channel, "story", subcommand="start",  # type: ignore[arg-type]
                         options={"story": story, "mode": mode, **opts})
    reply = await i.wait_reply()
    assert i.ephemeral
    assert i.response_delay is not None and i.response_delay < 3.0, "answered within Discord's 3 s"
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


async def test_seed_story_manual_by_reactions_every_line_under_the_right_name(
        bot: BotProcess, emulator: Emulator) -> None:
    seed = seed_story()
    assert seed is not None, "story_data/precious-person must load: the seed ships with the bot"
    emu = emulator
    ch = emu.add_channel(emu.guild, "seed-manual")
    await start(emu, ch, SEED)
    presses = await play_by_reactions(emu, ch, emu.reader)
    msgs = posted(emu, ch)
    title = msgs[0].embeds[0]
    assert title["title"] == seed.title
    fields = {f["name"]: f["value"] for f in title.get("fields", [])}
    if seed.content_warnings:
        assert all(w in fields.get("Content warnings", "") for w in seed.content_warnings)
    assert cards(msgs, "The End")[0] is msgs[-1]
    assert presses >= len([b for b in seed.iter_playable()]) // 2
    assert_played_in_order(emu, ch, seed)
    # thoughts arrive in italics, speech tags as subtext under the line
    thoughts = [b for b in seed.iter_playable() if b.kind == "thought" and b.speaker]
    if thoughts:
        assert any(m.content.startswith("*") for m in msgs if m.webhook_id and m.name != "Narrator")
    assert any("\n-# " in m.content for m in msgs)
    assert not any(m.pings_anyone for m in emu.messages(ch))
    # the real story's opening, through the webhook under the right names
    spoken = [(m.name, m.content) for m in msgs if m.webhook_id and not m.embeds]
    assert spoken[0][0] == "Narrator"
    assert spoken[0][1].split("\n")[-1].startswith("Lee and Gaara sat against two trees")
    assert spoken[1][0] == "Gaara" and spoken[1][1].startswith("It was sheer luck, I should have been killed.")
    assert spoken[2][0] == "Rock Lee" and spoken[2][1].startswith("No it was not meant to be")
    # the climax under the right names; Shukaku's voice in italics; the author's note not played
    assert any(n == "Gaara" and "Because you are my first and only friend" in c for n, c in spoken)
    assert any(n == "Naruto Uzumaki" and c.startswith("Thank you Gaara.") for n, c in spoken)
    assert [c[:8] for n, c in spoken if n == "Shukaku"] == ["*Hehehe,"]
    assert not any("Now this is the last we see" in c for _, c in spoken)


async def test_seed_story_auto_mode_at_a_sped_up_pace(bot: BotProcess, emulator: Emulator) -> None:
    seed = seed_story()
    assert seed is not None, "story_data/precious-person must load: the seed ships with the bot"
    emu = emulator
    ch = emu.add_channel(emu.guild, "seed-auto")
    await start(emu, ch, SEED, mode="auto", wpm=100000)
    await emu.wait_for(lambda: finished(emu, ch), 90, what="the seed to finish in auto mode")
    assert_played_in_order(emu, ch, seed)
    assert not any(m.components for m in posted(emu, ch)), "auto mode shows no Continue buttons"


async def test_continue_button_reader_next_and_refusals(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "buttons")
    await start(emu, ch, "three-parts")
    seen: set[int] = set()
    assert await press(emu, ch, emu.reader, seen, button=True)
    assert await press(emu, ch, emu.reader, seen, button=True)
    await emu.wait_for(lambda: controls_message(emu, ch, seen), 10, what="the third beat, ready")
    before = len(posted(emu, ch))
    # a reader may use /story next in manual mode
    i = await emu.invoke(emu.reader, ch, "story", subcommand="next")
    await i.wait_reply()
    await emu.wait_for(lambda: len(posted(emu, ch)) > before, 10, what="the reader's /story next")
    # only the newest beat carries the button
    await emu.wait_for(lambda: sum(1 for m in posted(emu, ch) if m.components) == 1, 10,
                       what="old Continue buttons to be removed")
    # a reader may not pause; a moderator may
    i = await emu.invoke(emu.reader, ch, "story", subcommand="pause")
    assert "Only moderators" in await i.wait_reply() and i.ephemeral
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="pause")
    assert "Paused" in await i.wait_reply()
    i = await emu.invoke(emu.reader, ch, "story", subcommand="status")
    text = await i.wait_reply()
    assert i.ephemeral and "paused" in text and "Three Parts" in text and "Scene" in text
    # ▶ while paused does nothing
    n = len(posted(emu, ch))
    i = await emu.invoke(emu.reader, ch, "story", subcommand="next")
    assert "paused" in (await i.wait_reply()).lower()
    assert len(posted(emu, ch)) == n
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="resume")
    assert "Resumed" in await i.wait_reply()
    i = await emu.invoke(emu.reader, ch, "story", subcommand="recap")
    recap = await i.wait_reply()
    assert "Recap" in recap and "Line 1, Lee" in recap
    assert "Line 5" not in recap  # nothing beyond the current beat
    for sub, opts in (("resume", {}), ("rewind", {"beats": 1}), ("jump", {"scene": 2}), ("stop", {}),
                      ("start", {"story": "short-tale"}), ("pace", {"wpm": 300})):
        i = await emu.invoke(emu.reader, ch, "story", subcommand=sub, options=opts)
        assert "Only moderators" in await i.wait_reply(), sub
        assert i.ephemeral
        assert i.response_delay is not None and i.response_delay < 3.0


async def test_moderator_rewind_deletes_later_messages_and_jump(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "rewind")
    await start(emu, ch, "three-parts")
    await play_by_reactions(emu, ch, emu.reader, limit=4)
    await emu.wait_for(lambda: len([m for m in posted(emu, ch) if m.webhook_id]) >= 6, 10)
    beats_before = [m for m in posted(emu, ch) if not m.embeds]
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="rewind", options={"beats": 2})
    assert "Rewound" in await i.wait_reply()
    await emu.wait_for(lambda: sum(1 for m in emu.messages(ch, include_deleted=True) if m.deleted) >= 2, 10,
                       what="the rewound messages to be deleted")
    gone = [m for m in emu.messages(ch, include_deleted=True) if m.deleted]
    assert {m.id for m in gone} == {m.id for m in beats_before[-2:]}
    # jump to scene 3: the next beat is the first of scene 3
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="jump", options={"scene": 3})
    assert "Jumped" in await i.wait_reply()
    first_of_3 = LONGER.scenes[2].beats[0]
    await play_by_reactions(emu, ch, emu.reader, limit=1)
    await emu.wait_for(lambda: any("dune number 12" in m.content or "line 12" in m.content.lower()
                                   for m in posted(emu, ch)), 10, what=f"beat {first_of_3.index}")
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="stop")
    assert "Stopped" in await i.wait_reply()
    i = await emu.invoke(emu.reader, ch, "story", subcommand="status")
    assert "stopped" in (await i.wait_reply()).lower()
    await emu.wait_for(lambda: not any(m.components for m in posted(emu, ch)), 5,
                       what="the Continue button to go when the story stops")


async def test_mentions_in_story_lines_and_questions_ping_nobody(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "mentions")
    await start(emu, ch, "mentions")
    await play_by_reactions(emu, ch, emu.reader)
    q = f"@everyone <@&{emu.mod_role.id}> <@{emu.reader.id}> what did you say?"
    i = await emu.invoke(emu.reader, ch, "ask", options={"character": "gaara", "question": q})
    reply = await i.wait_reply()
    assert i.ephemeral
    await emu.wait_for(lambda: any(m.name == "Gaara" and "answering" in m.content for m in posted(emu, ch)), 10,
                       what=f"Gaara's answer (bot said {reply!r})")
    msgs = emu.messages(ch)
    assert any("@everyone" in message_text(m) for m in msgs)
    assert not [m.id for m in msgs if m.pings_anyone]
    sends = [r for r in emu.requests
             if r.method in ("POST", "PATCH") and r.route and ("/webhooks/" in r.route or "/messages" in r.route)
             and isinstance(r.json, dict) and str(ch.id) in (r.path + str(r.query) + str(r.json.get("channel_id")))]
    for r in [r for r in emu.requests if r.method in ("POST", "PATCH") and r.route and (
            r.route.startswith("POST /webhooks/{webhook_id}/{webhook_token}")
            or r.route.startswith("PATCH /webhooks/{webhook_id}/{webhook_token}/messages")
            or r.route.startswith("POST /channels/{channel_id}/messages")
            or r.route.startswith("POST /interactions/"))]:
        body = r.json if isinstance(r.json, dict) else {}
        data = body.get("data", body) if r.route.startswith("POST /interactions/") else body
        if isinstance(data, dict) and ("content" in data or "embeds" in data):
            assert data.get("allowed_mentions") == {"parse": []}, (r.route, data.get("allowed_mentions"))
    assert sends is not None
    # the cast name Discord forbids still arrives, made safe
    clyde = [m for m in posted(emu, ch) if m.content.startswith("My name")]
    assert clyde and "clyde" not in clyde[0].name.casefold() and clyde[0].name.replace("\u200b", "") == "Clyde Discord"


async def test_thread_session_beside_its_parent(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    parent = emu.add_channel(emu.guild, "parent")
    await emu.wait_for(lambda: True, 1)
    thread = await emu.create_thread(parent, "side story")
    await start(emu, parent, "short-tale")
    await start(emu, thread, "three-parts")
    import asyncio

    await asyncio.gather(play_by_reactions(emu, parent, emu.reader),
                         play_by_reactions(emu, thread, emu.moderator))
    assert_played_in_order(emu, parent, SHORT)
    assert_played_in_order(emu, thread, LONGER)
    assert len(emu.channel_webhooks(parent)) == 1, "the thread posts through its parent's webhook"
    assert not emu.channel_webhooks(thread)


async def test_reader_commands_list_characters_and_autocomplete(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    i = await emu.invoke(emu.reader, emu.channel, "story", subcommand="list")
    text = await i.wait_reply()
    assert "Short Tale" in text and "short-tale" in text and i.ephemeral
    i = await emu.invoke(emu.reader, emu.channel, "story", subcommand="characters", options={"story": "short-tale"})
    text = await i.wait_reply()
    assert "Gaara" in text and "Rock Lee" in text and "quiet boy" in text
    i = await emu.autocomplete(emu.moderator, emu.channel, "story", subcommand="start", focused="story", value="thr")
    await i.wait_response()
    assert [c["value"] for c in i.choices] == ["three-parts"]
    i = await emu.invoke(emu.reader, emu.channel, "story", subcommand="status")
    assert "No story is playing" in await i.wait_reply()
    i = await emu.invoke(emu.reader, emu.channel, "ask", options={"character": "gaara", "question": "hi?"})
    assert "No story is playing" in await i.wait_reply()


async def test_a_long_cast_is_paged_with_buttons_that_turn_the_page(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    i = await emu.invoke(emu.reader, emu.channel, "story", subcommand="characters", options={"story": "crowd"})
    text = await i.wait_reply()
    msg = i.original
    assert msg is not None and i.ephemeral
    names = [e["author"]["name"] for e in msg.embeds]
    assert names == [f"Villager {n:02d}" for n in range(1, 11)], "ten a page, in the story's order"
    assert "1–10 of 23 (page 1 of 3)" in text
    assert "Villager number 1, see" in text and "https://example.com" not in text, "a persona's link is defused"

    def page_buttons() -> tuple[dict[str, object], dict[str, object]]:
        assert msg is not None
        buttons = [c for row in msg.components for c in row["components"]]
        return (next(c for c in buttons if c["custom_id"].startswith("cast:p:")),
                next(c for c in buttons if c["custom_id"].startswith("cast:n:")))

    prev, nxt = page_buttons()
    assert prev.get("disabled") and not nxt.get("disabled"), "no page before the first"
    for page, first in ((2, 11), (3, 21)):
        turn = await emu.press_button(emu.reader, msg, str(nxt["custom_id"]))
        await turn.wait_response()
        assert turn.response_type == 7, "the same message turns its page"
        names = [e["author"]["name"] for e in msg.embeds]
        assert names[0] == f"Villager {first:02d}" and f"(page {page} of 3)" in msg.content
        prev, nxt = page_buttons()
    assert len(names) == 3 and nxt.get("disabled") and not prev.get("disabled"), "no page after the last"
    turn = await emu.press_button(emu.reader, msg, str(prev["custom_id"]))
    await turn.wait_response()
    assert "(page 2 of 3)" in msg.content


async def test_vote_mode_needs_two_readers_and_bots_do_not_vote(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "vote")
    other_bot = emu.add_member(emu.guild, "other-bot", bot=True)
    second = emu.add_member(emu.guild, "second-reader")
    await start(emu, ch, "short-tale", mode="vote")
    first = await emu.wait_for(lambda: controls_message(emu, ch, set()), 10, what="the first beat")
    count = len(posted(emu, ch))
    i = await emu.press_button(emu.reader, first, continue_id_of(first))
    await i.wait_response()
    await emu.wait_for(lambda: "1/2" in i.text, 5, what=f"the vote count reply (got {i.text!r})")
    assert i.ephemeral or i.response_type == 6
    await emu.react(other_bot, first)
    i = await emu.invoke(emu.reader, ch, "story", subcommand="status")
    assert "(1/2 votes)" in await i.wait_reply(), "a bot's ▶ is not a vote"
    assert len(posted(emu, ch)) == count, "one reader (and a bot) is not enough"
    await emu.react(second, first, "▶️")  # the emoji-presentation form most clients send
    await emu.wait_for(lambda: len(posted(emu, ch)) > count, 10, what="the second vote to move the story on")


def continue_id_of(m: object) -> str:
    from tests.discord.e2e import continue_id

    return continue_id(m)  # type: ignore[arg-type]


async def test_config_mod_role_and_ask_switch(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "config")
    narrators = emu.add_role(emu.guild, "Story keepers")
    keeper = emu.add_member(emu.guild, "keeper", roles=[narrators])
    owner = emu.guilds[emu.guild.id].members[emu.owner.id]
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="config", options={"mod_role": narrators})
    assert "Manage Server" in await i.wait_reply()
    i = await emu.invoke(keeper, ch, "story", subcommand="pause")
    assert "Only moderators" in await i.wait_reply()
    i = await emu.invoke(owner, ch, "story", subcommand="config", options={"mod_role": narrators})
    assert "moderator role is now" in await i.wait_reply()
    await start(emu, ch, "short-tale")
    i = await emu.invoke(keeper, ch, "story", subcommand="pause")
    assert "Paused" in await i.wait_reply()
    i = await emu.invoke(keeper, ch, "story", subcommand="config", options={"ask": "off"})
    assert "/ask is off" in await i.wait_reply()
    i = await emu.invoke(emu.reader, ch, "ask", options={"character": "gaara", "question": "Are you well?"})
    assert "turned off" in await i.wait_reply()
    i = await emu.invoke(keeper, ch, "story", subcommand="config", options={"ask": "on"})
    await i.wait_reply()
    asker = emu.add_member(emu.guild, "asker")  # /ask has a per-reader cooldown
    i = await emu.invoke(asker, ch, "ask", options={"character": "lee", "question": "Are you well?"})
    await i.wait_reply(timeout=15)
    await emu.wait_for(lambda: any(m.name == "Rock Lee" and "answering asker" in m.content
                                   for m in posted(emu, ch)), 10, what=f"Lee's answer ({i.text!r})")
    i = await emu.autocomplete(emu.reader, ch, "ask", focused="character", value="ro")
    await i.wait_response()
    assert [c["value"] for c in i.choices] == ["lee"]


async def test_rewind_can_mark_instead_of_delete_and_gateway_drop_is_survived(
        bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "mark")
    await start(emu, ch, "short-tale")
    await play_by_reactions(emu, ch, emu.reader, limit=3)
    await emu.wait_for(lambda: controls_message(emu, ch, set()), 10)
    last = posted(emu, ch)[-1]
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="rewind", options={"beats": 1, "tidy": "mark"})
    assert "Rewound" in await i.wait_reply()
    await emu.wait_for(lambda: bool(last.edits) and not last.deleted, 10, what="the rewound beat to be marked")
    assert not last.deleted
    await emu.drop_gateway()
    await play_by_reactions(emu, ch, emu.reader, timeout=30)
    assert finished(emu, ch)


async def test_config_tidy_sets_how_rewinds_fix_this_channel(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "tidy")
    i = await emu.invoke(emu.reader, ch, "story", subcommand="config", options={"tidy": "mark"})
    assert "moderator" in (await i.wait_reply()).lower()  # readers may not change it
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="config", options={"tidy": "mark"})
    assert "rewinds here mark later messages as rewound" in (await i.wait_reply()).lower()
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="config")
    assert "Rewinds here: mark later messages as rewound" in await i.wait_reply()
    await start(emu, ch, "short-tale")  # a new session takes the channel's setting
    await play_by_reactions(emu, ch, emu.reader, limit=3)
    await emu.wait_for(lambda: controls_message(emu, ch, set()), 10)
    i = await emu.invoke(emu.reader, ch, "story", subcommand="status")
    assert "Rewinds mark later messages as rewound" in await i.wait_reply()
    last = posted(emu, ch)[-1]
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="rewind", options={"beats": 1})  # no tidy option
    assert "Rewound" in await i.wait_reply()
    await emu.wait_for(lambda: bool(last.edits), 10, what="the rewound beat to be marked")
    assert not last.deleted and "~~" in last.content
    # changing it while a story plays applies to that story at once
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="config", options={"tidy": "none"})
    await i.wait_reply()
    i = await emu.invoke(emu.reader, ch, "story", subcommand="status")
    assert "Rewinds keep later messages" in await i.wait_reply()


async def test_a_press_that_beats_the_webhook_response_is_not_lost(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "quick-reader")
    emu.webhook_response_delay = 0.5  # the message shows up at once; the bot hears back later
    try:
        await start(emu, ch, "short-tale")
        first = await emu.wait_for(lambda: controls_message(emu, ch, set()), 15, what="the first beat with ▶")
        await emu.react(emu.reader, first)

        def newer(than: int) -> StoredMessage | None:
            return next((m for m in posted(emu, ch) if m.id > than and m.components and not m.deleted), None)

        second = await emu.wait_for(lambda: newer(first.id), 15, what="the second beat")
        assert not any(emu.bot_user.id in users for users in second.reactions.values())  # bot not done yet
        await emu.react(emu.reader, second)  # before the bot has recorded this message's id
        third = await emu.wait_for(lambda: newer(second.id), 15, what="the early press to be applied")
        assert third.id > second.id
    finally:
        emu.webhook_response_delay = 0.0
