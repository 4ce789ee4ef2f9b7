"""The emulated Discord world: guilds, channels, threads, roles, members, webhooks, messages,
synced commands, and the JSON payloads discord.py 2.7.1 expects for each of them."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

# --- permission bits (https://discord.com/developers/docs/topics/permissions) -------------------
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
MANAGE_ROLES = 1 << 28
MANAGE_WEBHOOKS = 1 << 29
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

#: What @everyone may do by default in the emulated guild (a reader).
EVERYONE_DEFAULT = (VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | ADD_REACTIONS | EMBED_LINKS
                    | USE_APPLICATION_COMMANDS | SEND_MESSAGES_IN_THREADS | CREATE_PUBLIC_THREADS
                    | USE_EXTERNAL_EMOJIS | ATTACH_FILES)
#: Everything the narrator bot needs (its managed role gets this, not Administrator).
BOT_DEFAULT = (EVERYONE_DEFAULT | MANAGE_WEBHOOKS | MANAGE_MESSAGES | MANAGE_THREADS)

# channel types
GUILD_TEXT = 0
GUILD_CATEGORY = 4
GUILD_ANNOUNCEMENT = 5
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
GUILD_FORUM = 15
THREAD_TYPES = (10, PUBLIC_THREAD, PRIVATE_THREAD)

DISCORD_EPOCH_MS = 1420070400000


def iso(ts: float | None = None) -> str:
    return dt.datetime.fromtimestamp(time.time() if ts is None else ts, dt.UTC).isoformat()


class Snowflakes:
    """Strictly increasing, time-based snowflake ids (so `discord.utils.snowflake_time` is sane)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(self._last + 1, candidate)
        return self._last


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    avatar: str | None = None
    global_name: str | None = None

    def payload(self) -> dict[str, Any]:
        p: dict[str, Any] = {"id": str(self.id), "username": self.username, "discriminator": "0",
                             "global_name": self.global_name, "avatar": self.avatar,
                             "public_flags": 0, "flags": 0}
        if self.bot:
            p["bot"] = True
        return p


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 1
    managed: bool = False

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "name": self.name, "color": 0, "colors": {"primary_color": 0},
                "hoist": False, "icon": None, "unicode_emoji": None, "position": self.position,
                "permissions": str(self.permissions), "managed": self.managed, "mentionable": False,
                "flags": 0, "tags": {}}


