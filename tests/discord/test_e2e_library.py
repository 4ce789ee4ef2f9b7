"""End to end: a server brings its own story from Discord (/story import of an EPUB and an HTML
file served by the emulator on 127.0.0.1), reviews a line, plays it; another server never sees
it; it survives a restart; script / cast / delete; every refusal is one ephemeral sentence."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.discord.e2e import finished, make_bot, norm, play_by_reactions, posted, running, story_root
from tests.emulator import Emulator
from tests.emulator.fixtures import BotProcess
from tests.emulator.server import Interaction, StoredMessage
from tests.emulator.state import EVERYONE_DEFAULT, MANAGE_MESSAGES, Channel, Guild, Member
from tests.story.epubs import LANTERN, build_epub

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

YARD_HTML = b"""<html><head><title>The Clockmaker's Yard</title>
<script>document.write('never read')</script><style>p { color: red }</style></head><body>
<h1>The Clockmaker's Yard</h1>
<p>Rain fell on the yard where Ada kept her clocks.</p>
<p>"Is it ready?" Ben asked.</p>
<p>"Almost," Ada said. "Hand me the small key."</p>
<p>Ben gave it to her. Cora came in from the street, shaking water from her coat, and the three of
them stood looking at the great clock.</p>
<p>"It will run tonight," Ada said.</p>
<p>"Then I will wait," Cora said.</p>
<hr/>
<p>"Who goes there?"</p>
<p>The gate of the yard was dark and the rain had stopped.</p>
<p>"Only me," Cora said.</p>
<hr/>
<p>"Who has the key?"</p>
<p>Morning came to the yard.</p>
</body></html>"""
YARD = "the-clockmakers-yard"
LANTERN_SLUG = "the-lantern-keeper"
MAX_MB = 1


class World:
    def __init__(self, emu: Emulator) -> None:
        self.a: Guild = emu.guild
        self.b: Guild = emu.add_guild("Other Server")
        self.b_channel: Channel = emu.add_channel(self.b, "elsewhere")
        role = emu.add_role(self.b, "B mods", permissions=EVERYONE_DEFAULT | MANAGE_MESSAGES)
        self.b_mod: Member = emu.add_member(self.b, "b-mod", roles=[role])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(emulator: Emulator) -> World:
    return World(emulator)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emulator: Emulator, world: World, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    work = tmp_path_factory.mktemp("library")
    proc = make_bot(emulator, work, story_root(work, seed=True), IMPORT_MAX_MB=str(MAX_MB), STORIES_PER_SERVER="3")
    async with running(proc):
        yield proc


async def run(emu: Emulator, user: Member, channel: Channel, sub: str, timeout: float = 30.0,  # noqa: ASYNC109
              **options: object) -> tuple[Interaction, str]:
    i = await emu.invoke(user, channel, "story", subcommand=sub, options=options)
    await i.wait_response()
    assert i.response_delay is not None and i.response_delay < 3.0, "answered within Discord's 3 s"
    await emu.wait_for(lambda: (bool(i.messages) and not (i.original and i.original.flags & 128))
                       or i.response_type == 9, timeout, what=f"/story {sub} to finish")
    assert i.ephemeral or i.response_type == 9, "replies to the person who ran it are ephemeral"
    return i, i.text


def control(msg: StoredMessage, prefix: str) -> str:
    """The custom_id of the button or menu on `msg` whose id starts with `prefix` (the rest is
    the state it carries)."""
    ids = [str(c.get("custom_id")) for row in msg.components for c in row.get("components", [])]
    found = [i for i in ids if i.startswith(prefix)]
    assert len(found) == 1, f"no single {prefix!r} control among {ids}"
    return found[0]


async def import_file(emu: Emulator, user: Member, channel: Channel, name: str, data: bytes,
                      **options: object) -> tuple[Interaction, str]:
    att = emu.add_attachment(name, data)
    i, _ = await run(emu, user, channel, "import", file=att, **options)
    await emu.wait_for(lambda: "Reading" not in i.text, 30, what="the import to finish")
    return i, i.text


async def test_a_reader_cannot_import_and_nothing_is_fetched(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    att = emu.add_attachment("yard.html", YARD_HTML)
    _, text = await run(emu, emu.reader, emu.channel, "import", file=att)
    assert "Only moderators" in text
    assert text.count(".") <= 2 and "\n" not in text.strip(), "one sentence"
    assert att.fetches == 0


async def test_moderator_imports_an_epub_and_an_html_story(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    _, text = await import_file(emu, emu.moderator, emu.channel, "The_Lantern_Keeper.epub", build_epub(LANTERN))
    assert "Imported **The Lantern Keeper**" in text, text
    assert f"`{LANTERN_SLUG}`" in text and "3 scene(s)" in text
    assert "Tobin" in text and "Mara" in text, "cast found in the text"
    assert "No lines to review" in text
    i, text = await import_file(emu, emu.moderator, emu.channel, "yard.html", YARD_HTML, title="The Clockmaker's Yard")
    assert "Imported **The Clockmaker's Yard**" in text and f"`{YARD}`" in text, text
    assert "**2** line(s) to review" in text, "the unattributed lines are counted"
    assert "never read" not in text
    assert i.original is not None
    edits = [str(e.get("content") or "") for e in i.original.edits]
    assert any(e.startswith("Reading yard.html") for e in edits), "progress shown by editing the reply"
    assert edits[-1].startswith("Imported"), "the summary comes last"
    # seen at once: list and autocomplete
    _, listing = await run(emu, emu.reader, emu.channel, "list")
    assert "The Lantern Keeper" in listing and "The Clockmaker's Yard" in listing and "Precious Person" in listing
    ac = await emu.autocomplete(emu.moderator, emu.channel, "story", subcommand="start", focused="story", value="lantern")
    await ac.wait_response()
    assert [c["value"] for c in ac.choices] == [LANTERN_SLUG]


async def test_the_epub_plays_chapters_as_scenes_without_scripts(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "lantern")
    _, reply = await run(emu, emu.moderator, ch, "start", story="The Lantern Keeper", mode="manual")
    assert "Started" in reply, reply
    await play_by_reactions(emu, ch, emu.reader)
    msgs = posted(emu, ch)
    text = norm(" ".join(m.content for m in msgs))
    assert norm("Scene 2 — The Storm") in text and norm("Chapter 2: Morning") in text
    assert norm("The wind came off the sea at dusk") in text
    assert "alert" not in text, "scripts in the XHTML are never read"
    assert "leave kudos" not in text, "the afterword is a note, not played"
    assert {m.name for m in msgs if "Bring the lamp" in m.content} == {"Mara"}


async def test_server_b_sees_nothing_of_server_a(bot: BotProcess, emulator: Emulator, world: World) -> None:
    emu = emulator
    _, listing = await run(emu, world.b_mod, world.b_channel, "list")
    assert "Lantern" not in listing and "Clockmaker" not in listing and "Precious Person" in listing
    ac = await emu.autocomplete(world.b_mod, world.b_channel, "story", subcommand="start", focused="story", value="")
    await ac.wait_response()
    assert all("lantern" not in c["value"] and "clockmaker" not in c["value"] for c in ac.choices)
    for name in (LANTERN_SLUG, "The Lantern Keeper", f"{LANTERN_SLUG}@{emu.guild.id}"):
        _, reply = await run(emu, world.b_mod, world.b_channel, "start", story=name)
        assert "There is no story called" in reply, reply
    ask = await emu.invoke(world.b_mod, world.b_channel, "ask", options={"character": "Mara", "question": "Where?"})
    assert "No story is playing" in await ask.wait_reply()
    _, reply = await run(emu, world.b_mod, world.b_channel, "review", story=LANTERN_SLUG)
    assert "no story of its own" in reply
    assert not posted(emu, world.b_channel)


async def test_review_fixes_the_line_and_the_story_plays_with_it(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    i, text = await run(emu, emu.moderator, emu.channel, "review", story=YARD)
    assert "line 1 of 2" in text and "Who goes there?" in text
    assert "Then I will wait" in text and "The gate of the yard" in text, "the line before and after"
    assert "the importer's guess: nobody (0 % sure)" in text, text
    msg = i.original
    assert msg is not None and msg.ephemeral
    options = [o for row in msg.components for c in row["components"] if c.get("type") == 3 for o in c["options"]]
    assert {o["label"] for o in options} >= {"Ada", "Ben", "Cora", "Narration (nobody speaks)"}
    pick = await emu.choose(emu.moderator, msg, control(msg, "rv:pick:"), ["ben"])
    await pick.wait_response()
    await emu.wait_for(lambda: "line 2 of 2" in msg.content, 10, what="the next line")
    assert msg.content.startswith("Saved.") and "Who has the key?" in msg.content
    keep = await emu.press_button(emu.moderator, msg, control(msg, "rv:keep:"))
    await keep.wait_response()
    await emu.wait_for(lambda: "Review finished" in msg.content, 10, what="the review to finish")
    assert "1 line(s) fixed" in msg.content
    # a fresh review has nothing left to check
    _, text = await run(emu, emu.moderator, emu.channel, "review", story=YARD)
    assert "Nothing to review" in text
    ch = emu.add_channel(emu.guild, "yard")
    _, reply = await run(emu, emu.moderator, ch, "start", story=YARD, mode="manual")
    assert "Started" in reply
    await play_by_reactions(emu, ch, emu.reader)
    said = [(m.name, m.content) for m in posted(emu, ch) if "Who goes there" in m.content]
    assert [n for n, _ in said] == ["Ben"], said
    ask = await emu.invoke(emu.reader, ch, "ask", options={"character": "ada", "question": "Will the clock run?"})
    assert "answered in the channel" in await ask.wait_reply(20)
    answer = posted(emu, ch)[-1]
    assert answer.name == "Ada" and "Will the clock run?" in answer.content


async def test_a_fix_reaches_a_session_already_playing(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "yard-live")
    _, reply = await run(emu, emu.moderator, ch, "start", story=YARD, mode="manual")
    assert "Started" in reply
    await play_by_reactions(emu, ch, emu.reader, limit=2)
    # the script sent by /story script, edited: the closing line goes to Ada instead of Cora
    i, _ = await run(emu, emu.moderator, emu.channel, "script", story=YARD)
    files = {n: d for m in i.messages for n, d in m.files.items()}
    assert list(files) == [f"{YARD}.script.txt"]
    script = files[f"{YARD}.script.txt"].decode()
    assert "BEN: “Who goes there?”" in script or 'BEN: "Who goes there?"' in script
    edited = script.replace('CORA: "Only me," Cora said.', 'ADA: "Only me," Cora said.')
    assert edited != script
    _, text = await import_file(emu, emu.moderator, emu.channel, f"{YARD}.script.txt", edited.encode())
    assert "replaced" in text, text
    await play_by_reactions(emu, ch, emu.reader)
    said = [m.name for m in posted(emu, ch) if "Only me" in m.content]
    assert said == ["Ada"]


async def test_a_broken_script_is_refused_with_every_problem(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    i, _ = await run(emu, emu.moderator, emu.channel, "script", story=YARD)
    script = next(d for m in i.messages for d in m.files.values()).decode()
    broken = script.replace("ADA:", "ADDA:").replace("BEN:", "BENN:")
    _, text = await import_file(emu, emu.moderator, emu.channel, f"{YARD}.script.txt", broken.encode())
    assert "not** replaced" in text
    lines = [ln for ln in text.splitlines() if ln.startswith("script.txt:")]
    assert len(lines) == broken.count("ADDA:") + broken.count("BENN:"), text
    assert all("unknown speaker" in ln for ln in lines)
    i, _ = await run(emu, emu.moderator, emu.channel, "script", story=YARD)
    assert next(d for m in i.messages for d in m.files.values()).decode() == script, "nothing changed"


async def submit(emu: Emulator, user: Member, shown_by: Interaction, values: dict[str, str]) -> str:
    """Fill in and submit a modal; submit again if the bot had not yet registered it (discord.py
    stores a modal only after Discord confirmed showing it; a person is never that fast)."""
    for wait in (0.5, 1.0, 2.0, 4.0, 8.0):
        i = await emu.submit_modal(user, shown_by, values)
        try:
            return await i.wait_reply(wait)
        except AssertionError:
            continue
    raise AssertionError("the modal was never answered")


async def test_cast_modal_validates_like_story_toml(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    for values, wrong in (({"cast:colour": "red"}, "#aa3322"),
                          ({"cast:avatar_url": "ftp://example.invalid/a.png"}, "https://")):
        i, _ = await run(emu, emu.moderator, emu.channel, "cast", story=YARD, character="ada")
        assert i.response_type == 9
        reply = await submit(emu, emu.moderator, i, values)
        assert "Nothing was changed" in reply and wrong in reply.replace("\u200b", ""), reply
    i, _ = await run(emu, emu.moderator, emu.channel, "cast", story=YARD, character="ada")
    reply = await submit(emu, emu.moderator, i, {"cast:colour": "#336699", "cast:pronouns": "she/her",
                                                 "cast:persona": "The clockmaker. Speaks in short sentences."})
    assert "Saved Ada" in reply, reply
    _, text = await run(emu, emu.reader, emu.channel, "characters", story=YARD)
    assert "The clockmaker." in text and "she/her" in text


async def test_refusals_are_one_sentence_and_leave_nothing(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    refusals = []
    big = emu.add_attachment("huge.txt", b"x", claimed_size=MAX_MB * 1_000_000 + 1)
    _, text = await run(emu, emu.moderator, emu.channel, "import", file=big)
    assert "MB" in text and "split" in text and big.fetches == 0, "refused before downloading"
    refusals.append(text)
    _, text = await import_file(emu, emu.moderator, emu.channel, "story.pdf", b"%PDF-1.4")
    assert ".txt, .md, .html or .epub" in text
    refusals.append(text)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/epub+zip")
        zf.writestr("OEBPS/big.xhtml", b"<p>" + b"a" * 60_000_000 + b"</p>")
    assert len(bomb.getvalue()) < MAX_MB * 1_000_000, "small enough to pass the size cap"
    _, text = await import_file(emu, emu.moderator, emu.channel, "bomb.epub", bomb.getvalue())
    assert "unpacks to" in text, text
    refusals.append(text)
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../etc/evil.xhtml", "<p>hi</p>")
    _, text = await import_file(emu, emu.moderator, emu.channel, "evil.epub", evil.getvalue())
    assert "unsafe path" in text
    refusals.append(text)
    _, text = await import_file(emu, emu.moderator, emu.channel, "again.html", YARD_HTML, title="The Clockmaker's Yard")
    assert "already a story called" in text
    refusals.append(text)
    assert all("\n" not in t.strip() and "Imported" not in t for t in refusals), refusals
    _, listing = await run(emu, emu.reader, emu.channel, "list")
    assert listing.count("(this server's)") == 2, "no half-imported story left behind"


async def test_a_cast_file_is_used_and_the_server_cap_holds(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    tale = ("The Harbour\n\nThe boats came in at dusk.\n\n\u201cTie her off,\u201d the old woman said.\n\n"
            "\u201cAye,\u201d said the boy.\n").encode()
    cast = (b'[[character]]\nname = "Nell Morrow"\naliases = ["the old woman", "Nell"]\npronouns = "she/her"\n\n'
            b'[[character]]\nname = "Pip"\naliases = ["the boy"]\npronouns = "he/him"\n')
    story = emu.add_attachment("harbour.txt", tale)
    cast_file = emu.add_attachment("cast.toml", cast)
    i, _ = await run(emu, emu.moderator, emu.channel, "import", file=story, cast=cast_file)
    await emu.wait_for(lambda: "Reading" not in i.text, 30, what="the import")
    assert "Imported **The Harbour**" in i.text and "Nell Morrow, Pip" in i.text, i.text
    assert "guessed" not in i.text and cast_file.fetches == 1
    _, text = await import_file(emu, emu.moderator, emu.channel, "more.txt", tale, title="One Too Many")
    assert "already has 3 stories" in text


async def test_restart_keeps_the_story_and_the_session_goes_on(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "yard-restart")
    _, reply = await run(emu, emu.moderator, ch, "start", story=YARD, mode="manual")
    assert "Started" in reply
    await play_by_reactions(emu, ch, emu.reader, limit=3)
    before = len(posted(emu, ch))
    await bot.restart()
    _, listing = await run(emu, emu.reader, emu.channel, "list")
    assert "The Clockmaker's Yard" in listing
    await play_by_reactions(emu, ch, emu.reader)
    msgs = posted(emu, ch)
    assert finished(emu, ch) and len(msgs) > before
    assert [m.name for m in msgs if "Who goes there" in m.content] == ["Ben"]
    contents = [m.content for m in msgs if m.content]
    assert len(contents) == len(set(contents)), "nothing posted twice"


async def test_delete_asks_first_and_stops_a_playing_session(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    ch = emu.add_channel(emu.guild, "lantern-doomed")
    _, reply = await run(emu, emu.moderator, ch, "start", story=LANTERN_SLUG, mode="manual")
    assert "Started" in reply
    i, text = await run(emu, emu.moderator, emu.channel, "delete", story=LANTERN_SLUG)
    assert "for good?" in text and "1 channel(s)" in text
    _, listing = await run(emu, emu.reader, emu.channel, "list")
    assert "The Lantern Keeper" in listing, "nothing deleted before the button"
    assert i.original is not None
    press = await emu.press_button(emu.moderator, i.original, control(i.original, "lib:delete:"))
    await press.wait_response()
    await emu.wait_for(lambda: "Deleted" in i.original.content if i.original else False, 10, what="the deletion")  # type: ignore[union-attr]
    await emu.wait_for(lambda: any("was deleted" in m.content for m in posted(emu, ch)), 10, what="the notice")
    _, status = await run(emu, emu.reader, ch, "status")
    assert "stopped" in status
    _, listing = await run(emu, emu.reader, emu.channel, "list")
    assert "The Lantern Keeper" not in listing


WATCH = "the-night-watch"


def db_rows(proc: BotProcess, key: str) -> dict[str, int]:
    """How many rows the bot's database keeps for a story (read beside the running bot)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{proc.database_path}?mode=ro", uri=True)
    try:
        out = {table: conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (key,)).fetchone()[0]
               for table, column in (("answer_fts", "story_slug"), ("answer_index", "story_slug"),
                                     ("stories", "slug"), ("beats", "story_slug"))}
        slug, guild = key.split("@")
        out["server_stories"] = conn.execute("SELECT COUNT(*) FROM server_stories WHERE guild_id = ? AND slug = ?",
                                             (int(guild), slug)).fetchone()[0]
        return out
    finally:
        conn.close()


