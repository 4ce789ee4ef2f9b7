"""The Discord bot: intents, start-up (resumed sessions, buttons, commands), reactions and the
Continue button, and a clean shutdown.

It builds nothing it depends on: the composition root (`bot/app.py`) hands it the guild store,
the story library and the answer engine, then attaches the stage and the narrator it built
around this client (the stage needs the client to talk to Discord), as discord.py's
`advanced_startup` example passes its services in.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from bot.config import Settings
from bot.discord_app.buttons import CONTINUE_REACTIONS, ContinueButton
from bot.discord_app.commands import CastPageButton, setup_commands
from bot.discord_app.errors import NarratorTree, report_error, send_ephemeral
from bot.discord_app.library_commands import (
    LIBRARY_ITEMS,
    cast_form,
    cast_submitted,
    load_channel_story,
    unpin_resumed,
)
from bot.discord_app.permissions import interaction_is_moderator
from bot.discord_app.services import AnswersLike, StoryLibrary
from bot.discord_app.webhook_stage import WebhookStage
from bot.engine.api import Actor, NarratorError, NarratorService
from bot.engine.stage import Place
from bot.store.guilds import GuildStore

log = logging.getLogger(__name__)

# A request that Discord rate-limits for longer than this raises `discord.RateLimited` instead
# of sleeping inside discord.py (30 s is the smallest value discord.py accepts); the webhook
# stage maps it to the engine's `RateLimited`, which waits and retries the same beat. Webhook
# executes, which discord.py retries on its own, are cut off by the stage's SEND_TIMEOUT instead.
MAX_RATELIMIT_WAIT = 30.0


def _shard_options(settings: Settings) -> dict[str, Any]:
    if settings.shard_count is None:
        return {}
    return {"shard_count": settings.shard_count, "shard_ids": list(settings.shard_ids or range(settings.shard_count))}


class NarratorBot(commands.Bot):
    def __init__(self, settings: Settings, *, guilds: GuildStore, library: StoryLibrary,
                 answers: AnswersLike | None = None) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_reactions = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=NarratorTree,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            **_shard_options(settings),
        )
        self.settings = settings
        self.store = guilds
        self.library = library
        self.answers = answers
        self._stage: WebhookStage | None = None
        self._narrator: NarratorService | None = None
        self._closing = False

    def attach(self, stage: WebhookStage, narrator: NarratorService) -> None:
        """The stage built on this client and the narrator that posts through it (before start)."""
        self._stage = stage
        self._narrator = narrator

    @property
    def stage(self) -> WebhookStage:
        if self._stage is None:
            raise RuntimeError("NarratorBot.attach(stage, narrator) must be called before start")
        return self._stage

    @property
    def narrator(self) -> NarratorService:
        if self._narrator is None:
            raise NarratorError("The narrator is still starting up; try again in a few seconds.")
        return self._narrator

    async def setup_hook(self) -> None:
        ContinueButton.handler = self.on_continue
        self.add_dynamic_items(ContinueButton, CastPageButton, *LIBRARY_ITEMS)  # every button keeps working after a restart
        resumed = await self.narrator.resume_all()
        if resumed:
            log.info("resumed %d session(s)", resumed)
        unpin_resumed(self.library)
        setup_commands(self)
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        log.info("synced %d command(s) %s", len(synced),
                 f"to guild {guild.id}" if guild else "globally")

    async def on_ready(self) -> None:
        log.info("connected as %s (%s guilds)", self.user, len(self.guilds))

    # ------------------------------------------------------------------ places

    async def place_of(self, channel_id: int, guild_id: int | None, channel: Any = None) -> Place:
        """Where `channel_id` is: a thread knows its parent (resolved from cache, else REST)."""
        if channel is None or not hasattr(channel, "parent_id"):
            channel = self.get_channel(channel_id) or channel
        if isinstance(channel, discord.Thread):
            return Place(channel_id, guild_id, channel.parent_id)
        if channel is None or isinstance(channel, discord.PartialMessageable):
            try:
                await self.stage.gate.acquire_global()
                fetched = await self.fetch_channel(channel_id)
            except (TimeoutError, discord.HTTPException):
                return Place(channel_id, guild_id)
            if isinstance(fetched, discord.Thread):
                return Place(channel_id, guild_id, fetched.parent_id)
        return Place(channel_id, guild_id)

    async def interaction_place(self, interaction: discord.Interaction[Any]) -> Place:
        """Where the interaction happens; the story of the session there is loaded into memory
        first (a server's own stories are loaded on demand), so the command finds it."""
        if interaction.channel_id is None:
            raise NarratorError("This only works in a server channel.")
        place = await self.place_of(interaction.channel_id, interaction.guild_id, interaction.channel)
        await load_channel_story(self.library, place.channel_id)
        return place

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        form = cast_form(interaction)
        if form is not None:  # answered here, not by the Modal object, so it survives a restart
            await cast_submitted(interaction, form)

    # ------------------------------------------------------------------ advancing

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if str(payload.emoji) not in CONTINUE_REACTIONS or payload.guild_id is None:
            return
        if self.user is not None and payload.user_id == self.user.id:
            return
        if payload.member is not None and payload.member.bot:
            return  # other bots and webhooks never vote
        if self._narrator is None or self._closing:
            return
        place = await self.place_of(payload.channel_id, payload.guild_id)
        await load_channel_story(self.library, place.channel_id)  # a server story is loaded on demand
        name = payload.member.display_name if payload.member else ""
        actor = Actor(user_id=payload.user_id, name=name, moderator=False)
        try:
            result = await self._narrator.advance(place, actor, message_id=payload.message_id)
            log.debug("▶ from %s on %s in %s: advanced=%s votes=%s/%s", payload.user_id, payload.message_id,
                      payload.channel_id, result.advanced, result.votes, result.votes_needed)
        except NarratorError as exc:
            log.debug("▶ from %s in %s ignored: %s", payload.user_id, payload.channel_id, exc)
        except Exception:
            log.exception("advancing on a reaction in channel %s failed", payload.channel_id)

    async def on_continue(self, interaction: discord.Interaction[Any], session_id: int, position: int) -> None:
        try:
            await interaction.response.defer()
            place = await self.interaction_place(interaction)
            moderator = await interaction_is_moderator(interaction, self.store)
            actor = Actor(interaction.user.id, interaction.user.display_name, moderator)
            message_id = interaction.message.id if interaction.message else None
            result = await self.narrator.advance(place, actor, message_id=message_id)
            if not result.advanced and result.votes > 0:
                await send_ephemeral(
                    interaction, f"Your vote counts: {result.votes}/{result.votes_needed} readers want to go on."
                )
        except Exception as exc:
            await report_error(interaction, exc)

    # ------------------------------------------------------------------ shutdown

    async def close(self) -> None:
        if not self._closing:
            self._closing = True
            if self._narrator is not None:
                try:
                    await self._narrator.close()
                except Exception:
                    log.exception("stopping the narrator failed")
            if self._stage is not None:
                await self._stage.drain()
        await super().close()


class ShardedNarratorBot(NarratorBot, commands.AutoShardedBot):
    """The same bot running some shards of a bot whose servers are split over several processes
    (SHARD_COUNT, SHARD_IDS): one gateway connection per shard, each IDENTIFYing with its
    [shard_id, shard_count], so Discord sends it only the events of the guilds that shard owns."""


def build_bot(settings: Settings, *, guilds: GuildStore, library: StoryLibrary,
              answers: AnswersLike | None = None) -> NarratorBot:
    """A plain bot, or a sharded one when SHARD_COUNT is set."""
    cls = NarratorBot if settings.shard_count is None else ShardedNarratorBot
    return cls(settings, guilds=guilds, library=library, answers=answers)