@dataclass
class Member:
    """A guild member. `user` is the account; `roles` are role ids (the @everyone role is implicit)."""

    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso)

    @property
    def id(self) -> int:
        return self.user.id

    def payload(self, permissions: int | None = None) -> dict[str, Any]:
        p: dict[str, Any] = {"user": self.user.payload(), "roles": [str(r) for r in self.roles],
                             "nick": self.nick, "avatar": None, "banner": None,
                             "joined_at": self.joined_at, "premium_since": None, "deaf": False,
                             "mute": False, "pending": False, "flags": 0,
                             "communication_disabled_until": None}
        if permissions is not None:
            p["permissions"] = str(permissions)
        return p


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class Channel:
    id: int
    guild_id: int
    name: str
    type: int = GUILD_TEXT
    parent_id: int | None = None
    position: int = 0
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    # threads only
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    created_at: float = field(default_factory=time.time)
    last_message_id: int | None = None
    message_count: int = 0

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    def payload(self) -> dict[str, Any]:
        p: dict[str, Any] = {"id": str(self.id), "guild_id": str(self.guild_id), "name": self.name,
                             "type": self.type, "position": self.position, "flags": 0,
                             "parent_id": str(self.parent_id) if self.parent_id else None,
                             "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                             "rate_limit_per_user": 0}
        if self.is_thread:
            p.update(owner_id=str(self.owner_id), message_count=self.message_count,
                     member_count=1, total_message_sent=self.message_count,
                     thread_metadata={"archived": self.archived, "auto_archive_duration": 1440,
                                      "archive_timestamp": iso(self.created_at), "locked": self.locked,
                                      "invitable": True, "create_timestamp": iso(self.created_at)})
        else:
            p.update(topic=None, nsfw=False,
                     permission_overwrites=[o.payload() for o in self.overwrites.values()])
        return p


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def payload(self, *, bot_id: int) -> dict[str, Any]:
        """The GUILD_CREATE payload (no members intent: only the bot's own member is sent)."""
        regular = [c for c in self.channels.values() if not c.is_thread]
        threads = [c for c in self.channels.values() if c.is_thread and not c.archived]
        members = [m.payload() for m in self.members.values() if m.id == bot_id]
        return {
            "id": str(self.id), "name": self.name, "icon": None, "splash": None, "discovery_splash": None,
            "banner": None, "description": None, "owner_id": str(self.owner_id), "region": None,
            "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 1, "explicit_content_filter": 0, "features": [],
            "mfa_level": 0, "system_channel_id": None, "system_channel_flags": 0,
            "rules_channel_id": None, "vanity_url_code": None, "premium_tier": 0,
            "premium_subscription_count": 0, "preferred_locale": "en-US",
            "public_updates_channel_id": None, "nsfw_level": 0, "premium_progress_bar_enabled": False,
            "max_members": 500000, "max_video_channel_users": 25, "application_id": None,
            "roles": [r.payload() for r in self.roles.values()], "emojis": [], "stickers": [],
            "joined_at": iso(), "large": False, "unavailable": False,
            "member_count": len(self.members), "voice_states": [], "members": members,
            "channels": [c.payload() for c in regular], "threads": [c.payload() for c in threads],
            "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [], "lazy": True,
        }

    def base_permissions(self, member: Member) -> int:
        if member.id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.everyone.permissions
        for rid in member.roles:
            role = self.roles.get(rid)
            if role is not None:
                perms |= role.permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def permissions_in(self, member: Member, channel: Channel) -> int:
        """Discord's permission algorithm: base, then @everyone, role and member overwrites.
        Threads use their parent's overwrites."""
        if channel.is_thread and channel.parent_id is not None:
            channel = self.channels[channel.parent_id]
        perms = self.base_permissions(member)
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        ow = channel.overwrites.get(self.id)
        if ow is not None:
            perms = (perms & ~ow.deny) | ow.allow
        allow = deny = 0
        for rid in member.roles:
            ow = channel.overwrites.get(rid)
            if ow is not None and ow.type == 0:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        ow = channel.overwrites.get(member.id)
        if ow is not None and ow.type == 1:
            perms = (perms & ~ow.deny) | ow.allow
        return perms


@dataclass
class Webhook:
    id: int
    token: str
    channel_id: int
    guild_id: int
    name: str
    avatar: str | None
    creator: User
    application_id: int | None  # set when created by the bot: "application-owned"

    def payload(self, *, with_token: bool = True) -> dict[str, Any]:
        p: dict[str, Any] = {"id": str(self.id), "type": 1, "guild_id": str(self.guild_id),
                             "channel_id": str(self.channel_id), "name": self.name, "avatar": self.avatar,
                             "application_id": str(self.application_id) if self.application_id else None,
                             "user": self.creator.payload()}
        if with_token:
            p["token"] = self.token
        return p


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass
class StoredMessage:
    """A message as the emulator stored it, with the raw request fields a test may want to check."""

    id: int
    channel_id: int  # the thread id for messages in a thread
    guild_id: int
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    tts: bool = False
    webhook_id: int | None = None
    username: str | None = None  # per-message username override (webhooks)
    avatar_url: str | None = None
    allowed_mentions: dict[str, Any] | None = None  # exactly as sent; None = not sent
    interaction_id: int | None = None
    application_id: int | None = None
    message_reference: dict[str, Any] | None = None
    nonce: str | int | None = None
    timestamp: float = field(default_factory=time.time)
    edited_timestamp: float | None = None
    reactions: dict[str, list[int]] = field(default_factory=dict)  # emoji -> user ids in order
    edits: list[dict[str, Any]] = field(default_factory=list)  # every PATCH body, in order
    deleted: bool = False
    ephemeral: bool = False
    pinged_users: list[int] = field(default_factory=list)
    pinged_roles: list[int] = field(default_factory=list)
    pinged_everyone: bool = False
    type: int = 0  # 20 = the original response to a slash command
    bot_id: int = 0  # whose reactions count as "me"
    files: dict[str, bytes] = field(default_factory=dict)  # uploaded files (multipart), by file name

    @property
    def name(self) -> str:
        """The name readers see: the username override, else the author's name."""
        return self.username or self.author.username

    def compute_pings(self, guild: Guild | None) -> None:
        """Who Discord would notify, given the content and `allowed_mentions` (default: parse all)."""
        text = self.content
        am = self.allowed_mentions
        users = [int(u) for u in _USER_MENTION.findall(text)]
        roles = [int(r) for r in _ROLE_MENTION.findall(text)]
        everyone = "@everyone" in text or "@here" in text
        if am is not None:
            parse = am.get("parse", [])
            allowed_users = {int(u) for u in am.get("users", [])}
            allowed_roles = {int(r) for r in am.get("roles", [])}
            users = [u for u in users if "users" in parse or u in allowed_users]
            roles = [r for r in roles if "roles" in parse or r in allowed_roles]
            everyone = everyone and "everyone" in parse
        if guild is not None:
            roles = [r for r in roles if r in guild.roles]
        self.pinged_users = list(dict.fromkeys(users))
        self.pinged_roles = list(dict.fromkeys(roles))
        self.pinged_everyone = everyone

    @property
    def pings_anyone(self) -> bool:
        return bool(self.pinged_users or self.pinged_roles or self.pinged_everyone)

    def payload(self) -> dict[str, Any]:
        author = self.author.payload()
        if self.webhook_id is not None:
            author = {"id": str(self.webhook_id), "username": self.username or self.author.username,
                      "avatar": None, "discriminator": "0000", "bot": True, "global_name": None,
                      "public_flags": 0, "flags": 0}
        p: dict[str, Any] = {
            "id": str(self.id), "type": self.type,
            "channel_id": str(self.channel_id), "guild_id": str(self.guild_id), "author": author,
            "content": self.content, "timestamp": iso(self.timestamp),
            "edited_timestamp": iso(self.edited_timestamp) if self.edited_timestamp else None,
            "tts": self.tts, "mention_everyone": self.pinged_everyone,
            "mentions": [{"id": str(u), "username": f"user{u}", "discriminator": "0", "avatar": None}
                         for u in self.pinged_users],
            "mention_roles": [str(r) for r in self.pinged_roles], "attachments": [],
            "embeds": self.embeds, "components": self.components, "pinned": False,
            "flags": self.flags,
            "reactions": [{"emoji": {"id": None, "name": e}, "count": len(us), "me": self.bot_id in us,
                           "count_details": {"burst": 0, "normal": len(us)}, "burst_colors": [],
                           "me_burst": False, "burst_me": False, "burst_count": 0}
                          for e, us in self.reactions.items() if us],
        }
        if self.webhook_id is not None:
            p["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            p["application_id"] = str(self.application_id)
        if self.nonce is not None:
            p["nonce"] = self.nonce
        if self.message_reference is not None:
            p["message_reference"] = self.message_reference
        return p


@dataclass
class Command:
    """An application command as synced by the bot (guild_id None = global)."""

    id: int
    application_id: int
    guild_id: int | None
    body: dict[str, Any]
    version: int

    @property
    def name(self) -> str:
        return str(self.body["name"])

    def payload(self) -> dict[str, Any]:
        p = dict(self.body)
        p.setdefault("type", 1)
        p.setdefault("description", "")
        p.setdefault("options", [])
        p.setdefault("default_member_permissions", None)
        p.setdefault("nsfw", False)
        p.setdefault("contexts", None)
        p.setdefault("integration_types", [0])
        p.update(id=str(self.id), application_id=str(self.application_id), version=str(self.version))
        if self.guild_id is not None:
            p["guild_id"] = str(self.guild_id)
        else:
            p.setdefault("dm_permission", True)
        return p


def new_token(n: int = 48) -> str:
    return secrets.token_urlsafe(n)


@dataclass
class Attachment:
    """A file a user attached to a slash command; served at `url` on the emulator (127.0.0.1)."""

    id: int
    filename: str
    data: bytes
    content_type: str
    url: str
    size: int = -1  # what the payload claims; -1 = len(data)
    fetches: int = 0

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "filename": self.filename, "size": len(self.data) if self.size < 0 else self.size,
                "url": self.url, "proxy_url": self.url, "content_type": self.content_type, "ephemeral": True}
