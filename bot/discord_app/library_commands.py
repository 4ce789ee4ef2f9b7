"""A server's own stories, from Discord: `/story import`, `review`, `script`, `cast`, `delete`.

Moderators only, replies ephemeral. Slow work (download, segmenting, validation) never blocks
the event loop: the library runs it in a worker thread while the reply shows progress. Every
refusal is one sentence saying what to do; an import that fails leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import time
import zlib
from typing import Any, Protocol
from urllib.parse import urlsplit

import discord
from discord import app_commands

from bot.answers.voice import defuse
from bot.discord_app.errors import report_error, send_ephemeral, user_message
from bot.discord_app.permissions import Refused, require_moderator
from bot.discord_app.render import escape, trim
from bot.engine.api import Actor, NarratorError, NarratorService
from bot.engine.stage import Place
from bot.server_library import ImportSummary, LibraryRefusal, ServerLibrary, ServerStory, StoryInfo, story_key
from bot.store.guilds import GuildStore
from bot.story.cast import StoryFileError, image_url_problem
from bot.story.model import Beat, Character, Story
from bot.story.readers import StoryImportError


class _Library(Protocol):
    @property
    def stories(self) -> dict[str, Story]: ...
    @property
    def errors(self) -> list[str]: ...
    def get(self, slug: str, /) -> Story | None: ...


class _Stage(Protocol):
    def clear_controls(self, place: Place) -> None: ...


class LibraryHost(Protocol):
    """What these commands need from the bot (the bot itself is never imported here)."""

    @property
    def narrator(self) -> NarratorService: ...
    @property
    def library(self) -> _Library: ...
    @property
    def store(self) -> GuildStore: ...
    @property
    def stage(self) -> _Stage: ...

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
FETCH_TIMEOUT = 20.0  # seconds to download an attachment
STORY_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".epub")
SCRIPT_SUFFIX = ".script.txt"
DISCORD_CDN_HOSTS = ("cdn.discordapp.com", "media.discordapp.net")


def echo(text: str) -> str:
    """User or story text shown back: markdown escaped, links and mentions defused (the same
    `defuse` every reply goes through)."""
    return escape(defuse(text))


def server_library(bot: LibraryHost) -> ServerLibrary:
    lib = bot.library
    if not isinstance(lib, ServerLibrary):
        raise Refused("This bot keeps no per-server library; ask its owner to add stories with `narrator import`.")
    return lib


def visible_stories(bot: LibraryHost, guild_id: int | None) -> list[tuple[str, StoryInfo, bool]]:
    """(name to type, its light row, the server's own) for what this server may play."""
    lib = bot.library
    if isinstance(lib, ServerLibrary):
        return lib.visible(guild_id)
    return [(slug, StoryInfo.of(st, slug=slug), False) for slug, st in sorted(lib.stories.items())]


async def load_story(bot: LibraryHost, key: str) -> Story | None:
    """The story, loaded into memory if it is a server story not loaded yet (the engine looks
    stories up without waiting)."""
    lib = bot.library
    if isinstance(lib, ServerLibrary):
        return await lib.load(key)
    return lib.get(key)


async def load_channel_story(library: object, channel_id: int) -> None:
    """Before a command acts on a channel's session: its story in memory, if it is a server's."""
    if isinstance(library, ServerLibrary):
        try:
            await library.load_channel(channel_id)
        except Exception as exc:  # e.g. a database fault: the command says what it can
            log.warning("loading the story of channel %s failed: %s", channel_id, exc)


def unpin_resumed(library: object) -> None:
    """After start-up's resume: the stories loaded for the resumed sessions are held by them now."""
    if isinstance(library, ServerLibrary):
        library.unpin()


async def refresh(bot: LibraryHost, guild_id: int | None, *, quick: bool = False) -> None:
    """Bring this server's stories up to date. `quick` (autocomplete, replies not deferred): skip
    it while another refresh is loading stories, rather than risk Discord's 3 s."""
    lib = bot.library
    if isinstance(lib, ServerLibrary) and guild_id is not None and not (quick and lib.busy()):
        try:
            await lib.refresh(guild_id)
        except Exception:
            log.exception("refreshing server %s's stories failed; using what is in memory", guild_id)


def resolve_key(bot: LibraryHost, guild_id: int | None, name: str) -> str | None:
    lib = bot.library
    if isinstance(lib, ServerLibrary):
        return lib.resolve(guild_id, name)
    if lib.get(name) is not None:
        return name
    want = name.strip().casefold()
    for slug, st in lib.stories.items():
        if want in (slug.casefold(), st.title.casefold()):
            return slug
    return None


def allowed_attachment_url(url: str, api_base: str | None) -> bool:
    """Only Discord's CDN (or, behind a proxy / in tests, the configured API host) is fetched."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return False
    if parts.scheme == "https" and parts.hostname in DISCORD_CDN_HOSTS:
        return True
    if api_base:
        base = urlsplit(api_base)
        return (parts.scheme, parts.hostname, parts.port) == (base.scheme, base.hostname, base.port)
    return False


async def fetch_attachment(attachment: discord.Attachment, max_bytes: int, *, api_base: str | None = None,
                           timeout: float = FETCH_TIMEOUT) -> bytes:  # noqa: ASYNC109 - a download is one call
    """The attachment's bytes, from the URL Discord gave with the interaction (only Discord's CDN,
    or `api_base`'s host: the proxy or emulator the bot's REST calls go to), within `timeout`."""
    if attachment.size > max_bytes:
        raise Refused(f"{echo(attachment.filename)} is {attachment.size / 1_000_000:.1f} MB; stories up to "
                      f"{max_bytes / 1_000_000:g} MB can be imported, so split it into parts.")
    if not allowed_attachment_url(attachment.url, api_base):
        raise Refused("That attachment does not come from Discord; upload the file with the command itself.")
    try:
        data = await asyncio.wait_for(attachment.read(), timeout)
    except (TimeoutError, discord.HTTPException, OSError):
        raise Refused(f"Downloading {echo(attachment.filename)} from Discord failed or took too long; "
                      "try the command again.") from None
    if len(data) > max_bytes:
        raise Refused(f"{echo(attachment.filename)} is larger than the {max_bytes / 1_000_000:g} MB "
                      "a story may have; split it into parts.")
    return data


def one_sentence(exc: BaseException) -> str:
    """A reader/loader problem as one line (the first problem, and how many more)."""
    if isinstance(exc, StoryFileError):
        errors = exc.errors or ["the story could not be checked"]
        more = len(errors) - 1
        return trim(errors[0], 1500) + (f" (and {more} more problem{'s' * (more > 1)})" if more > 0 else "")
    return trim(str(exc), 1800)


def summary_text(s: ImportSummary) -> str:
    cast = ", ".join(s.cast[:12]) + (f" and {len(s.cast) - 12} more" if len(s.cast) > 12 else "")
    guessed = " (guessed from the text: check it with `/story cast`)" if s.cast_from == "discovered" else ""
    review = (f"**{s.to_review}** line(s) to review: `/story review story:{s.slug}`" if s.to_review
              else "No lines to review")
    lines = [f"Imported **{echo(s.title)}** as `{s.slug}`: {s.scenes} scene(s), {s.beats} beats.",
             f"Cast: {echo(cast) if cast else 'nobody found'}{guessed}.",
             f"{review}. Play it with `/story start story:{s.slug}`."]
    for m in s.messages[:3]:
        lines.append(f"-# {echo(trim(m, 300))}")
    return trim("\n".join(lines), 1900)


class Progress:
    """Import progress reported from the worker thread, shown by editing the ephemeral reply."""

    def __init__(self) -> None:
        self.pct = 0
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:  # called in the worker thread
        self.pct = min(100, 100 * done // total) if total else 100

    async def show(self, interaction: discord.Interaction[Any], name: str) -> None:
        while True:
            if self.pct != self.shown:
                self.shown = self.pct
                try:
                    await interaction.edit_original_response(content=f"Reading {echo(name)}: {self.pct} %")
                except discord.HTTPException:
                    pass
            await asyncio.sleep(1.0)


# ---------------------------------------------------------------------------- review walk
# The walk keeps no state in the process: each button and the menu carry, in their custom_id,
# the line being reviewed, how many lines were fixed and kept so far, a checksum of the line's
# words (refused if the story changed under the moderator) and the story's slug. They are
# discord.py DynamicItems registered at start-up, so a click after a restart goes on where it was.

REVIEW_ID = r"(?P<beat>[0-9]+):(?P<fixed>[0-9]+):(?P<kept>[0-9]+):(?P<sum>[0-9a-f]{8}):(?P<slug>[a-z0-9-]{1,60})"
NARRATION = "-narration-"


def line_sum(text: str) -> str:
    """A short checksum of a line's words: the review's guard against a story changed under it."""
    return f"{zlib.crc32(text.encode('utf-8')):08x}"


def _excerpt(story: Story, i: int, limit: int) -> str:
    if not 0 <= i < len(story):
        return ""
    b = story.beat(i)
    who = "Narration"
    if b.kind == "note":
        who = "Note"
    elif b.speaker:
        c = story.character(b.speaker)
        who = c.name if c else b.speaker
    elif b.kind in ("dialogue", "thought"):
        who = "UNKNOWN"
    return f"**{echo(who)}:** {echo(trim(' '.join(b.text.split()), limit))}"


def likely_speakers(story: Story, index: int, reach: int = 12) -> list[Character]:
    """The cast, those who speak nearest to beat `index` first (a menu holds only 25)."""
    distance: dict[str, int] = {}
    runner_up = story.beat(index).runner_up
    if runner_up:
        distance[runner_up] = -1  # the importer's second choice first
    for b in story.beats[max(0, index - reach): index + reach + 1]:
        for key in b.speakers or ((b.speaker,) if b.speaker else ()):
            distance[key] = min(distance.get(key, reach + 1), abs(b.index - index))
    order = {c.key: n for n, c in enumerate(story.characters)}
    return sorted(story.characters, key=lambda c: (distance.get(c.key, reach + 1), order[c.key]))


def _guess(story: Story, beat: Beat) -> str:
    """The importer's opinion of the line, when it gave one."""
    def name(key: str | None) -> str:
        c = story.character(key) if key else None
        return echo(c.name) if c else "nobody"

    if beat.confidence is None and not beat.runner_up:
        return ""
    sure = f" ({round(100 * beat.confidence)} % sure)" if beat.confidence is not None else ""
    other = f"; next most likely: {name(beat.runner_up)}" if beat.runner_up else ""
    return f"the importer's guess: {name(beat.speaker)}{sure}{other}"


