"""The Continue button: a DynamicItem whose custom_id carries the session and the position it
advances from, so it keeps working after a restart (registered with `add_dynamic_items`)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

CONTINUE_EMOJI = "▶️"
# Reactions may come with or without the emoji variation selector.
CONTINUE_REACTIONS = frozenset({"▶️", "▶"})

# Set by the bot at start-up: (interaction, session_id, position) -> None.
ContinueHandler = Callable[[discord.Interaction[Any], int, int], Awaitable[None]]


class ContinueButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"narrator:next:(?P<session>[0-9]+):(?P<position>[0-9]+)",
):
    handler: ContinueHandler | None = None

    def __init__(self, session_id: int, position: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Continue",
                emoji=CONTINUE_EMOJI,
                style=discord.ButtonStyle.primary,
                custom_id=f"narrator:next:{session_id}:{position}",
            )
        )
        self.session_id = session_id
        self.position = position

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ContinueButton:
        return cls(int(match["session"]), int(match["position"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = ContinueButton.handler
        if handler is None:  # pragma: no cover - the bot sets it in setup_hook
            await interaction.response.defer()
            return
        await handler(interaction, self.session_id, self.position)


def continue_view(session_id: int, position: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ContinueButton(session_id, position))
    return view
