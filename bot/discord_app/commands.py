"""Slash commands: the `/story` group and `/ask`.

Every command answers within Discord's 3 s: quick ones reply at once, the rest defer first.
Moderator commands check permissions in code (permissions.py) before touching the engine; a
refused reader gets one ephemeral sentence. Replies about the story are ephemeral; the story
itself, and /ask answers, appear in the channel through the webhook stage.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Literal

import discord
from discord import app_commands

from bot.answers.voice import defuse
from bot.discord_app.errors import send_ephemeral
from bot.discord_app.library_commands import (
    add_library_commands,
    echo,
    load_story,
    refresh,
    resolve_key,
    visible_stories,
)
from bot.discord_app.permissions import Refused, interaction_is_moderator, require_admin, require_moderator
from bot.discord_app.render import (
    ELLIPSIS,
    EMBED_DESCRIPTION_LIMIT,
    avatar_for,
    colour_for,
    escape,
    progress_bar,
    trim,
)
from bot.discord_app.services import CommandHost
from bot.engine.api import Actor, AdvanceResult, Mode, SessionView
from bot.engine.stage import Cue, Place, Voice
from bot.server_library import split_key
from bot.story.model import Beat, Character, Story

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
NO_SESSION = "No story is playing in this channel. A moderator can start one with `/story start`."
MODE_CHOICES = [
    app_commands.Choice(name="auto — beats arrive at reading pace", value="auto"),
    app_commands.Choice(name="manual — readers press ▶ / Continue", value="manual"),
    app_commands.Choice(name="vote — several readers must press ▶", value="vote"),
]
STATE_LABEL = {
    "playing": "▶️ playing",
    "waiting": "⏳ waiting for readers",
    "paused": "⏸️ paused",
    "finished": "🏁 finished",
    "stopped": "⏹️ stopped",
}


def voice_of(story: Story, character: Character | None) -> Voice:
    if character is None:
        return Voice(name=story.narrator_name or "Narrator", key=None, avatar_url=story.narrator_avatar_url)
    return Voice(name=character.name, key=character.key, avatar_url=character.avatar_url,
                 colour=character.colour)


def first_sentence(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    for end in (". ", "! ", "? "):
        i = text.find(end)
        if 0 < i < limit:
            return text[: i + 1]
    return trim(text, limit)


def describe(view: SessionView) -> str:
    where = f"scene {view.scene_index + 1}/{view.scene_count}, beat {min(view.position, view.beat_count)}/{view.beat_count}"
    return f"**{escape(view.story_title)}** — {STATE_LABEL.get(view.state, view.state)}, {where}"


TIDY_LABEL = {"delete": "delete later messages", "mark": "mark later messages as rewound",
              "none": "keep later messages"}
TIDY_CHOICES = [app_commands.Choice(name="delete them", value="delete"),
                app_commands.Choice(name="mark them as rewound", value="mark"),
                app_commands.Choice(name="keep them as they are", value="none")]


def status_embed(view: SessionView) -> discord.Embed:
    embed = discord.Embed(title=trim(view.story_title, 256), colour=discord.Colour.dark_gold())
    embed.add_field(name="Scene", value=f"{view.scene_index + 1} of {view.scene_count}", inline=True)
    state = STATE_LABEL.get(view.state, view.state)
    if view.pause_reason and view.state == "paused":
        state += f" ({trim(view.pause_reason, 200)})"
    embed.add_field(name="State", value=state, inline=True)
    mode: str = view.mode
    if view.mode == "vote":
        mode += f" ({view.votes}/{view.votes_needed} votes)"
    embed.add_field(name="Mode", value=mode, inline=True)
    embed.add_field(name="Pace", value=f"{view.wpm} words per minute", inline=True)
    embed.add_field(name="Started by", value=f"<@{view.started_by}>", inline=True)
    embed.add_field(name="Rewinds", value=TIDY_LABEL.get(view.tidy, view.tidy), inline=True)
    if view.next_due_at and view.state == "playing" and view.mode == "auto":
        embed.add_field(name="Next beat", value=f"<t:{int(view.next_due_at)}:R>", inline=True)
    embed.add_field(name="Progress", value=progress_bar(view.position, view.beat_count)
                    + f" — beat {min(view.position, view.beat_count)} of {view.beat_count}", inline=False)
    return embed


def beat_line(story: Story, beat: Beat) -> str:
    text = escape(" ".join(beat.text.split()))
    if beat.voiced and beat.speaker:
        who = story.character(beat.speaker)
        name = who.name if who else beat.speaker
        return f"**{escape(name)}:** {'*' + text + '*' if beat.kind == 'thought' else text}"
    return text


def recap_text(story: Story, beats: list[int], limit: int = EMBED_DESCRIPTION_LIMIT) -> str:
    """The given beats as paragraphs; when too long, the oldest are dropped (never the latest)."""
    lines = [beat_line(story, story.beat(i)) for i in beats if 0 <= i < len(story)]
    out: list[str] = []
    used = 0
    for line in reversed(lines):
        cost = len(line) + 2
        if used + cost > limit - 4:
            if not out:
                out.append(ELLIPSIS + line[-(limit - 10):])
            else:
                out.append(ELLIPSIS)
            break
        out.append(line)
        used += cost
    return "\n\n".join(reversed(out))


class StoryGroup(app_commands.Group):
    def __init__(self, bot: CommandHost) -> None:
        super().__init__(name="story", description="Play a story in this channel", guild_only=True)
        self.bot = bot

    # ---------------------------------------------------------------- helpers

    async def _actor(self, interaction: discord.Interaction[Any], *, moderator: bool) -> Actor:
        if moderator:
            await require_moderator(interaction, self.bot.store)
        return Actor(interaction.user.id, interaction.user.display_name, moderator)

    async def _session_story(self, place: Place) -> tuple[SessionView, Story]:
        view = await self.bot.narrator.status(place)
        if view is None or view.state == "stopped":  # a finished story can still be recapped
            raise Refused(NO_SESSION)
        story = self.bot.library.get(view.story_slug)
        if story is None:
            raise Refused("This channel's story is no longer in the story folder; a moderator can `/story stop` it.")
        return view, story

    # ---------------------------------------------------------------- autocomplete

    async def scene_autocomplete(self, interaction: discord.Interaction[Any],
                                 current: str) -> list[app_commands.Choice[int]]:
        try:
            place = await self.bot.interaction_place(interaction)
            view = await self.bot.narrator.status(place)
        except Exception:
            return []
        story = self.bot.library.get(view.story_slug) if view else None
        if story is None:
            return []
        out = []
        for scene in story.scenes:
            label = f"{scene.index + 1}" + (f" — {scene.title}" if scene.title else "")
            if current.strip().casefold() in label.casefold():
                out.append(app_commands.Choice(name=trim(label, 100), value=scene.index + 1))
        return out[:25]

    # ---------------------------------------------------------------- moderator commands

    @app_commands.command(name="start", description="Start a story in this channel (moderators)")
    @app_commands.describe(story="Which story", mode="How the story moves on (default: auto)",
                           wpm="Reading pace in words per minute")
    @app_commands.choices(mode=MODE_CHOICES)
    async def start(self, interaction: discord.Interaction[Any], story: str,
                    mode: app_commands.Choice[str] | None = None,
                    wpm: app_commands.Range[int, 1, 100000] | None = None) -> None:
        actor = await self._actor(interaction, moderator=True)
        place = await self.bot.interaction_place(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await refresh(self.bot, interaction.guild_id)  # a story imported a moment ago, maybe by another process
        slug = resolve_story(self.bot, story, interaction.guild_id)
        await load_story(self.bot, slug)  # a server's own story is read from the database when needed
        chosen: Mode = mode.value if mode else "auto"  # type: ignore[assignment]
        view = await self.bot.narrator.start(place, slug, actor, mode=chosen, wpm=wpm)
        tidy = await self.bot.store.tidy(place.channel_id)
        setter = getattr(self.bot.narrator, "set_session_tidy", None)
        if tidy is not None and tidy != view.tidy and setter is not None:
            view = await setter(place, actor, tidy)  # this channel's /story config tidy setting
        how: str = {"auto": "Beats arrive at reading pace.",
               "manual": "Readers press ▶ or **Continue** to move on.",
               "vote": f"{view.votes_needed} readers must press ▶ to move on."}[view.mode]
        await send_ephemeral(interaction, f"Started {describe(view)}. {how}")

    @app_commands.command(name="pause", description="Pause the story (moderators)")
    async def pause(self, interaction: discord.Interaction[Any]) -> None:
        await self._simple(interaction, "pause", "Paused")

    @app_commands.command(name="resume", description="Resume a paused story (moderators)")
    async def resume(self, interaction: discord.Interaction[Any]) -> None:
        await self._simple(interaction, "resume", "Resumed")

    @app_commands.command(name="stop", description="Stop the story in this channel (moderators)")
    async def stop(self, interaction: discord.Interaction[Any]) -> None:
        await self._simple(interaction, "stop", "Stopped")

    async def _simple(self, interaction: discord.Interaction[Any], action: str, done: str) -> None:
        actor = await self._actor(interaction, moderator=True)
        place = await self.bot.interaction_place(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        method = getattr(self.bot.narrator, action)
        view: SessionView = await method(place, actor)
        if view.state == "stopped":
            self.bot.stage.clear_controls(place)
        await send_ephemeral(interaction, f"{done}: {describe(view)}")

    @app_commands.command(name="next", description="Post the next beat now (readers: in manual or vote mode)")
    async def next(self, interaction: discord.Interaction[Any]) -> None:
        place = await self.bot.interaction_place(interaction)
        moderator = await interaction_is_moderator(interaction, self.bot.store)
        actor = Actor(interaction.user.id, interaction.user.display_name, moderator)
        await interaction.response.defer(ephemeral=True, thinking=True)
        if moderator:
            view = await self.bot.narrator.next(place, actor)
            await send_ephemeral(interaction, f"Next beat posted: {describe(view)}")
            return
        current = await self.bot.narrator.status(place)
        if current is None or current.state in ("finished", "stopped"):
            raise Refused(NO_SESSION)
        if current.mode == "auto":
            raise Refused("The story moves on by itself in auto mode; only moderators can skip ahead.")
        result = await self.bot.narrator.advance(place, actor)
        await send_ephemeral(interaction, advance_reply(current.mode, result))

    @app_commands.command(name="rewind", description="Go back some beats, or to a scene's start (moderators)")
    @app_commands.describe(beats="How many beats to go back", scene="Go back to the start of a scene",
                           tidy="What happens to the messages after that point (default: delete them)")
    @app_commands.choices(scene=[app_commands.Choice(name="start of the current scene", value="current"),
                                 app_commands.Choice(name="start of the previous scene", value="previous")],
                          tidy=TIDY_CHOICES)
    async def rewind(self, interaction: discord.Interaction[Any],
                     beats: app_commands.Range[int, 1, 10000] | None = None,
                     scene: app_commands.Choice[str] | None = None,
                     tidy: app_commands.Choice[str] | None = None) -> None:
        actor = await self._actor(interaction, moderator=True)
        place = await self.bot.interaction_place(interaction)
        if beats is None and scene is None:
            beats = 1
        await interaction.response.defer(ephemeral=True, thinking=True)
        if tidy is not None:
            setter = getattr(self.bot.narrator, "set_session_tidy", None)
            if setter is None:
                raise Refused("This narrator cannot change how rewinds tidy the channel.")
            await setter(place, actor, tidy.value)
        which: Literal["current", "previous"] | None = scene.value if scene else None  # type: ignore[assignment]
        view = await self.bot.narrator.rewind(place, actor, beats=beats, scene=which)
        await send_ephemeral(interaction, f"Rewound: {describe(view)}")

    @app_commands.command(name="jump", description="Jump to a scene (moderators)")
    @app_commands.describe(scene="Scene number, from 1")
    async def jump(self, interaction: discord.Interaction[Any], scene: app_commands.Range[int, 1, 10000]) -> None:
        actor = await self._actor(interaction, moderator=True)
        place = await self.bot.interaction_place(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        view = await self.bot.narrator.jump(place, actor, scene)
        await send_ephemeral(interaction, f"Jumped: {describe(view)}")

    @app_commands.command(name="pace", description="Change the reading pace or mode (moderators)")
    @app_commands.describe(wpm="Words per minute", mode="How the story moves on")
    @app_commands.choices(mode=MODE_CHOICES)
    async def pace(self, interaction: discord.Interaction[Any],
                   wpm: app_commands.Range[int, 1, 100000] | None = None,
                   mode: app_commands.Choice[str] | None = None) -> None:
        actor = await self._actor(interaction, moderator=True)
        place = await self.bot.interaction_place(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        chosen: Mode | None = mode.value if mode else None  # type: ignore[assignment]
        view = await self.bot.narrator.set_pace(place, actor, wpm=wpm, mode=chosen)
        await send_ephemeral(interaction, f"Pace: {view.wpm} words per minute, {view.mode} mode. {describe(view)}")

    @app_commands.command(name="config", description="Moderator role, /ask switch and rewind tidy-up here")
    @app_commands.describe(mod_role="Members with this role may run moderator commands",
                           ask="Allow /ask in this channel",
                           tidy="What a rewind does to later messages in this channel (default: delete them)")
    @app_commands.choices(ask=[app_commands.Choice(name="on", value="on"),
                               app_commands.Choice(name="off", value="off")],
                          tidy=TIDY_CHOICES)
    async def config(self, interaction: discord.Interaction[Any], mod_role: discord.Role | None = None,
                     ask: app_commands.Choice[str] | None = None,
                     tidy: app_commands.Choice[str] | None = None) -> None:
        if interaction.guild_id is None or interaction.channel_id is None:
            raise Refused("This only works in a server channel.")
        store = self.bot.store
        changes: list[str] = []
        if mod_role is not None:
            require_admin(interaction)
            await store.set_mod_role(interaction.guild_id, mod_role.id)
            changes.append(f"moderator role is now {mod_role.mention}")
            await store.audit(guild_id=interaction.guild_id, channel_id=interaction.channel_id,
                              actor_id=interaction.user.id, action="config", detail=f"mod_role={mod_role.id}")
        if ask is not None:
            await require_moderator(interaction, store)
            place = await self.bot.interaction_place(interaction)
            await store.set_ask_enabled(place.channel_id, ask.value == "on")
            changes.append(f"/ask is {ask.value} in this channel")
            await store.audit(guild_id=interaction.guild_id, channel_id=interaction.channel_id,
                              actor_id=interaction.user.id, action="config", detail=f"ask={ask.value}")
        place = await self.bot.interaction_place(interaction)
        if tidy is not None:
            actor = await self._actor(interaction, moderator=True)
            await store.set_tidy(place.channel_id, tidy.value)
            changes.append(f"rewinds here {TIDY_LABEL[tidy.value]}")
            await store.audit(guild_id=interaction.guild_id, channel_id=interaction.channel_id,
                              actor_id=interaction.user.id, action="config", detail=f"tidy={tidy.value}")
            setter = getattr(self.bot.narrator, "set_session_tidy", None)
            live = await self.bot.narrator.status(place)
            if setter is not None and live is not None and live.state not in ("finished", "stopped"):
                await setter(place, actor, tidy.value)  # the story playing here follows at once
        role_id = await store.mod_role(interaction.guild_id)
        ask_on = await store.ask_enabled(place.channel_id)
        current_tidy = await store.tidy(place.channel_id) or "delete"
        current = ("Moderators: Manage Messages" + (f" or <@&{role_id}>" if role_id else "")
                   + f". /ask here: {'on' if ask_on else 'off'}. Rewinds here: {TIDY_LABEL[current_tidy]}.")
        text = ("Done: " + "; ".join(changes) + ". " if changes else "") + current
        await send_ephemeral(interaction, text)

    # ---------------------------------------------------------------- reader commands

    @app_commands.command(name="status", description="Where the story in this channel stands")
    async def status(self, interaction: discord.Interaction[Any]) -> None:
        place = await self.bot.interaction_place(interaction)
        view = await self.bot.narrator.status(place)
        if view is None:
            raise Refused(NO_SESSION)
        await send_ephemeral(interaction, "", embed=status_embed(view))

    @app_commands.command(name="recap", description="The current scene so far")
    async def recap(self, interaction: discord.Interaction[Any]) -> None:
        place = await self.bot.interaction_place(interaction)
        view, story = await self._session_story(place)
        beats = await self.bot.narrator.recap(place)
        scene = story.scenes[view.scene_index] if 0 <= view.scene_index < len(story.scenes) else None
        title = f"Recap — scene {view.scene_index + 1}" + (f": {scene.title}" if scene and scene.title else "")
        text = recap_text(story, beats) or "Nothing has been posted in this scene yet."
        embed = discord.Embed(title=trim(title, 256), description=text, colour=discord.Colour.dark_gold())
        await send_ephemeral(interaction, "", embed=embed)

    @app_commands.command(name="characters", description="Who is who in the story")
    @app_commands.describe(story="Which story (default: the one playing here)")
    async def characters(self, interaction: discord.Interaction[Any], story: str | None = None) -> None:
        if story:
            await refresh(self.bot, interaction.guild_id, quick=True)
            key = resolve_story(self.bot, story, interaction.guild_id)
            found = await load_story(self.bot, key)
        else:
            place = await self.bot.interaction_place(interaction)
            view, found = await self._session_story(place)
            key = view.story_slug
        if found is None:
            raise Refused(f"“{echo(story or '')}” cannot be loaded just now; `/story list` shows what can be played.")
        content, extra = cast_message(found, key)
        await send_ephemeral(interaction, content, **extra)

    @app_commands.command(name="list", description="Stories available to play")
    async def list_stories(self, interaction: discord.Interaction[Any]) -> None:
        lines = []
        await refresh(self.bot, interaction.guild_id, quick=True)
        for slug, st, own in visible_stories(self.bot, interaction.guild_id):
            credit = st.credit or (f"by {st.author}" if st.author else "")
            by = f" — {escape(credit)}" if credit else ""
            lines.append(f"**{escape(st.title)}**{by} — `{slug}`, {st.scene_count} scenes, {st.beat_count} beats"
                         + (" (this server's)" if own else ""))
        if not lines:
            lines.append("No stories yet: a moderator can upload one with `/story import file:`.")
        errors = len(self.bot.library.errors)
        if errors:
            lines.append(f"-# {errors} story folder(s) could not be loaded; run `narrator check` to see why.")
        embed = discord.Embed(title="Stories", description=trim("\n".join(lines), EMBED_DESCRIPTION_LIMIT),
                              colour=discord.Colour.dark_gold())
        await send_ephemeral(interaction, "", embed=embed)

    @start.autocomplete("story")
    async def _start_story_ac(self, interaction: discord.Interaction[Any],
                              current: str) -> list[app_commands.Choice[str]]:
        await refresh(self.bot, interaction.guild_id, quick=True)
        return story_choices(self.bot, current, interaction.guild_id)

    @characters.autocomplete("story")
    async def _characters_story_ac(self, interaction: discord.Interaction[Any],
                                   current: str) -> list[app_commands.Choice[str]]:
        await refresh(self.bot, interaction.guild_id, quick=True)
        return story_choices(self.bot, current, interaction.guild_id)

    @jump.autocomplete("scene")
    async def _jump_scene_ac(self, interaction: discord.Interaction[Any],
                             current: str) -> list[app_commands.Choice[int]]:
        return await self.scene_autocomplete(interaction, current)


def advance_reply(mode: str, result: AdvanceResult) -> str:
    if result.advanced:
        return "On we go."
    if mode == "vote" and result.votes > 0:
        return f"Your vote counts: {result.votes}/{result.votes_needed} readers want to go on."
    return "The next beat is already on its way."


CAST_PAGE = 10  # characters per page: one embed each, and a message holds at most 10 embeds


def cast_pages(story: Story) -> int:
    return max(1, -(-len(story.characters) // CAST_PAGE))


def cast_embeds(story: Story, page: int = 0) -> list[discord.Embed]:
    """One page of the cast: an embed per character (avatar, colour, the persona's first
    sentence, pronouns). Names and personas of imported stories are user text: echoed with
    links and mentions defused. Ten embeds of at most ~500 characters stay under Discord's
    6,000 characters per message."""
    cast = list(story.characters)
    if not cast:
        return [discord.Embed(description="This story has no named characters.")]
    page = min(max(page, 0), cast_pages(story) - 1)
    out = []
    for c in cast[page * CAST_PAGE: (page + 1) * CAST_PAGE]:
        e = discord.Embed(description=echo(first_sentence(c.persona)) if c.persona else None,
                          colour=colour_for(voice_of(story, c)))
        e.set_author(name=trim(defuse(c.name), 256), icon_url=avatar_for(voice_of(story, c)))
        if c.pronouns:
            e.set_footer(text=trim(defuse(c.pronouns), 100))
        out.append(e)
    return out


def cast_message(story: Story, key: str, page: int = 0) -> tuple[str, dict[str, Any]]:
    """The reply of `/story characters`: its content, and its embeds and (for a long cast) a
    view of page buttons that keep working after a restart (`CastPageButton`)."""
    pages = cast_pages(story)
    page = min(max(page, 0), pages - 1)
    head = f"The cast of **{echo(story.title)}**"
    if pages > 1:
        first = page * CAST_PAGE + 1
        last = min(len(story.characters), first + CAST_PAGE - 1)
        head += f" — {first}–{last} of {len(story.characters)} (page {page + 1} of {pages})"
    extra: dict[str, Any] = {"embeds": cast_embeds(story, page)}
    if pages > 1 and len(f"cast:n:{pages}:{key}") <= 100:  # a custom_id holds 100 characters
        view = discord.ui.View(timeout=None)
        view.add_item(CastPageButton("p", page - 1, key, disabled=page == 0))
        view.add_item(CastPageButton("n", page + 1, key, disabled=page + 1 >= pages))
        extra["view"] = view
    return head + ":", extra


class CastPageButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                     template=r"cast:(?P<dir>[pn]):(?P<page>-?[0-9]{1,5}):(?P<key>[a-z0-9-]{1,80}(?:@[0-9]{1,20})?)"):
    """◀ / ▶ under a paged cast: turns the (ephemeral) message to another page. Its custom_id
    names the story's library key and the page, so it needs no memory and survives restarts."""

    def __init__(self, direction: str, page: int, key: str, *, disabled: bool = False) -> None:
        label = "◀ Previous" if direction == "p" else "Next ▶"
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle.secondary, disabled=disabled,
                                           custom_id=f"cast:{direction}:{page}:{key}"))
        self.page, self.key = page, key

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> CastPageButton:
        return cls(match["dir"], int(match["page"]), match["key"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: CommandHost = interaction.client  # the NarratorBot
        where = split_key(self.key)
        story = None
        if where is None or where[0] == interaction.guild_id:  # another server's story stays private
            try:
                story = await load_story(bot, self.key)
            except Exception as exc:  # e.g. the database is down: say so, keep the message
                log.warning("turning a cast page: loading %s failed: %s", self.key, exc)
        if story is None:
            await interaction.response.edit_message(content="That story is no longer in the library.",
                                                    embeds=[], view=None)
            return
        content, extra = cast_message(story, self.key, self.page)
        await interaction.response.edit_message(content=content, **extra)


def story_choices(bot: CommandHost, current: str, guild_id: int | None = None) -> list[app_commands.Choice[str]]:
    want = current.strip().casefold()
    out = []
    for slug, st, _ in visible_stories(bot, guild_id):
        if not want or want in slug.casefold() or want in st.title.casefold():
            out.append(app_commands.Choice(name=trim(f"{st.title} ({slug})", 100), value=slug))
    return out[:25]


def resolve_story(bot: CommandHost, name: str, guild_id: int | None = None) -> str:
    """The library key of what the user typed (slug or title, case-insensitive) in this server."""
    key = resolve_key(bot, guild_id, name)
    if key is not None:
        return key
    raise Refused(f"There is no story called “{echo(name)}” here; `/story list` shows the ones available.")


# -------------------------------------------------------------------- /ask


def setup_commands(bot: CommandHost) -> None:
    group = StoryGroup(bot)
    add_library_commands(group, bot)  # import / review / script / cast / delete (library_commands.py)
    bot.tree.add_command(group)

    @app_commands.command(name="ask", description="Ask a character a question; they answer in the channel")
    @app_commands.describe(character="Who to ask", question="Your question")
    @app_commands.guild_only()
    async def ask(interaction: discord.Interaction[Any], character: str,
                  question: app_commands.Range[str, 1, 300]) -> None:
        await ask_command(bot, interaction, character, question)

    @ask.autocomplete("character")
    async def _ask_character_ac(interaction: discord.Interaction[Any],
                                current: str) -> list[app_commands.Choice[str]]:
        try:
            place = await bot.interaction_place(interaction)
            view = await bot.narrator.status(place)
        except Exception:
            return []
        story = bot.library.get(view.story_slug) if view else None
        if story is None:
            return []
        want = current.strip().casefold()
        return [app_commands.Choice(name=trim(c.name, 100), value=c.key) for c in story.characters
                if not want or any(want in n.casefold() for n in c.names())][:25]

    bot.tree.add_command(ask)


async def ask_command(bot: CommandHost, interaction: discord.Interaction[Any], character: str,
                      question: str) -> None:
    place = await bot.interaction_place(interaction)
    view = await bot.narrator.status(place)
    if view is None or view.state == "stopped":
        raise Refused(NO_SESSION)
    if not await bot.store.ask_enabled(place.channel_id):
        raise Refused("/ask is turned off in this channel.")
    if bot.answers is None:
        raise Refused("Asking characters is not available on this bot.")
    story = bot.library.get(view.story_slug)
    if story is None:
        raise Refused("This channel's story is no longer in the story folder.")
    who = story.find_character(character)
    if who is None:
        raise Refused(f"{character!r} is not in {story.title}; try `/story characters`.")
    await interaction.response.defer(ephemeral=True, thinking=True)
    upto = min(view.position, len(story)) - 1
    started = time.monotonic()
    answer = await bot.answers.answer(story, who.key, question, upto, user_id=interaction.user.id)
    speaker = story.character(getattr(answer, "character_key", who.key)) or who
    asker = interaction.user.display_name
    cue = Cue(kind="answer", voice=voice_of(story, speaker), text=str(answer.text),
              aside=f"answering {asker}: “{' '.join(question.split())}”", session_id=view.session_id)
    await bot.narrator.aside(place, upto, lambda: bot.stage.say(place, cue))
    log.info("answered /ask for %s in %s in %.2f s", speaker.key, place.channel_id, time.monotonic() - started)
    await send_ephemeral(interaction, f"{escape(speaker.name)} answered in the channel.")