def review_page(entry: ServerStory, *, after: int = -1, fixed: int = 0, kept: int = 0,
                note: str = "") -> tuple[str, discord.ui.View | None]:
    """The review's message for the first line to check after beat `after` (its text and
    controls), or the closing line when none is left."""
    story = entry.story
    lines = entry.to_review()
    upcoming = [i for i in lines if i > after]
    if not upcoming:
        return (f"{note}Review finished: {fixed} line(s) fixed in **{echo(story.title)}**."
                + (f" {len(lines)} line(s) skipped: `/story review` asks them again." if lines else ""), None)
    i = upcoming[0]
    fixed, kept = min(fixed, 9999), min(kept, 9999)  # a custom_id holds 100 characters
    done = fixed + kept
    scene = story.scene_of(i)
    parts = [f"{note}Reviewing **{echo(story.title)}** — line {done + lines.index(i) + 1} of {done + len(lines)} "
             f"(scene {scene.index + 1}, beat {i}). Pick who says it, or keep it as it is."]
    if i > 0:
        parts.append("-# before: " + _excerpt(story, i - 1, 400))
    parts.append("> " + _excerpt(story, i, 900))
    if i + 1 < len(story):
        parts.append("-# after: " + _excerpt(story, i + 1, 400))
    guess = _guess(story, story.beat(i))
    if guess:
        parts.append(f"-# {guess}")
    state = f"{i}:{fixed}:{kept}:{line_sum(story.beat(i).text)}:{entry.slug}"
    beat = story.beat(i)
    options = [discord.SelectOption(label=trim(c.name, 100), value=c.key, default=c.key == (beat.speaker or ""))
               for c in likely_speakers(story, i)[:24]]
    options.append(discord.SelectOption(label="Narration (nobody speaks)", value=NARRATION,
                                        default=beat.kind == "narration"))
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewMenu(state, options))
    for action in ("keep", "skip", "stop"):
        view.add_item(ReviewButton(action, state))
    return trim("\n".join(parts), 1900), view