async def test_a_review_goes_on_where_it_was_after_a_restart(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    _, text = await import_file(emu, emu.moderator, emu.channel, "watch.html", YARD_HTML, title="The Night Watch")
    assert f"`{WATCH}`" in text and "**2** line(s) to review" in text, text
    i, text = await run(emu, emu.moderator, emu.channel, "review", story=WATCH)
    msg = i.original
    assert msg is not None and "line 1 of 2" in text and "Who goes there?" in text
    await bot.restart()
    pick = await emu.choose(emu.moderator, msg, control(msg, "rv:pick:"), ["cora"])
    await pick.wait_response()
    await emu.wait_for(lambda: "line 2 of 2" in msg.content, 10, what="the next line after the restart")
    assert msg.content.startswith("Saved.") and "Who has the key?" in msg.content
    refused = await emu.press_button(emu.reader, msg, control(msg, "rv:keep:"))
    assert "Only moderators" in await refused.wait_reply()
    await bot.restart()
    keep = await emu.press_button(emu.moderator, msg, control(msg, "rv:keep:"))
    await keep.wait_response()
    await emu.wait_for(lambda: "Review finished" in msg.content, 10, what="the review to finish")
    assert "1 line(s) fixed" in msg.content and not msg.components
    i, _ = await run(emu, emu.moderator, emu.channel, "script", story=WATCH)
    script = next(d for m in i.messages for d in m.files.values()).decode()
    assert 'CORA: "Who goes there?"' in script and 'UNKNOWN: "Who has the key?"' in script, "kept as it was"
    _, text = await run(emu, emu.moderator, emu.channel, "review", story=WATCH)
    assert "Nothing to review" in text


async def test_delete_confirmed_after_a_restart_leaves_nothing_of_the_story(bot: BotProcess,
                                                                            emulator: Emulator) -> None:
    emu = emulator
    key = f"{WATCH}@{emu.guild.id}"
    ch = emu.add_channel(emu.guild, "watch-live")
    _, reply = await run(emu, emu.moderator, ch, "start", story=WATCH, mode="manual")
    assert "Started" in reply
    await play_by_reactions(emu, ch, emu.reader, limit=2)
    _, reply = await run(emu, emu.moderator, ch, "pause")
    before = db_rows(bot, key)
    assert before["answer_fts"] > 0 and before["answer_index"] == 1 and before["server_stories"] == 1, before
    i, text = await run(emu, emu.moderator, emu.channel, "delete", story=WATCH)
    assert "1 channel(s)" in text and i.original is not None
    await bot.restart()
    _, status = await run(emu, emu.reader, ch, "status")
    assert "The Night Watch" in status and "paused" in status.lower(), "a paused session's story loads on demand"
    press = await emu.press_button(emu.moderator, i.original, control(i.original, "lib:delete:"))
    await press.wait_response()
    await emu.wait_for(lambda: "Deleted" in i.original.content if i.original else False, 10,  # type: ignore[union-attr]
                       what="the deletion after a restart")
    await emu.wait_for(lambda: any("was deleted" in m.content for m in posted(emu, ch)), 10, what="the notice")
    _, status = await run(emu, emu.reader, ch, "status")
    assert "stopped" in status
    assert set(db_rows(bot, key).values()) == {0}, "story, /ask index and story rows all gone"
    _, listing = await run(emu, emu.reader, emu.channel, "list")
    assert "The Night Watch" not in listing


async def test_controls_sent_before_an_upgrade_answer_with_what_to_do(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    old = emu.store_message(emu.channel, emu.bot_user, {"content": "Reviewing …", "components": [
        {"type": 1, "components": [{"type": 3, "custom_id": "review:speaker", "options": [
            {"label": "Ada", "value": "ada"}]}]},
        {"type": 1, "components": [{"type": 2, "style": 3, "label": "Keep", "custom_id": "review:keep"},
                                   {"type": 2, "style": 4, "label": "Delete", "custom_id": "library:delete"}]}]})
    pick = await emu.choose(emu.moderator, old, "review:speaker", ["ada"])
    assert "run `/story review` again" in await pick.wait_reply()
    keep = await emu.press_button(emu.moderator, old, "review:keep")
    assert "run `/story review` again" in await keep.wait_reply()
    delete = await emu.press_button(emu.moderator, old, "library:delete")
    assert "run `/story delete` again" in await delete.wait_reply()
    assert all(i.ephemeral for i in (pick, keep, delete))


async def test_a_cast_form_filled_in_across_a_restart_is_saved(bot: BotProcess, emulator: Emulator) -> None:
    emu = emulator
    i, _ = await run(emu, emu.moderator, emu.channel, "cast", story=YARD, character="ben")
    assert i.response_type == 9
    await bot.restart()
    reply = await (await emu.submit_modal(emu.moderator, i, {"cast:pronouns": "he/him",
                                                            "cast:persona": "The apprentice, always late."})).wait_reply()
    assert "Saved Ben" in reply, reply
    _, text = await run(emu, emu.reader, emu.channel, "characters", story=YARD)
    assert "The apprentice" in text and "he/him" in text
    refused = await emu.submit_modal(emu.reader, i, {"cast:persona": "A villain."})
    assert "Only moderators" in await refused.wait_reply()
