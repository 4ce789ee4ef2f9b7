"""The Discord bot: intents, start-up (stage, engine, resumed sessions, buttons, commands),
reactions and the Continue button, and a clean shutdown."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import discord
from discord.ext import commands

from bot.config import Settings
from bot.discord_app.budget import SendBudget
from bot.discord_app.buttons import CONTINUE_REACTIONS, ContinueButton
from bot.discord_app.errors import NarratorTree, report_error, send_ephemeral
from bot.discord_app.permissions import interaction_is_moderator
from bot.discord_app.webhook_stage import WebhookStage
from bot.engine.api import Actor, NarratorError, NarratorService
from bot.engine.stage import Place, Stage
from bot.store import Store
from bot.store.guilds import GuildStore
from bot.story.model import Story

log = logging.getLogger(__name__)


class LibraryLike(Protocol):
    @property
    def stories(self) -> dict[str, Story]: ...
    @property
    def errors(self) -> list[str]: ...
    def get(self, slug: str) -> Story | None: ...


class AnswerLike(Protocol):
    @property
    def character_key(self) -> str: ...
    @property
    def text(self) -> str: ...


class AnswersLike(Protocol):
    async def answer(self, story: Story, character: str, question: str, upto_beat: int,
                     *, user_id: int | None = None) -> Any: ...


NarratorFactory = Callable[[Stage], Awaitable[NarratorService]]


class NarratorBot(commands.Bot):
    def __init__(self, settings: Settings, db: Store, *, library: LibraryLike,
                 narrator_factory: NarratorFactory, answers: AnswersLike | None = None,
                 rate_scale: float = 1.0) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_reactions = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=NarratorTree,
        )
        self.settings = settings
        self.db = db
        self.store = GuildStore(db)
        self.library = library
        self.answers = answers
        self._narrator_factory = narrator_factory
        self._narrator: NarratorService | None = None
        self.stage = WebhookStage(self, self.store, budget=SendBudget(scale=rate_scale))
        self._closing = False

    @property
    def narrator(self) -> NarratorService:
        if self._narrator is None:
            raise NarratorError("The narrator is still starting up; try again in a few seconds.")
        return self._narrator

    async def setup_hook(self) -> None:
        from bot.discord_app.commands import setup_commands

        ContinueButton.handler = self.on_continue
        self.add_dynamic_items(ContinueButton)
        self._narrator = await self._narrator_factory(self.stage)
        resumed = await self._narrator.resume_all()
        if resumed:
            log.info("resumed %d session(s)", resumed)
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
                fetched = await self.fetch_channel(channel_id)
            except (TimeoutError, discord.HTTPException):
                return Place(channel_id, guild_id)
            if isinstance(fetched, discord.Thread):
                return Place(channel_id, guild_id, fetched.parent_id)
        return Place(channel_id, guild_id)

    async def interaction_place(self, interaction: discord.Interaction[Any]) -> Place:
        if interaction.channel_id is None:
            raise NarratorError("This only works in a server channel.")
        return await self.place_of(interaction.channel_id, interaction.guild_id, interaction.channel)

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
            await self.stage.drain()
        await super().close()