class ReviewMenu(discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=r"rv:pick:" + REVIEW_ID):
    """Who says the line (or narration): saved at once, then the next line."""

    def __init__(self, state: str, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(discord.ui.Select(custom_id=f"rv:pick:{state}", placeholder="Who says this line?",
                                           options=options or [discord.SelectOption(label="…")]))
        self.state = state

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ReviewMenu:
        return cls(match.group(0).removeprefix("rv:pick:"))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        values = self.item.values
        await review_step(interaction, "pick", self.state, values[0] if values else "")


_BUTTONS = {"keep": ("Keep", discord.ButtonStyle.success), "skip": ("Skip", discord.ButtonStyle.secondary),
            "stop": ("Stop", discord.ButtonStyle.danger)}


class ReviewButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                   template=r"rv:(?P<action>keep|skip|stop):" + REVIEW_ID):
    """Keep (right as it is: not asked again), Skip (asked again next time), Stop."""

    def __init__(self, action: str, state: str) -> None:
        label, style = _BUTTONS[action]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"rv:{action}:{state}"))
        self.action, self.state = action, state

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ReviewButton:
        action = match.group("action")
        return cls(action, match.group(0).removeprefix(f"rv:{action}:"))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await review_step(interaction, self.action, self.state)


async def review_step(interaction: discord.Interaction[Any], action: str, state: str, value: str = "") -> None:
    """One click of the review: check who clicked, save the pick or the keep, show the next line."""
    bot: LibraryHost = interaction.client  # the NarratorBot
    try:
        m = re.fullmatch(REVIEW_ID, state)
        assert m is not None  # the template matched it
        beat, fixed, kept, slug = int(m["beat"]), int(m["fixed"]), int(m["kept"]), m["slug"]
        await require_moderator(interaction, bot.store)
        guild_id = _guild(interaction)
        if action == "stop":
            await interaction.response.edit_message(
                content=f"Review stopped: {fixed} line(s) fixed; `/story review` starts again.", view=None,
                allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.defer()  # loading and validating a long story can take a moment
        lib = server_library(bot)
        await lib.refresh(guild_id)
        entry = await lib.entry(guild_id, slug)
        if entry is None:
            raise Refused("This story is no longer in this server's library; `/story list` shows what is.")
        if not 0 <= beat < len(entry.story) or line_sum(entry.story.beat(beat).text) != m["sum"]:
            raise Refused("The story changed since this review started (a new script?); run `/story review` again.")
        expect = entry.story.beat(beat).text
        note = ""
        try:
            if action == "pick":
                entry = await lib.set_speaker(guild_id, slug, beat, None if value == NARRATION else value, expect=expect)
                fixed, note = fixed + 1, "Saved. "
            elif action == "keep":
                entry = await lib.keep_line(guild_id, slug, beat, expect=expect)
                kept, note = kept + 1, "Kept. "
        except (LibraryRefusal, StoryFileError) as exc:
            raise Refused(one_sentence(exc)) from None
        text, view = review_page(entry, after=beat, fixed=fixed, kept=kept, note=note)
        await interaction.edit_original_response(content=text, view=view, allowed_mentions=NO_MENTIONS)
    except Exception as exc:
        await report_error(interaction, exc)


class StaleControl(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                   template=r"review:(?:speaker|keep|skip|stop)|library:delete"):
    """Buttons and menus sent by an older version of the bot, whose state lived in its memory:
    say what to do instead of leaving Discord's "This interaction failed"."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(label="…", custom_id=custom_id))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> StaleControl:
        return cls(match.group(0))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        what = "`/story delete`" if self.custom_id.startswith("library:") else "`/story review`"
        await send_ephemeral(interaction, f"This was asked before the bot restarted and can no longer be answered; "
                             f"run {what} again.")


# ---------------------------------------------------------------------------- cast modal
# The form's custom_id names the story and the character (its place in the cast and a checksum
# of its key), and every submission is answered by `cast_submitted` from the bot's
# on_interaction, not by the Modal object: a form filled in across a restart is still saved.

CAST_FORM = re.compile(r"cast:(?P<index>[0-9]+):(?P<sum>[0-9a-f]{8}):(?P<slug>[a-z0-9-]{1,60})")
CAST_FIELDS = ("avatar_url", "colour", "pronouns", "persona")


class CastModal(discord.ui.Modal):
    def __init__(self, entry: ServerStory, key: str) -> None:
        c = entry.story.character(key)
        assert c is not None
        index = [x.key for x in entry.story.characters].index(key)
        super().__init__(title=trim(f"{c.name} — {entry.story.title}", 45),
                         custom_id=f"cast:{index}:{line_sum(key)}:{entry.slug}", timeout=60)
        self.add_item(discord.ui.TextInput(
            label="Avatar URL (direct .png/.jpg/.gif/.webp link)", custom_id="cast:avatar_url",
            default=c.avatar_url or "", required=False, max_length=500))
        self.add_item(discord.ui.TextInput(
            label="Colour (#rrggbb)", custom_id="cast:colour", default=c.colour or "", required=False,
            max_length=7))
        self.add_item(discord.ui.TextInput(
            label="Pronouns (he/him, she/her, they/them…)", custom_id="cast:pronouns", default=c.pronouns,
            required=False, max_length=40))
        self.add_item(discord.ui.TextInput(
            label="Persona: who they are, how they talk", custom_id="cast:persona", default=c.persona[:4000],
            required=False, max_length=4000, style=discord.TextStyle.paragraph))


def cast_form(interaction: discord.Interaction[Any]) -> re.Match[str] | None:
    """The submitted /story cast form's state, if this interaction is one."""
    if interaction.type is not discord.InteractionType.modal_submit or not interaction.data:
        return None
    return CAST_FORM.fullmatch(str(interaction.data.get("custom_id", "")))


def form_values(data: Any) -> dict[str, str]:
    """custom_id -> value of a submitted form's text inputs (in action rows or labels)."""
    out: dict[str, str] = {}
    for row in data.get("components") or []:
        inputs = [row.get("component")] if row.get("type") == 18 else row.get("components") or []
        for c in inputs:
            if c and "custom_id" in c and "value" in c:
                out[str(c["custom_id"])] = str(c["value"] or "")
    return out


async def cast_submitted(interaction: discord.Interaction[Any], form: re.Match[str]) -> None:
    bot: LibraryHost = interaction.client  # the NarratorBot
    try:
        await require_moderator(interaction, bot.store)
        guild_id = _guild(interaction)
        values = form_values(interaction.data)
        changes = {name: values[f"cast:{name}"] for name in CAST_FIELDS if f"cast:{name}" in values}
        url = changes.get("avatar_url", "").strip()
        problem = image_url_problem(url) if url else None
        if problem:
            raise Refused(f"Nothing was changed: the avatar URL {problem}.")
        lib = server_library(bot)
        await lib.refresh(guild_id)
        info = lib.own(guild_id, form["slug"])
        if info is None:
            raise Refused("Nothing was changed: this story is no longer in this server's library.")
        cast = info.characters
        index = int(form["index"])
        if index >= len(cast) or line_sum(cast[index][0]) != form["sum"]:
            raise Refused("Nothing was changed: the cast changed since this form was opened; run `/story cast` again.")
        key = cast[index][0]
        try:
            entry = await lib.edit_character(guild_id, info.slug, key, changes)
        except (LibraryRefusal, StoryFileError) as exc:
            raise Refused("Nothing was changed: " + one_sentence(exc)) from None
        c = entry.story.character(key)
        await send_ephemeral(interaction, f"Saved {echo(c.name if c else key)} in **{echo(entry.story.title)}**.")
    except Exception as exc:
        await report_error(interaction, exc)


# ---------------------------------------------------------------------------- delete


class ConfirmDelete(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                    template=r"lib:delete:(?P<stamp>[0-9]+):(?P<slug>[a-z0-9-]{1,60})"):
    """The confirmation button of `/story delete`. Its custom_id names the story and when it was
    imported (so a story deleted and imported again under the same name is not deleted by an
    old button); it is a DynamicItem, so it still works after a restart."""

    def __init__(self, slug: str, stamp: int, title: str = "") -> None:
        super().__init__(discord.ui.Button(label=trim(f"Delete {title or slug}", 80), style=discord.ButtonStyle.danger,
                                           custom_id=f"lib:delete:{stamp}:{slug}"))
        self.slug, self.stamp = slug, stamp

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ConfirmDelete:
        return cls(match["slug"], int(match["stamp"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await delete_story(interaction, self.slug, self.stamp)
        except Exception as exc:
            await report_error(interaction, exc)


def delete_view(info: StoryInfo) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmDelete(info.slug, info.stamp, info.title))
    return view


async def delete_story(interaction: discord.Interaction[Any], slug: str, stamp: int) -> None:
    """Stop every session playing the story (with a notice in its channel), then delete the story
    and all that is kept for it in one transaction."""
    bot: LibraryHost = interaction.client  # the NarratorBot
    await require_moderator(interaction, bot.store)
    guild_id = _guild(interaction)
    await interaction.response.defer()
    lib = server_library(bot)
    await lib.refresh(guild_id)
    info = lib.own(guild_id, slug)
    if info is None:
        await interaction.edit_original_response(content="That story is no longer in this server's library.", view=None)
        return
    if info.stamp != stamp:
        await interaction.edit_original_response(
            content=f"**{echo(info.title)}** was imported again since you asked; run `/story delete` again.", view=None)
        return
    actor = Actor(interaction.user.id, interaction.user.display_name, True)  # who pressed, for the audit log
    for attempt in range(3):
        for place in [Place(c, g, p) for g, c, p in await lib.live_places(story_key(guild_id, slug))]:
            await _stop_for_deletion(bot, interaction, place, actor, info.title)
        try:
            await lib.delete(guild_id, slug)
            break
        except LibraryRefusal as exc:  # a session started meanwhile: stop it too, then try again
            if attempt == 2:
                await interaction.edit_original_response(content=str(exc), view=None)
                return
    await interaction.edit_original_response(content=f"Deleted **{echo(info.title)}**.", view=None)


async def _stop_for_deletion(bot: LibraryHost, interaction: discord.Interaction[Any], place: Place, actor: Actor,
                             title: str) -> None:
    try:
        await bot.narrator.stop(place, actor)
        bot.stage.clear_controls(place)
    except NarratorError as exc:
        log.info("stopping %s before deleting it: %s", place.channel_id, exc)
    client = interaction.client
    channel = client.get_channel(place.channel_id) or client.get_partial_messageable(place.channel_id)
    try:
        await channel.send(f"⏹️ **{echo(title)}** was deleted from this server's library by a "
                           "moderator, so the story stopped here.", allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.info("could not post the deletion notice in %s: %s", place.channel_id, exc)


LIBRARY_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ReviewMenu, ReviewButton, ConfirmDelete, StaleControl)


# ---------------------------------------------------------------------------- the commands


def _guild(interaction: discord.Interaction[Any]) -> int:
    if interaction.guild_id is None:
        raise Refused("This only works in a server channel.")
    return interaction.guild_id


async def _own_story(bot: LibraryHost, interaction: discord.Interaction[Any], name: str) -> tuple[int, ServerStory]:
    guild_id = _guild(interaction)
    lib = server_library(bot)
    await lib.refresh(guild_id)
    entry = await lib.entry(guild_id, name)
    if entry is None:
        raise Refused(f"This server has no story of its own called “{echo(name)}”; `/story list` shows them "
                      "(bundled stories cannot be changed from Discord).")
    return guild_id, entry


def add_library_commands(group: app_commands.Group, bot: LibraryHost) -> None:
    """Add import / review / script / cast / delete to the `/story` group."""

    async def own_story_choices(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        guild_id = interaction.guild_id
        await refresh(bot, guild_id, quick=True)
        want = current.strip().casefold()
        return [app_commands.Choice(name=trim(f"{st.title} ({slug})", 100), value=slug)
                for slug, st, own in visible_stories(bot, guild_id)
                if own and (not want or want in slug or want in st.title.casefold())][:25]

    @app_commands.command(name="import", description="Import a story file (txt, md, html, epub) or an edited script (moderators)")
    @app_commands.describe(file="The story (.txt, .md, .html, .epub), or a script sent by /story script",
                           cast="Optional cast.toml: names, aliases, pronouns", title="The story's title",
                           author="Who wrote it")
    async def import_story(interaction: discord.Interaction[Any], file: discord.Attachment,
                           cast: discord.Attachment | None = None,
                           title: app_commands.Range[str, 1, 150] | None = None,
                           author: app_commands.Range[str, 1, 100] | None = None) -> None:
        await require_moderator(interaction, bot.store)
        guild_id = _guild(interaction)
        lib = server_library(bot)
        name = file.filename
        lower = name.lower()
        is_script = lower.endswith(SCRIPT_SUFFIX) or lower == "script.txt"
        if not is_script and not lower.endswith(STORY_SUFFIXES):
            raise Refused(f"{echo(name)} is not a file I can read; upload the story as .txt, .md, .html or .epub.")
        if cast is not None and not cast.filename.lower().endswith(".toml"):
            raise Refused("The cast must be a .toml file (see the README's cast format), or leave `cast:` out.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await _import(bot, interaction, lib, guild_id, file, cast, title, author, is_script)
        except Exception as exc:  # the reply shows progress: replace it with the refusal
            if isinstance(exc, LibraryRefusal | StoryImportError | StoryFileError):
                exc = Refused(one_sentence(exc))
            text, expected = user_message(exc)
            if not expected:
                log.error("/story import failed in server %s", guild_id, exc_info=exc)
            try:
                await interaction.edit_original_response(content=text, attachments=[])
            except discord.HTTPException as http:
                log.info("could not answer /story import: %s", http)

    @app_commands.command(name="review", description="Check the lines the importer was unsure of (moderators)")
    @app_commands.describe(story="One of this server's stories")
    async def review(interaction: discord.Interaction[Any], story: str) -> None:
        await require_moderator(interaction, bot.store)
        _, entry = await _own_story(bot, interaction, story)
        if not entry.to_review():
            await send_ephemeral(interaction, f"Nothing to review in **{echo(entry.story.title)}**: every line "
                                 "has a speaker. `/story script` sends the whole script to read through.")
            return
        text, view = review_page(entry)
        assert view is not None  # there is a line to review
        await interaction.response.send_message(text, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="script", description="Get a story's script file to read or edit (moderators)")
    @app_commands.describe(story="One of this server's stories")
    async def script(interaction: discord.Interaction[Any], story: str) -> None:
        await require_moderator(interaction, bot.store)
        _, entry = await _own_story(bot, interaction, story)
        file = discord.File(io.BytesIO(entry.packed.script.encode("utf-8")), filename=f"{entry.slug}{SCRIPT_SUFFIX}")
        await send_ephemeral(interaction, f"The script of **{echo(entry.story.title)}**. Fix a speaker by changing "
                             "the name before the colon, then upload the file with `/story import file:`.", file=file)

    @app_commands.command(name="cast", description="Edit a character's avatar, colour, pronouns, persona (moderators)")
    @app_commands.describe(story="One of this server's stories", character="Who to edit")
    async def cast_(interaction: discord.Interaction[Any], story: str, character: str) -> None:
        await require_moderator(interaction, bot.store)
        _, entry = await _own_story(bot, interaction, story)
        who = entry.story.find_character(character)
        if who is None:
            raise Refused(f"“{echo(character)}” is not in {echo(entry.story.title)}; pick a name from the list.")
        await interaction.response.send_modal(CastModal(entry, who.key))

    @app_commands.command(name="delete", description="Delete one of this server's stories (moderators)")
    @app_commands.describe(story="One of this server's stories")
    async def delete(interaction: discord.Interaction[Any], story: str) -> None:
        await require_moderator(interaction, bot.store)
        guild_id = _guild(interaction)
        lib = server_library(bot)
        await lib.refresh(guild_id)
        info = lib.own(guild_id, story)
        if info is None:
            raise Refused(f"This server has no story of its own called “{echo(story)}”; `/story list` shows them "
                          "(bundled stories cannot be changed from Discord).")
        playing = await lib.live_places(story_key(guild_id, info.slug))
        warn = f" It is being played in {len(playing)} channel(s); it will be stopped there." if playing else ""
        await interaction.response.send_message(
            f"Delete **{echo(info.title)}** (`{info.slug}`) from this server for good?{warn}",
            view=delete_view(info), ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def character_choices(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        name = str(getattr(interaction.namespace, "story", "") or "")
        info = server_library(bot).own(interaction.guild_id, name) if interaction.guild_id else None
        if info is None:
            return []
        want = current.strip().casefold()
        return [app_commands.Choice(name=trim(cname, 100), value=key) for key, cname, aliases in info.characters
                if not want or any(want in n.casefold() for n in (cname, *aliases))][:25]

    story_commands: list[app_commands.Command[Any, ..., None]] = [review, script, cast_, delete]
    for cmd in story_commands:
        cmd.autocomplete("story")(own_story_choices)
    cast_.autocomplete("character")(character_choices)
    for cmd in [import_story, *story_commands]:
        group.add_command(cmd)


async def _import(bot: LibraryHost, interaction: discord.Interaction[Any], lib: ServerLibrary, guild_id: int,
                  file: discord.Attachment, cast: discord.Attachment | None, title: str | None,
                  author: str | None, is_script: bool) -> None:
    name = file.filename
    # discord.py sends REST calls to Route.BASE: Discord itself, or the proxy DISCORD_API_BASE names
    api_base = discord.http.Route.BASE
    data = await fetch_attachment(file, lib.limits.max_bytes, api_base=api_base)
    if is_script:
        await _replace_script(bot, interaction, lib, guild_id, name, data, title)
        return
    cast_toml = await fetch_attachment(cast, 200_000, api_base=api_base) if cast is not None else None
    progress = Progress()
    shower = asyncio.create_task(progress.show(interaction, name))
    started = time.monotonic()
    try:
        summary = await lib.import_file(guild_id, interaction.user.id, data, file_name=name, title=title,
                                        author=author, cast_toml=cast_toml, progress=progress)
    finally:
        shower.cancel()
        await asyncio.gather(shower, return_exceptions=True)  # no progress edit after the answer
    log.info("server %s imported %s (%d beats) in %.1f s", guild_id, summary.key, summary.beats,
             time.monotonic() - started)
    await interaction.edit_original_response(content=summary_text(summary))


async def _replace_script(bot: LibraryHost, interaction: discord.Interaction[Any], lib: ServerLibrary,
                          guild_id: int, file_name: str, data: bytes, title: str | None) -> None:
    name = title or file_name[: -len(SCRIPT_SUFFIX)] if file_name.lower().endswith(SCRIPT_SUFFIX) else title
    if not name:
        raise Refused("Say which story this script is for with `title:`, or upload the file `/story script` sent.")
    await lib.refresh(guild_id)
    entry = lib.own(guild_id, name)
    if entry is None:
        raise Refused(f"This server has no story of its own called “{echo(name)}”; `/story list` shows them.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused("The script is not UTF-8 text; save it as UTF-8 and upload it again.") from None
    try:
        await lib.replace_script(guild_id, entry.slug, text)
    except StoryFileError as exc:
        problems = exc.errors or ["the script could not be checked"]
        report = "\n".join(problems)
        head = f"The script was **not** replaced: {len(problems)} problem(s). Fix them and upload it again."
        if len(report) + len(head) < 1800:
            await interaction.edit_original_response(content=f"{head}\n```\n{report.replace('`', 'ˋ')}\n```")
        else:
            await interaction.edit_original_response(content=head, attachments=[
                discord.File(io.BytesIO(report.encode("utf-8")), filename="problems.txt")])
        return
    except LibraryRefusal as exc:
        raise Refused(str(exc)) from None
    await interaction.edit_original_response(
        content=f"Script of **{echo(entry.title)}** replaced; a session playing it goes on with it from "
                "its next beat.")
