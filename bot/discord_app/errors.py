"""One place where command failures become what the user sees.

Domain refusals (NarratorError, AskRefused, Refused) are one ephemeral sentence; anything else
is logged with its full traceback and the user gets a short apology. Works whether or not the
interaction has already been answered or deferred.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord import app_commands

from bot.answers.voice import defuse
from bot.discord_app.permissions import Refused
from bot.discord_app.render import MESSAGE_LIMIT, trim
from bot.engine.api import NarratorError, TooFast
from bot.engine.stage import Forbidden, Gone, RateLimited, StageError

log = logging.getLogger(__name__)

APOLOGY = "Sorry — something went wrong on my side. The moderators can find the details in the bot's log."
NO_MENTIONS = discord.AllowedMentions.none()

_user_facing: tuple[type[BaseException], ...] = (NarratorError, Refused)


def register_user_facing(*types: type[BaseException]) -> None:
    """Other services' refusal types (e.g. the ask engine's AskRefused) join the domain errors."""
    global _user_facing
    _user_facing = tuple(dict.fromkeys((*_user_facing, *types)))


def user_message(error: BaseException) -> tuple[str, bool]:
    """(text to show, whether it is an expected refusal)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, TooFast):
        return str(error), True
    if isinstance(error, _user_facing):
        return str(error) or "That can't be done right now.", True
    if isinstance(error, Forbidden):
        return f"I can't post here: {error.fix or 'check my permissions in this channel.'}", True
    if isinstance(error, Gone):
        return "That channel, thread or message is gone (or the thread is archived or locked).", True
    if isinstance(error, RateLimited):
        return f"Discord asked me to slow down; try again in {max(1, round(error.retry_after))} s.", True
    if isinstance(error, StageError):
        return "Discord didn't accept the message just now; try again in a moment.", True
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server channel.", True
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s.", True
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You can't use this command here.", True
    if isinstance(error, app_commands.TransformerError):
        return f"{error.value!r} isn't a valid choice here.", True
    return APOLOGY, False


# A quotation in a reply (a name the user typed, a story title) longer than this is shortened,
# so the sentence around it — what went wrong, what to do — still fits.
QUOTE_LIMIT = 100
_QUOTED = re.compile(r"""(['"“‘«])([^'"”’»\n]{""" + str(QUOTE_LIMIT + 1) + r""",})(['"”’»])""")


def reply_text(text: str) -> str:
    """A reply that may quote what a user typed (a story or character name, a question): control
    characters and links defused, long quotations shortened, trimmed to one Discord message, so
    it is always delivered and still says what to do."""
    text = _QUOTED.sub(lambda m: m.group(1) + trim(m.group(2), QUOTE_LIMIT) + m.group(3), defuse(text))
    return trim(text, MESSAGE_LIMIT)


async def send_ephemeral(interaction: discord.Interaction[Any], text: str, **kw: Any) -> None:
    content = reply_text(text) or None  # an embed-only reply carries no empty content string
    if content is not None and "embed" not in kw and "embeds" not in kw:
        kw["suppress_embeds"] = True
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True, allowed_mentions=NO_MENTIONS, **kw)  # type: ignore[arg-type]
        else:
            await interaction.response.send_message(content, ephemeral=True, allowed_mentions=NO_MENTIONS, **kw)
    except discord.HTTPException as exc:  # 10062 unknown interaction (too late), 40060 answered
        log.info("could not answer interaction %s: %s", interaction.id, exc.code)


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    text, expected = user_message(error)
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    name = interaction.command.qualified_name if interaction.command else "component"
    if expected:
        log.info("refused %s for user %s: %s", name, interaction.user.id, text)
    else:
        log.error("%s failed in channel %s", name, interaction.channel_id, exc_info=original)
    await send_ephemeral(interaction, text)


class NarratorTree(app_commands.CommandTree[Any]):
    async def on_error(self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)
