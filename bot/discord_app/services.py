"""What the Discord app is handed by the composition root (`bot/app.py`), as protocols: the
commands and the bot depend on these shapes, never on each other or on `app`."""

from __future__ import annotations

from typing import Any, Protocol

import discord
from discord import app_commands

from bot.engine.api import NarratorService
from bot.engine.stage import Cue, MessageRef, Place
from bot.store.guilds import GuildStore
from bot.story.model import Story


class StoryLibrary(Protocol):
    @property
    def stories(self) -> dict[str, Story]: ...
    @property
    def errors(self) -> list[str]: ...
    def get(self, slug: str) -> Story | None: ...


class AnswersLike(Protocol):
    async def answer(self, story: Story, character: str, question: str, upto_beat: int,
                     *, user_id: int | None = None) -> Any: ...


class ChannelStage(Protocol):
    """The parts of the webhook stage that commands use directly."""

    async def say(self, place: Place, cue: Cue) -> MessageRef: ...
    def clear_controls(self, place: Place) -> None: ...


class CommandHost(Protocol):
    """What slash commands need from the bot: the services, and where an interaction happens."""

    @property
    def tree(self) -> app_commands.CommandTree[Any]: ...
    @property
    def narrator(self) -> NarratorService: ...
    @property
    def library(self) -> StoryLibrary: ...
    @property
    def store(self) -> GuildStore: ...
    @property
    def stage(self) -> ChannelStage: ...
    @property
    def answers(self) -> AnswersLike | None: ...
    async def interaction_place(self, interaction: discord.Interaction[Any]) -> Place: ...
