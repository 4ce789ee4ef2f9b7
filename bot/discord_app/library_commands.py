"""A server's own stories, from Discord: `/story import`, `review`, `script`, `cast`, `delete`.

Moderators only, replies ephemeral. Slow work (download, segmenting, validation) never blocks
the event loop: the library runs it in a worker thread while the reply shows progress. Every
refusal is one sentence saying what to do; an import that fails leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from typing import Any, Protocol
from urllib.parse import urlsplit

import discord
from discord import app_commands

from bot.answers.voice import defuse
from bot.discord_app.errors import send_ephemeral, user_message
from bot.discord_app.permissions import Refused, require_moderator
from bot.discord_app.render import escape, trim
from bot.engine.api import Actor, NarratorError, NarratorService
from bot.engine.stage import Place
from bot.server_library import ImportSummary, LibraryRefusal, ServerLibrary, ServerStory
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
REVIEW_TIMEOUT = 14 * 60.0  # an interaction token lasts 15 minutes


def echo(text: str) -> str:
    """User or story text shown back: markdown escaped, links and mentions defused (the same
    `defuse` every reply goes through)."""
    return escape(defuse(text))


def server_library(bot: LibraryHost) -> ServerLibrary:
    lib = bot.library
    if not isinstance(lib, ServerLibrary):
        raise Refused("This bot keeps no per-server library; ask its owner to add stories with `narrator import`.")
    return lib


def visible_stories(bot: LibraryHost, guild_id: int | None) -> list[tuple[str, Story, bool]]:
    """(name to type, story, the server's own) for what this server may play."""
    lib = bot.library
    if isinstance(lib, ServerLibrary):
        return lib.visible(guild_id)
    return [(slug, st, False) for slug, st in sorted(lib.stories.items())]


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


class ReviewWalk(discord.ui.View):
    """One line at a time: the line with its neighbours, a speaker menu, and Keep (it is right as
    it is: not asked again), Skip (ask again next time) and Stop."""

    def __init__(self, bot: LibraryHost, guild_id: int, entry: ServerStory, lines: list[int]) -> None:
        super().__init__(timeout=REVIEW_TIMEOUT)
        self.bot = bot
        self.guild_id = guild_id
        self.slug = entry.slug
        self.story = entry.story
        self.lines = lines
        self.at = 0
        self.fixed = 0
        self.latest: discord.Interaction[Any] | None = None  # whose token can still edit the message
        self.menu: discord.ui.Select[ReviewWalk] = discord.ui.Select(custom_id="review:speaker",
                                                                     placeholder="Who says this line?")
        self.menu.callback = self._chosen  # type: ignore[method-assign]
        self.add_item(self.menu)
        for label, cid, style, handler in (("Keep", "review:keep", discord.ButtonStyle.success, self._keep),
                                           ("Skip", "review:skip", discord.ButtonStyle.secondary, self._skip),
                                           ("Stop", "review:stop", discord.ButtonStyle.danger, self._stop)):
            button: discord.ui.Button[ReviewWalk] = discord.ui.Button(label=label, custom_id=cid, style=style)
            button.callback = handler  # type: ignore[method-assign]
            self.add_item(button)
        self._fill_menu()

    def _fill_menu(self) -> None:
        i = self.lines[self.at]
        beat = self.story.beat(i)
        current = beat.speaker or ""
        options = [discord.SelectOption(label=trim(c.name, 100), value=c.key, default=c.key == current)
                   for c in likely_speakers(self.story, i)[:24]]
        options.append(discord.SelectOption(label="Narration (nobody speaks)", value="-narration-",
                                            default=beat.kind == "narration"))
        self.menu.options = options

    def text(self) -> str:
        i = self.lines[self.at]
        scene = self.story.scene_of(i)
        head = (f"Reviewing **{echo(self.story.title)}** — line {self.at + 1} of {len(self.lines)} "
                f"(scene {scene.index + 1}, beat {i}). Pick who says it, or keep it as it is.")
        parts = [head]
        if i > 0:
            parts.append("-# before: " + _excerpt(self.story, i - 1, 400))
        parts.append("> " + _excerpt(self.story, i, 900))
        if i + 1 < len(self.story):
            parts.append("-# after: " + _excerpt(self.story, i + 1, 400))
        guess = self._guess(self.story.beat(i))
        if guess:
            parts.append(f"-# {guess}")
        return trim("\n".join(parts), 1900)

    def _guess(self, beat: Beat) -> str:
        """The importer's opinion of the line, when it gave one."""
        def name(key: str | None) -> str:
            c = self.story.character(key) if key else None
            return echo(c.name) if c else "nobody"

        if beat.confidence is None and not beat.runner_up:
            return ""
        sure = f" ({round(100 * beat.confidence)} % sure)" if beat.confidence is not None else ""
        other = f"; next most likely: {name(beat.runner_up)}" if beat.runner_up else ""
        return f"the importer's guess: {name(beat.speaker)}{sure}{other}"

    async def _show(self, interaction: discord.Interaction[Any], content: str, view: ReviewWalk | None) -> None:
        if interaction.response.is_done():  # deferred while a fix was saved
            await interaction.edit_original_response(content=content, view=view, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.edit_message(content=content, view=view, allowed_mentions=NO_MENTIONS)

    async def _next(self, interaction: discord.Interaction[Any], note: str = "") -> None:
        self.at += 1
        if self.at >= len(self.lines):
            self.stop()
            await self._show(interaction, f"{note}Review finished: {self.fixed} line(s) fixed in "
                             f"**{echo(self.story.title)}**.", None)
            return
        self._fill_menu()
        await self._show(interaction, note + self.text(), self)

    async def _chosen(self, interaction: discord.Interaction[Any]) -> None:
        value = self.menu.values[0] if self.menu.values else ""
        speaker = None if value == "-narration-" else value
        lib = server_library(self.bot)
        await interaction.response.defer()  # validating a long story can take a moment
        try:
            i = self.lines[self.at]
            entry = await lib.set_speaker(self.guild_id, self.slug, i, speaker, expect=self.story.beat(i).text)
        except (LibraryRefusal, StoryFileError) as exc:
            await interaction.followup.send(one_sentence(exc), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        self.story = entry.story
        self.fixed += 1
        await self._next(interaction, "Saved. ")

    async def _keep(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer()
        try:
            i = self.lines[self.at]
            entry = await server_library(self.bot).keep_line(self.guild_id, self.slug, i,
                                                             expect=self.story.beat(i).text)
        except (LibraryRefusal, StoryFileError) as exc:
            await interaction.followup.send(one_sentence(exc), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        self.story = entry.story
        await self._next(interaction, "Kept. ")

    async def _skip(self, interaction: discord.Interaction[Any]) -> None:
        await self._next(interaction)

    async def _stop(self, interaction: discord.Interaction[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(
            content=f"Review stopped: {self.fixed} line(s) fixed; `/story review` starts again.",
            view=None, allowed_mentions=NO_MENTIONS)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        try:
            await require_moderator(interaction, self.bot.store)
        except Refused as exc:
            await interaction.response.send_message(str(exc), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return False
        self.latest = interaction
        return True

    async def on_timeout(self) -> None:
        if self.latest is None:
            return
        try:
            await self.latest.edit_original_response(
                content=f"Review paused after a quiet while: {self.fixed} line(s) fixed; `/story review` goes on.",
                view=None, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            pass  # the message is gone or its token expired: nothing to tidy


# ---------------------------------------------------------------------------- cast modal


class CastModal(discord.ui.Modal):
    def __init__(self, bot: LibraryHost, guild_id: int, entry: ServerStory, key: str) -> None:
        c = entry.story.character(key)
        assert c is not None
        super().__init__(title=trim(f"{c.name} — {entry.story.title}", 45), custom_id="cast:edit")
        self.bot, self.guild_id, self.slug, self.key = bot, guild_id, entry.slug, key
        self.avatar: discord.ui.TextInput[CastModal] = discord.ui.TextInput(
            label="Avatar URL (direct .png/.jpg/.gif/.webp link)", custom_id="cast:avatar_url",
            default=c.avatar_url or "", required=False, max_length=500)
        self.colour: discord.ui.TextInput[CastModal] = discord.ui.TextInput(
            label="Colour (#rrggbb)", custom_id="cast:colour", default=c.colour or "", required=False,
            max_length=7)
        self.pronouns: discord.ui.TextInput[CastModal] = discord.ui.TextInput(
            label="Pronouns (he/him, she/her, they/them…)", custom_id="cast:pronouns", default=c.pronouns,
            required=False, max_length=40)
        self.persona: discord.ui.TextInput[CastModal] = discord.ui.TextInput(
            label="Persona: who they are, how they talk", custom_id="cast:persona", default=c.persona[:4000],
            required=False, max_length=4000, style=discord.TextStyle.paragraph)
        for item in (self.avatar, self.colour, self.pronouns, self.persona):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        changes = {"avatar_url": self.avatar.value, "colour": self.colour.value,
                   "pronouns": self.pronouns.value, "persona": self.persona.value}
        url = changes["avatar_url"].strip()
        problem = image_url_problem(url) if url else None
        if problem:
            await send_ephemeral(interaction, f"Nothing was changed: the avatar URL {problem}.")
            return
        try:
            entry = await server_library(self.bot).edit_character(self.guild_id, self.slug, self.key, changes)
        except (LibraryRefusal, StoryFileError) as exc:
            await send_ephemeral(interaction, "Nothing was changed: " + one_sentence(exc))
            return
        c = entry.story.character(self.key)
        await send_ephemeral(interaction, f"Saved {echo(c.name if c else self.key)} in **{echo(entry.story.title)}**.")


# ---------------------------------------------------------------------------- delete


class ConfirmDelete(discord.ui.View):
    def __init__(self, bot: LibraryHost, guild_id: int, entry: ServerStory) -> None:
        super().__init__(timeout=120)
        self.bot, self.guild_id, self.entry = bot, guild_id, entry
        button: discord.ui.Button[ConfirmDelete] = discord.ui.Button(
            label=trim(f"Delete {entry.story.title}", 80), style=discord.ButtonStyle.danger,
            custom_id="library:delete")
        button.callback = self._confirmed  # type: ignore[method-assign]
        self.add_item(button)

    async def _confirmed(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await require_moderator(interaction, self.bot.store)
        except Refused as exc:
            await interaction.response.send_message(str(exc), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.defer()
        self.stop()
        lib = server_library(self.bot)
        title = self.entry.story.title
        actor = Actor(interaction.user.id, interaction.user.display_name, True)  # who pressed, for the audit log
        for guild_id, channel_id, parent_id in await lib.live_places(self.entry):
            place = Place(channel_id, guild_id, parent_id)
            try:
                await self.bot.narrator.stop(place, actor)
                self.bot.stage.clear_controls(place)
            except NarratorError as exc:
                log.info("stopping %s before deleting it: %s", channel_id, exc)
            client = interaction.client
            channel = client.get_channel(channel_id) or client.get_partial_messageable(channel_id)
            try:
                await channel.send(f"⏹️ **{echo(title)}** was deleted from this server's library by a "
                                   "moderator, so the story stopped here.", allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                log.info("could not post the deletion notice in %s: %s", channel_id, exc)
        try:
            await lib.delete(self.guild_id, self.entry.slug)
        except LibraryRefusal as exc:
            await interaction.edit_original_response(content=str(exc), view=None)
            return
        await interaction.edit_original_response(content=f"Deleted **{echo(title)}**.", view=None)


# ---------------------------------------------------------------------------- the commands


def _guild(interaction: discord.Interaction[Any]) -> int:
    if interaction.guild_id is None:
        raise Refused("This only works in a server channel.")
    return interaction.guild_id


async def _own_story(bot: LibraryHost, interaction: discord.Interaction[Any], name: str) -> tuple[int, ServerStory]:
    guild_id = _guild(interaction)
    lib = server_library(bot)
    await lib.refresh(guild_id)
    entry = lib.own(guild_id, name)
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
        guild_id, entry = await _own_story(bot, interaction, story)
        lines = entry.to_review()
        if not lines:
            await send_ephemeral(interaction, f"Nothing to review in **{echo(entry.story.title)}**: every line "
                                 "has a speaker. `/story script` sends the whole script to read through.")
            return
        walk = ReviewWalk(bot, guild_id, entry, lines)
        walk.latest = interaction
        await interaction.response.send_message(walk.text(), view=walk, ephemeral=True, allowed_mentions=NO_MENTIONS)

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
        guild_id, entry = await _own_story(bot, interaction, story)
        who = entry.story.find_character(character)
        if who is None:
            raise Refused(f"“{echo(character)}” is not in {echo(entry.story.title)}; pick a name from the list.")
        await interaction.response.send_modal(CastModal(bot, guild_id, entry, who.key))

    @app_commands.command(name="delete", description="Delete one of this server's stories (moderators)")
    @app_commands.describe(story="One of this server's stories")
    async def delete(interaction: discord.Interaction[Any], story: str) -> None:
        await require_moderator(interaction, bot.store)
        guild_id, entry = await _own_story(bot, interaction, story)
        playing = await server_library(bot).live_places(entry)
        warn = f" It is being played in {len(playing)} channel(s); it will be stopped there." if playing else ""
        await interaction.response.send_message(
            f"Delete **{echo(entry.story.title)}** (`{entry.slug}`) from this server for good?{warn}",
            view=ConfirmDelete(bot, guild_id, entry), ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def character_choices(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        name = str(getattr(interaction.namespace, "story", "") or "")
        entry = server_library(bot).own(interaction.guild_id, name) if interaction.guild_id else None
        if entry is None:
            return []
        want = current.strip().casefold()
        return [app_commands.Choice(name=trim(c.name, 100), value=c.key) for c in entry.story.characters
                if not want or any(want in n.casefold() for n in c.names())][:25]

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
        content=f"Script of **{echo(entry.story.title)}** replaced; a session playing it goes on with it from "
                "its next beat.")
