"""Who may run moderator commands: checked in code on every call, because Discord's
`default_permissions` is only a hint (ignored on subcommands, overridable by server admins)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import discord

from bot.store.guilds import GuildStore

NOT_MODERATOR = ("Only moderators can do that: you need the Manage Messages permission here, "
                 "or the server's narrator moderator role.")
NOT_ADMIN = "Only someone with the Manage Server permission can change the moderator role."


class Refused(Exception):
    """A command refused for a reason the user can act on; `str(e)` is shown to them."""


def is_moderator(permissions: discord.Permissions, role_ids: Iterable[int], mod_role_id: int | None) -> bool:
    """Manage Messages (or Administrator) in the channel, or the configured moderator role."""
    if permissions.administrator or permissions.manage_messages:
        return True
    return mod_role_id is not None and mod_role_id in set(role_ids)


def member_role_ids(user: Any) -> set[int]:
    """Role ids of an interaction's member, even those not (yet) in the role cache."""
    ids: set[int] = set()
    for role in getattr(user, "roles", ()) or ():
        ids.add(int(role.id))
    raw = getattr(user, "_roles", None)
    if raw is not None:
        ids.update(int(r) for r in raw)
    return ids


async def interaction_is_moderator(interaction: discord.Interaction[Any], store: GuildStore) -> bool:
    if interaction.guild_id is None:
        return False
    mod_role = await store.mod_role(interaction.guild_id)
    return is_moderator(interaction.permissions, member_role_ids(interaction.user), mod_role)


async def require_moderator(interaction: discord.Interaction[Any], store: GuildStore) -> None:
    if not await interaction_is_moderator(interaction, store):
        raise Refused(NOT_MODERATOR)


def require_admin(interaction: discord.Interaction[Any]) -> None:
    perms = interaction.permissions
    if not (perms.administrator or perms.manage_guild):
        raise Refused(NOT_ADMIN)
