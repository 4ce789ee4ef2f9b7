"""The Emulator: one aiohttp server (REST under /api/v10, gateway at /gateway) plus the helpers
a test uses to build a world and act as a user. See the package docstring for the API."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from .faults import Fault, Faults
from .gateway import Gateway
from .ratelimit import RateLimiter
from .rest import EPHEMERAL, LOADING, RecordedRequest, RestApi
from .state import (
    BOT_DEFAULT,
    EVERYONE_DEFAULT,
    GUILD_TEXT,
    MANAGE_MESSAGES,
    PUBLIC_THREAD,
    Attachment,
    Channel,
    Command,
    Guild,
    Member,
    Overwrite,
    Role,
    Snowflakes,
    StoredMessage,
    User,
    Webhook,
    new_token,
)

T = TypeVar("T")

INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10

# application command option types
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)


@dataclass
class Stats:
    requests: int = 0
    rate_limited: int = 0  # every 429 the emulator answered (limits and injected faults)
    rate_limited_by_scope: dict[str, int] = field(default_factory=dict)
    rate_limited_requests: list[str] = field(default_factory=list)  # "METHOD /path (scope)"
    faults: int = 0
    unauthorized: int = 0
    invalid: int = 0  # 401/403/429 answers (Discord bans an IP after 10,000 in 10 minutes)

    def record_429(self, method: str, path: str, scope: str) -> None:
        self.rate_limited += 1
        if scope != "shared":  # Discord does not count shared-resource 429s as invalid requests
            self.invalid += 1
        self.rate_limited_by_scope[scope] = self.rate_limited_by_scope.get(scope, 0) + 1
        self.rate_limited_requests.append(f"{method} {path} ({scope})")


@dataclass
class Interaction:
    """One interaction the emulator dispatched, and how the bot answered it."""

    emu: Emulator
    id: int
    token: str
    type: int  # 2 command, 3 component, 4 autocomplete
    channel_id: int
    guild_id: int
    user: Member
    data: dict[str, Any]
    payload: dict[str, Any]
    message: StoredMessage | None = None  # the message a pressed button belongs to
    created: float = field(default_factory=time.monotonic)
    callback: dict[str, Any] | None = None  # {"type": n, "data": {...}} as the bot sent it
    callback_at: float | None = None
    original: StoredMessage | None = None
    followups: list[StoredMessage] = field(default_factory=list)
    expired: bool = False
    followups_replaced_loading: bool = False

    @property
    def response_type(self) -> int | None:
        return None if self.callback is None else int(self.callback["type"])

    @property
    def response_delay(self) -> float | None:
        return None if self.callback_at is None else self.callback_at - self.created

    @property
    def ephemeral(self) -> bool:
        return self.original is not None and bool(self.original.flags & EPHEMERAL)

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices the bot returned (type 8)."""
        assert self.callback is not None and self.callback["type"] == 8, "no autocomplete result"
        return list(self.callback["data"].get("choices") or [])

    @property
    def messages(self) -> list[StoredMessage]:
        """The original response (if it has content now) then every follow-up, in order."""
        out = [] if self.original is None or self.original.flags & LOADING else [self.original]
        return out + [m for m in self.followups if m is not self.original]

    @property
    def text(self) -> str:
        """Everything the user was shown in reply: contents and embed titles/descriptions/fields."""
        parts: list[str] = []
        for m in self.messages:
            parts.append(m.content)
            for e in m.embeds:
                parts += [e.get("title") or "", e.get("description") or ""]
                parts += [f"{f.get('name', '')} {f.get('value', '')}" for f in e.get("fields") or []]
                parts.append((e.get("footer") or {}).get("text") or "")
                parts.append((e.get("author") or {}).get("name") or "")
        if self.callback is not None and self.callback["type"] == 9:
            parts.append(str(self.callback["data"].get("title", "")))
        return "\n".join(p for p in parts if p)

    async def wait_response(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """Wait for the interaction callback (the initial response) and return it."""
        await self.emu.wait_for(lambda: self.callback is not None, timeout,
                                what=f"a response to interaction {self.id}")
        assert self.callback is not None
        return self.callback

    async def wait_reply(self, timeout: float = 10.0) -> str:  # noqa: ASYNC109
        """Wait until the user sees a reply (a message, a filled-in deferred response, a follow-up
        or a modal) and return `text`."""
        await self.emu.wait_for(lambda: bool(self.messages) or (self.response_type in (6, 8, 9)), timeout,
                                what=f"a visible reply to interaction {self.id}")
        return self.text

    async def wait_followups(self, n: int = 1, timeout: float = 10.0) -> list[StoredMessage]:  # noqa: ASYNC109
        await self.emu.wait_for(lambda: len(self.followups) >= n, timeout,
                                what=f"{n} follow-ups to interaction {self.id}")
        return self.followups


class WaitTimeout(AssertionError):
    pass


class Emulator:
    """A loopback Discord. `await emu.start()` / `await emu.stop()` (or `async with Emulator()`)."""

    api_prefix = "/api/v10"

    def __init__(self, *, token: str | None = None, default_world: bool = True) -> None:
        self.snowflakes = Snowflakes()
        self.token = token or f"MTIz{new_token(6)}.emulator.{new_token(20)}"
        self.bot_user = User(self.snowflakes.next(), "Narrator", bot=True)
        self.application_id = self.bot_user.id  # like Discord: the app id is the bot user's id
        self.owner = User(self.snowflakes.next(), "app-owner")
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user, self.owner.id: self.owner}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.deleted_webhooks: list[Webhook] = []
        self.commands: dict[int, Command] = {}
        self.command_syncs: list[int | None] = []  # guild id (None: global) of every PUT
        self.messages_by_id: dict[int, StoredMessage] = {}
        self._channel_messages: dict[int, list[StoredMessage]] = {}
        self.interactions: dict[int, Interaction] = {}
        self.interactions_by_token: dict[str, Interaction] = {}
        self.typing: list[tuple[int, float]] = []
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[str] = []
        self.errors: list[str] = []  # exceptions inside the emulator (answered with 500)
        self.stats = Stats()
        self.faults = Faults()
        self.ratelimits = RateLimiter()
        self.max_webhooks_per_channel = 15
        # Seconds a webhook execute waits AFTER storing the message before answering: lets a test
        # act on the message (react) while the bot still waits for the response, as on a slow link.
        self.webhook_response_delay = 0.0
        self.interaction_timeout = 3.0
        self.attachments: dict[int, Attachment] = {}
        self.host = "127.0.0.1"
        self.gateway = Gateway(self)
        self.rest = RestApi(self)
        self._cond: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        if default_world:
            self.guild = self.add_guild("Story Club")
            self.channel = self.add_channel(self.guild, "roleplay")
            self.mod_role = self.add_role(self.guild, "Moderators", permissions=EVERYONE_DEFAULT | MANAGE_MESSAGES)
            self.moderator = self.add_member(self.guild, "mod", roles=[self.mod_role])
            self.reader = self.add_member(self.guild, "reader")

    # ------------------------------------------------------------------ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Emulator:
        self._cond = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/", self.gateway.handle)
        app.router.add_get("/attachments/{attachment_id}/{filename}", self._serve_attachment)
        app.router.add_route("*", "/{tail:.*}", self.rest.handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.host = host
        return self

    def add_attachment(self, filename: str, data: bytes, *, content_type: str = "application/octet-stream",
                       claimed_size: int = -1) -> Attachment:
        """A file a user is about to attach to a command (pass it as an ATTACHMENT option value);
        served over HTTP on 127.0.0.1 like Discord's CDN."""
        aid = self.snowflakes.next()
        att = Attachment(aid, filename, data, content_type,
                         f"http://{self.host}:{self.port}/attachments/{aid}/{filename}", size=claimed_size)
        self.attachments[aid] = att
        return att

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        att = self.attachments.get(int(request.match_info["attachment_id"]) if request.match_info["attachment_id"].isdigit() else 0)
        if att is None or att.filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        att.fetches += 1
        return web.Response(body=att.data, headers={"Content-Type": att.content_type})

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.api_prefix}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def env(self) -> dict[str, str]:
        """DISCORD_TOKEN / DISCORD_API_BASE / DISCORD_GATEWAY_URL for a bot process."""
        return {"DISCORD_TOKEN": self.token, "DISCORD_API_BASE": self.api_base,
                "DISCORD_GATEWAY_URL": self.gateway_url}

    def check_token(self, token: str) -> bool:
        return token.removeprefix("Bot ") == self.token

    # ------------------------------------------------------------------ waiting
    async def changed(self) -> None:
        if self._cond is None:
            return
        async with self._cond:
            self._cond.notify_all()

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0, *, what: str | None = None) -> T:  # noqa: ASYNC109
        """Wait until `predicate()` is truthy (re-checked on every emulator state change) and return
        its value. Raises WaitTimeout (an AssertionError) after `timeout` seconds."""
        assert self._cond is not None, "emulator not started"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._cond:
            while True:
                result = predicate()
                if result:
                    return result
                left = deadline - loop.time()
                if left <= 0:
                    raise WaitTimeout(f"timed out after {timeout}s waiting for {what or predicate}")
                # woken by every state change; the short cap also catches state outside the emulator
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._cond.wait(), min(left, 0.05))

    async def wait_ready(self, *, commands: bool = True, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """The bot has identified (READY + GUILD_CREATEs sent) and, if `commands`, synced commands."""
        await self.wait_for(lambda: self.gateway.ready and (not commands or bool(self.command_syncs)),
                            timeout, what="the bot to connect" + (" and sync commands" if commands else ""))

    # ------------------------------------------------------------------ world building
    def add_guild(self, name: str) -> Guild:
        gid = self.snowflakes.next()
        guild = Guild(gid, name, owner_id=self.owner.id)
        guild.roles[gid] = Role(gid, gid, "@everyone", permissions=EVERYONE_DEFAULT, position=0)
        bot_role = Role(self.snowflakes.next(), gid, self.bot_user.username, permissions=BOT_DEFAULT,
                        position=1, managed=True)
        guild.roles[bot_role.id] = bot_role
        guild.members[self.bot_user.id] = Member(self.bot_user, gid, roles=[bot_role.id])
        guild.members[self.owner.id] = Member(self.owner, gid)
        self.guilds[gid] = guild
        self._later("GUILD_CREATE", lambda: guild.payload(bot_id=self.bot_user.id))
        return guild

    def add_channel(self, guild: Guild, name: str, *, type: int = GUILD_TEXT,
                    parent: Channel | None = None) -> Channel:
        ch = Channel(self.snowflakes.next(), guild.id, name, type=type,
                     parent_id=parent.id if parent else None, position=len(guild.channels))
        guild.channels[ch.id] = ch
        self.channels[ch.id] = ch
        self._later("CHANNEL_CREATE", ch.payload)
        return ch

    def add_role(self, guild: Guild, name: str, *, permissions: int = 0) -> Role:
        role = Role(self.snowflakes.next(), guild.id, name, permissions=permissions, position=len(guild.roles))
        guild.roles[role.id] = role
        self._later("GUILD_ROLE_CREATE", lambda: {"guild_id": str(guild.id), "role": role.payload()})
        return role

    def add_member(self, guild: Guild, name: str, *, roles: Iterable[Role] = (), bot: bool = False) -> Member:
        user = User(self.snowflakes.next(), name, bot=bot)
        self.users[user.id] = user
        member = Member(user, guild.id, roles=[r.id for r in roles])
        guild.members[user.id] = member
        return member

    async def create_thread(self, parent: Channel, name: str, *, owner: User | Member | None = None,
                            type: int = PUBLIC_THREAD) -> Channel:
        """Create a thread under `parent` and dispatch THREAD_CREATE (as when a user opens one)."""
        owner_user = owner.user if isinstance(owner, Member) else (owner or self.owner)
        th = Channel(self.snowflakes.next(), parent.guild_id, name, type=type, parent_id=parent.id,
                     owner_id=owner_user.id)
        self.guilds[parent.guild_id].channels[th.id] = th
        self.channels[th.id] = th
        await self.gateway.dispatch("THREAD_CREATE", th.payload() | {"newly_created": True})
        await self.changed()
        return th

    async def delete_channel(self, channel: Channel) -> None:
        """Delete a channel (or thread) with its threads and webhooks; later requests get 10003."""
        guild = self.guilds[channel.guild_id]
        doomed = [channel] + [c for c in guild.channels.values() if c.parent_id == channel.id and c.is_thread]
        for ch in doomed:
            guild.channels.pop(ch.id, None)
            self.channels.pop(ch.id, None)
            for wh in self.channel_webhooks(ch):
                self.remove_webhook(wh.id)
            await self.gateway.dispatch("THREAD_DELETE" if ch.is_thread else "CHANNEL_DELETE", ch.payload())
        await self.changed()

    async def set_thread_state(self, thread: Channel, *, archived: bool | None = None,
                               locked: bool | None = None) -> None:
        if archived is not None:
            thread.archived = archived
        if locked is not None:
            thread.locked = locked
        await self.gateway.dispatch("THREAD_UPDATE", thread.payload())
        await self.changed()

    async def set_bot_permissions(self, channel: Channel, *, deny: int = 0, allow: int = 0) -> None:
        """Give the bot a member overwrite in `channel` (e.g. deny=MANAGE_WEBHOOKS) and tell it
        through CHANNEL_UPDATE. deny=0, allow=0 removes the overwrite."""
        await self.set_overwrite(channel, self.guilds[channel.guild_id].members[self.bot_user.id],
                                 deny=deny, allow=allow)

    async def set_overwrite(self, channel: Channel, target: Role | Member, *, allow: int = 0,
                            deny: int = 0) -> None:
        """A channel permission overwrite for a role or a member (both 0 removes it), dispatched
        as CHANNEL_UPDATE. Interactions in the channel then carry the recomputed permissions."""
        kind = 0 if isinstance(target, Role) else 1
        if deny or allow:
            channel.overwrites[target.id] = Overwrite(target.id, kind, allow=allow, deny=deny)
        else:
            channel.overwrites.pop(target.id, None)
        await self.gateway.dispatch("CHANNEL_UPDATE", channel.payload())
        await self.changed()

    async def set_role_permissions(self, role: Role, permissions: int) -> None:
        """Change a role's guild-wide permissions (GUILD_ROLE_UPDATE)."""
        role.permissions = permissions
        await self.gateway.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(role.guild_id), "role": role.payload()})
        await self.changed()

    def bot_permissions(self, channel: Channel) -> int:
        guild = self.guilds[channel.guild_id]
        return guild.permissions_in(guild.members[self.bot_user.id], channel)

    def member_permissions(self, member: Member, channel: Channel) -> int:
        return self.guilds[channel.guild_id].permissions_in(member, channel)

    def _later(self, event: str, payload: Callable[[], dict[str, Any]]) -> None:
        """World changes made while a bot is connected are dispatched to it."""
        if self.gateway.session is not None and self._cond is not None:
            asyncio.get_running_loop().create_task(self.gateway.dispatch(event, payload()))

    # ------------------------------------------------------------------ webhooks
    def add_webhook(self, channel: Channel, name: str, *, application_owned: bool = False,
                    avatar: str | None = None) -> Webhook:
        """A webhook in `channel`; application_owned=False makes one "a user created" (it cannot
        carry interactive components)."""
        wh = Webhook(self.snowflakes.next(), new_token(50), channel.id, channel.guild_id, name, avatar,
                     creator=self.bot_user if application_owned else self.owner,
                     application_id=self.application_id if application_owned else None)
        self.webhooks[wh.id] = wh
        return wh

    def remove_webhook(self, webhook_id: int) -> None:
        wh = self.webhooks.pop(webhook_id)
        self.deleted_webhooks.append(wh)
        self._later("WEBHOOKS_UPDATE", lambda: {"guild_id": str(wh.guild_id), "channel_id": str(wh.channel_id)})

    async def delete_webhook(self, webhook_id: int) -> None:
        """Delete a webhook behind the bot's back (later executes get 404 code 10015)."""
        self.remove_webhook(webhook_id)
        await self.changed()

    def webhook_user(self, wh: Webhook) -> User:
        return User(wh.id, wh.name, bot=True, avatar=wh.avatar)

    def channel_webhooks(self, channel: Channel | int) -> list[Webhook]:
        cid = channel if isinstance(channel, int) else channel.id
        return [w for w in self.webhooks.values() if w.channel_id == cid]

    # ------------------------------------------------------------------ messages
    def messages(self, channel: Channel | int, *, include_deleted: bool = False) -> list[StoredMessage]:
        """Messages in a channel or thread, oldest first (ephemeral replies are never here)."""
        cid = channel if isinstance(channel, int) else channel.id
        msgs = self._channel_messages.get(cid, [])
        return list(msgs) if include_deleted else [m for m in msgs if not m.deleted]

    def message(self, message_id: int) -> StoredMessage:
        return self.messages_by_id[message_id]

    def store_message(self, channel: Channel, author: User, data: dict[str, Any], *,
                      webhook: Webhook | None = None) -> StoredMessage:
        msg = StoredMessage(
            id=self.snowflakes.next(), channel_id=channel.id, guild_id=channel.guild_id, author=author,
            content=str(data.get("content") or ""), embeds=list(data.get("embeds") or []),
            components=list(data.get("components") or []), flags=int(data.get("flags") or 0) & (4 | 4096),
            tts=bool(data.get("tts")), webhook_id=webhook.id if webhook else None,
            username=data.get("username") if webhook else None,
            avatar_url=data.get("avatar_url") if webhook else None,
            allowed_mentions=data.get("allowed_mentions"),
            application_id=webhook.application_id if webhook else None,
            message_reference=data.get("message_reference"), nonce=data.get("nonce"),
            bot_id=self.bot_user.id)
        msg.compute_pings(self.guilds.get(channel.guild_id))
        self._append(channel, msg)
        return msg

    def _append(self, channel: Channel, msg: StoredMessage) -> None:
        self.messages_by_id[msg.id] = msg
        self._channel_messages.setdefault(channel.id, []).append(msg)
        channel.last_message_id = msg.id
        channel.message_count += 1
        if self._intents & INTENT_GUILD_MESSAGES:
            self._later("MESSAGE_CREATE", msg.payload)

    def store_interaction_message(self, inter: Interaction, data: dict[str, Any], *, original: bool,
                                  allow_empty: bool = False) -> StoredMessage:
        channel = self.channels[inter.channel_id]
        flags = int(data.get("flags") or 0) & (EPHEMERAL | LOADING | 4 | 4096)
        msg = StoredMessage(
            id=self.snowflakes.next(), channel_id=channel.id, guild_id=channel.guild_id, author=self.bot_user,
            content=str(data.get("content") or ""), embeds=list(data.get("embeds") or []),
            components=list(data.get("components") or []), flags=flags, tts=bool(data.get("tts")),
            allowed_mentions=data.get("allowed_mentions"), interaction_id=inter.id,
            application_id=self.application_id, ephemeral=bool(flags & EPHEMERAL),
            type=20 if original and inter.type == 2 else 0, bot_id=self.bot_user.id)
        msg.files = dict(data.get("__files__") or {})
        msg.compute_pings(self.guilds.get(channel.guild_id))
        if msg.ephemeral:
            self.messages_by_id[msg.id] = msg
        else:
            self._append(channel, msg)
        if original:
            inter.original = msg
        else:
            inter.followups.append(msg)
        return msg

    def edit_message(self, msg: StoredMessage, data: dict[str, Any]) -> None:
        msg.edits.append(dict(data))
        if data.get("__files__"):
            msg.files = dict(data["__files__"])
        if "content" in data:
            msg.content = str(data["content"] or "")
        if "embeds" in data:
            msg.embeds = list(data["embeds"] or [])
        if "components" in data:
            msg.components = list(data["components"] or [])
        if "allowed_mentions" in data:
            msg.allowed_mentions = data["allowed_mentions"]
        if "flags" in data and data["flags"] is not None:
            keep = msg.flags & (EPHEMERAL | LOADING)
            msg.flags = (int(data["flags"]) & (4 | 4096 | LOADING)) | (keep & EPHEMERAL)
            if not int(data["flags"]) & LOADING:
                msg.flags &= ~LOADING
        msg.edited_timestamp = time.time()
        msg.compute_pings(self.guilds.get(msg.guild_id))
        if self._intents & INTENT_GUILD_MESSAGES and not msg.ephemeral:
            self._later("MESSAGE_UPDATE", msg.payload)

    async def delete_message(self, msg: StoredMessage) -> None:
        msg.deleted = True
        if self._intents & INTENT_GUILD_MESSAGES and not msg.ephemeral:
            await self.gateway.dispatch("MESSAGE_DELETE", {"id": str(msg.id), "channel_id": str(msg.channel_id),
                                                           "guild_id": str(msg.guild_id)})

    @property
    def _intents(self) -> int:
        return self.gateway.session.intents if self.gateway.session is not None else 0

    # ------------------------------------------------------------------ reactions
    async def add_reaction(self, msg: StoredMessage, user_id: int, emoji: str, *, dispatch: bool = True) -> None:
        users = msg.reactions.setdefault(emoji, [])
        if user_id in users:
            return
        users.append(user_id)
        if dispatch and self._intents & INTENT_GUILD_MESSAGE_REACTIONS:
            member = self.guilds[msg.guild_id].members.get(user_id)
            data: dict[str, Any] = {
                "user_id": str(user_id), "channel_id": str(msg.channel_id), "message_id": str(msg.id),
                "guild_id": str(msg.guild_id), "emoji": _emoji_payload(emoji),
                "message_author_id": str(msg.webhook_id or msg.author.id), "burst": False,
                "burst_colors": [], "type": 0}
            if member is not None:
                data["member"] = member.payload()
            await self.gateway.dispatch("MESSAGE_REACTION_ADD", data)
        await self.changed()

    async def remove_reaction(self, msg: StoredMessage, user_id: int, emoji: str) -> None:
        users = msg.reactions.get(emoji, [])
        if user_id in users:
            users.remove(user_id)
            if self._intents & INTENT_GUILD_MESSAGE_REACTIONS:
                await self.gateway.dispatch("MESSAGE_REACTION_REMOVE", {
                    "user_id": str(user_id), "channel_id": str(msg.channel_id), "message_id": str(msg.id),
                    "guild_id": str(msg.guild_id), "emoji": _emoji_payload(emoji), "burst": False, "type": 0})
        await self.changed()

    async def react(self, user: Member, message: StoredMessage | int, emoji: str = "▶") -> None:
        """`user` adds `emoji` to a message: stored, and MESSAGE_REACTION_ADD dispatched."""
        msg = self.messages_by_id[message] if isinstance(message, int) else message
        assert not msg.deleted, f"message {msg.id} was deleted"
        await self.add_reaction(msg, user.id, emoji)

    async def unreact(self, user: Member, message: StoredMessage | int, emoji: str = "▶") -> None:
        msg = self.messages_by_id[message] if isinstance(message, int) else message
        await self.remove_reaction(msg, user.id, emoji)

    # ------------------------------------------------------------------ interactions
    def synced_command(self, name: str, guild_id: int | None) -> Command:
        for c in self.commands.values():
            if c.name == name and c.guild_id == guild_id:
                return c
        for c in self.commands.values():
            if c.name == name and c.guild_id is None:
                return c
        synced = sorted({c.name for c in self.commands.values()})
        raise AssertionError(f"/{name} is not synced (synced commands: {synced})")

    async def invoke(self, user: Member, channel: Channel, command: str, *, subcommand: str | None = None,
                     options: dict[str, Any] | None = None, permissions: int | None = None) -> Interaction:
        """`user` runs `/command [subcommand] options...` in `channel`; returns the Interaction.
        `subcommand` may be "group sub". `permissions` overrides the member's computed permissions."""
        cmd = self.synced_command(command, channel.guild_id)
        opts, resolved = self._build_options(cmd, channel, subcommand, options or {}, focused=None)
        data: dict[str, Any] = {"id": str(cmd.id), "name": cmd.name, "type": 1, "options": opts}
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        if resolved:
            data["resolved"] = resolved
        return await self._dispatch_interaction(2, user, channel, data, permissions=permissions)

    async def autocomplete(self, user: Member, channel: Channel, command: str, *, focused: str, value: str = "",
                           subcommand: str | None = None, options: dict[str, Any] | None = None,
                           permissions: int | None = None) -> Interaction:
        """`user` is typing `value` into option `focused`; await `.wait_response()` then `.choices`."""
        cmd = self.synced_command(command, channel.guild_id)
        given = dict(options or {})
        given[focused] = value
        opts, _ = self._build_options(cmd, channel, subcommand, given, focused=focused)
        data: dict[str, Any] = {"id": str(cmd.id), "name": cmd.name, "type": 1, "options": opts}
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        return await self._dispatch_interaction(4, user, channel, data, permissions=permissions)

    async def press_button(self, user: Member, message: StoredMessage | int, custom_id: str, *,
                           permissions: int | None = None) -> Interaction:
        """`user` presses the button `custom_id` on a message (it must exist and be enabled)."""
        msg = self.messages_by_id[message] if isinstance(message, int) else message
        assert not msg.deleted, f"message {msg.id} was deleted"
        assert msg.author.id == self.bot_user.id or (
            msg.webhook_id is not None and msg.application_id == self.application_id), \
            "only the bot's messages or its application-owned webhooks' messages can carry buttons"
        button = _find_component(msg.components, custom_id)
        ids = [c.get("custom_id") for c in _walk(msg.components)]
        assert button is not None, f"no component {custom_id!r} on message {msg.id} (has {ids})"
        assert not button.get("disabled"), f"button {custom_id!r} is disabled"
        data = {"custom_id": custom_id, "component_type": int(button.get("type", 2))}
        channel = self.channels[msg.channel_id]
        return await self._dispatch_interaction(3, user, channel, data, permissions=permissions, message=msg)

    async def choose(self, user: Member, message: StoredMessage | int, custom_id: str, values: list[str], *,
                     permissions: int | None = None) -> Interaction:
        """`user` picks `values` in the select menu `custom_id` on a message."""
        msg = self.messages_by_id[message] if isinstance(message, int) else message
        assert not msg.deleted, f"message {msg.id} was deleted"
        menu = _find_component(msg.components, custom_id)
        assert menu is not None and int(menu.get("type", 0)) == 3, f"no select menu {custom_id!r} on message {msg.id}"
        allowed = [o["value"] for o in menu.get("options") or []]
        assert all(v in allowed for v in values), f"{values} not among the options {allowed}"
        data = {"custom_id": custom_id, "component_type": 3, "values": list(values)}
        return await self._dispatch_interaction(3, user, self.channels[msg.channel_id], data,
                                                permissions=permissions, message=msg)

    async def submit_modal(self, user: Member, shown_by: Interaction, values: dict[str, str], *,
                           permissions: int | None = None) -> Interaction:
        """`user` fills in and submits the modal the bot answered `shown_by` with (type 9);
        fields not in `values` keep the default the bot filled in."""
        assert shown_by.callback is not None and shown_by.callback["type"] == 9, "the bot showed no modal"
        modal = shown_by.callback["data"]
        rows = []
        for row in modal.get("components") or []:
            inputs = [row.get("component")] if row.get("type") == 18 else row.get("components") or []
            comps = [{"type": 4, "custom_id": c["custom_id"], "value": values.get(c["custom_id"], c.get("value") or "")}
                     for c in inputs if c and c.get("type") == 4]
            rows.append({"type": 1, "components": comps})
        unknown = set(values) - {c["custom_id"] for r in rows for c in r["components"]}
        assert not unknown, f"the modal has no fields {unknown}"
        data = {"custom_id": modal["custom_id"], "components": rows}
        return await self._dispatch_interaction(5, user, self.channels[shown_by.channel_id], data,
                                                permissions=permissions)

    async def _dispatch_interaction(self, itype: int, user: Member, channel: Channel, data: dict[str, Any], *,
                                    permissions: int | None, message: StoredMessage | None = None) -> Interaction:
        guild = self.guilds[channel.guild_id]
        member = guild.members[user.id]
        perms = self.member_permissions(member, channel) if permissions is None else permissions
        iid = self.snowflakes.next()
        token = "aW50ZXJhY3Rpb24" + new_token(60)
        payload: dict[str, Any] = {
            "id": str(iid), "application_id": str(self.application_id), "type": itype, "data": data,
            "guild_id": str(guild.id), "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(channel.id), "channel": channel.payload(),
            "member": member.payload(permissions=perms), "token": token, "version": 1,
            "app_permissions": str(self.bot_permissions(channel)), "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": str(guild.id)}, "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message.payload()
        inter = Interaction(self, iid, token, itype, channel.id, guild.id, member, data, payload, message=message)
        self.interactions[iid] = inter
        self.interactions_by_token[token] = inter
        assert self.gateway.session is not None, "no bot is connected to the gateway"
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        await self.changed()
        return inter

    def _build_options(self, cmd: Command, channel: Channel, subcommand: str | None, given: dict[str, Any],
                       *, focused: str | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        schema: list[dict[str, Any]] = list(cmd.body.get("options") or [])
        path = subcommand.split() if subcommand else []
        chain: list[dict[str, Any]] = []
        for part in path:
            spec = next((o for o in schema if o["name"] == part and o.get("type") in (1, 2)), None)
            names = [o["name"] for o in schema if o.get("type") in (1, 2)]
            assert spec is not None, f"/{cmd.name} has no subcommand {part!r} (has {names})"
            chain.append(spec)
            schema = list(spec.get("options") or [])
        assert not any(o.get("type") in (1, 2) for o in schema), \
            f"/{cmd.name} needs a subcommand: {[o['name'] for o in schema]}"
        resolved: dict[str, Any] = {}
        leaf: list[dict[str, Any]] = []
        for name, value in given.items():
            spec = next((o for o in schema if o["name"] == name), None)
            assert spec is not None, f"/{cmd.name} {subcommand or ''} has no option {name!r} " \
                                     f"(has {[o['name'] for o in schema]})"
            otype = int(spec["type"])
            opt: dict[str, Any] = {"name": name, "type": otype}
            if name == focused:
                opt["value"] = str(value)
                opt["focused"] = True
            else:
                opt["value"] = self._option_value(otype, value, channel, resolved)
                choices = spec.get("choices")
                if choices:
                    assert opt["value"] in [c["value"] for c in choices], \
                        f"{value!r} is not one of the choices of {name!r}: {choices}"
                # the Discord client refuses out-of-range input before it is ever sent
                v = opt["value"]
                if otype in (INTEGER, NUMBER):
                    lo, hi = spec.get("min_value"), spec.get("max_value")
                    assert (lo is None or v >= lo) and (hi is None or v <= hi), \
                        f"{name}={v} is outside [{lo}, {hi}]: Discord would not send it"
                if otype == STRING:
                    lo, hi = spec.get("min_length", 0), spec.get("max_length", 6000)
                    assert lo <= len(v) <= hi, f"{name} must be {lo}..{hi} characters: Discord would not send it"
            leaf.append(opt)
        if focused is None:
            missing = [o["name"] for o in schema if o.get("required") and o["name"] not in given]
            assert not missing, f"required options missing: {missing}"
        for spec in reversed(chain):
            leaf = [{"name": spec["name"], "type": int(spec["type"]), "options": leaf}]
        return leaf, resolved

    def _option_value(self, otype: int, value: Any, channel: Channel, resolved: dict[str, Any]) -> Any:
        guild = self.guilds[channel.guild_id]
        if otype == STRING:
            return str(value)
        if otype == INTEGER:
            return int(value)
        if otype == NUMBER:
            return float(value)
        if otype == BOOLEAN:
            return bool(value)
        if otype in (USER, MENTIONABLE) and isinstance(value, Member | User):
            user = value.user if isinstance(value, Member) else value
            resolved.setdefault("users", {})[str(user.id)] = user.payload()
            m = guild.members.get(user.id)
            if m is not None:
                mp = m.payload(permissions=self.member_permissions(m, channel))
                mp.pop("user")
                resolved.setdefault("members", {})[str(user.id)] = mp
            return str(user.id)
        if otype in (ROLE, MENTIONABLE) and isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        if otype == CHANNEL and isinstance(value, Channel):
            resolved.setdefault("channels", {})[str(value.id)] = {
                k: v for k, v in value.payload().items()
                if k in ("id", "name", "type", "parent_id", "thread_metadata", "guild_id")} | {
                "permissions": str(self.bot_permissions(value))}
            return str(value.id)
        if otype == ATTACHMENT and isinstance(value, Attachment):
            resolved.setdefault("attachments", {})[str(value.id)] = value.payload()
            return str(value.id)
        raise AssertionError(f"cannot pass {value!r} as an option of type {otype}")

    # ------------------------------------------------------------------ faults & gateway control
    def fail(self, kind: str, route: str, *, count: int = 1, retry_after: float = 1.0, hang: float = 5.0,
             is_global: bool = False) -> Fault:
        """The next `count` requests matching `route` get `kind` ("429", "500", "502", "503",
        "timeout", "unknown_webhook", "unknown_message", "unknown_channel", "unknown_interaction",
        "missing_permissions", "missing_access", "archived_thread"). See faults.Fault for `route`."""
        return self.faults.add(Fault(kind, route, count=count, retry_after=retry_after, hang=hang,
                                     is_global=is_global))

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the bot's gateway connection; it should come back with RESUME (op 6)."""
        await self.gateway.drop(code)

    def requests_to(self, method: str, template_or_regex: str) -> list[RecordedRequest]:
        """Recorded `method` requests whose route template equals `template_or_regex` (e.g.
        "/channels/{channel_id}/messages") or whose path (relative to /api/v10) matches it as a regex."""
        rx = re.compile(template_or_regex)
        return [r for r in self.requests
                if r.method == method and (r.route == f"{method} {template_or_regex}"
                                           or rx.search(r.path) is not None)]


def _emoji_payload(emoji: str) -> dict[str, Any]:
    if ":" in emoji:
        name, _, eid = emoji.partition(":")
        return {"id": eid, "name": name, "animated": False}
    return {"id": None, "name": emoji}


def _walk(components: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for c in components:
        yield c
        yield from _walk(c.get("components") or [])


def _find_component(components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
    return next((c for c in _walk(components) if c.get("custom_id") == custom_id), None)
