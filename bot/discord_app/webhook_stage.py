"""The Discord implementation of the engine's Stage: every character speaks through one
application-owned webhook per channel, under its own name and avatar.

- The webhook is created once per channel, stored in the DB, found again by owner + name when
  the DB lost it, and recreated when Discord says 10015 Unknown Webhook.
- Threads post through their parent channel's webhook with `thread=`.
- Without Manage Webhooks the bot posts itself (an embed author carries the character) and tells
  the channel's moderators once how to fix it.
- Every request passes the engine's one rate limiter (`bot.engine.budget.BudgetGate`) before it
  happens: the engine gates story posts, typing and rewind deletes itself; the stage gates its own
  reactions, control edits and notices, and `/ask` replies (`say`).
- Every send and edit carries AllowedMentions.none(); webhook URLs/tokens are never logged.
- discord.py errors become the engine's typed StageErrors (`stage_error`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

import aiohttp
import discord

from bot.discord_app.buttons import CONTINUE_EMOJI, continue_view
from bot.discord_app.render import (
    MESSAGE_LIMIT,
    ZWSP,
    Part,
    Rendered,
    as_bot_message,
    plain_text,
    render_cue,
    subtext,
    trim,
)
from bot.engine.budget import BudgetGate
from bot.engine.stage import (
    Cue,
    Forbidden,
    Gone,
    MessageRef,
    Place,
    RateLimited,
    SeenMessage,
    StageError,
    Unavailable,
)
from bot.logs import SECRETS
from bot.store.guilds import GuildStore

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
WEBHOOK_NAME = "Story Narrator"

UNKNOWN_WEBHOOK = 10015
INVALID_WEBHOOK_TOKEN = 50027
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
ARCHIVED_THREAD = 50083
LOCKED_THREAD = 160005
GONE_CODES = frozenset({UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, ARCHIVED_THREAD, LOCKED_THREAD})

# A send that has not answered by then is abandoned (its outcome is unknown: the engine checks
# the channel before posting again).
SEND_TIMEOUT = 30.0
# How long to keep posting as the bot before trying to make a webhook again.
NO_WEBHOOK_RETRY_SECONDS = 600.0

WEBHOOK_FIX = (
    "Give the bot the **Manage Webhooks** permission in this channel (Server Settings → Roles, or "
    "the channel's Permissions) so every character speaks under their own name and avatar."
)
NO_WEBHOOK_NOTICE = (
    "⚠️ I can't create a webhook here, so characters speak through me for now (their names are "
    "shown in each message). " + WEBHOOK_FIX
)
TOO_MANY_WEBHOOKS_NOTICE = (
    "⚠️ This channel (or server) already has as many webhooks as Discord allows, so characters speak "
    "through me for now (their names are shown in each message). Delete an unused webhook in the "
    "channel's Integrations settings so every character speaks under their own name and avatar."
)
MAX_WEBHOOKS_CODES = frozenset({30007, 30058})


def stage_error(exc: BaseException, *, doing: str, fix: str = "") -> StageError:
    """Map a discord.py / network failure to the engine's typed stage errors."""
    if isinstance(exc, StageError):
        return exc
    if isinstance(exc, discord.RateLimited):
        return RateLimited(exc.retry_after, f"rate limited while {doing}")
    if isinstance(exc, discord.HTTPException):
        code, status = exc.code, exc.status
        log.info("%s: Discord %s (code %s) %s", doing, status, code, SECRETS.scrub(exc.text[:200]))
        what = _EXPLAIN.get(code) or (f"Discord answered {status}" if status else "Discord failed")
        detail = f"{what} — Discord code {code}" if code else what
        if status == 429:
            retry = _retry_after(exc)
            return RateLimited(retry, detail)
        if code in GONE_CODES:
            return Gone(detail)
        if status == 403 or code in (MISSING_PERMISSIONS, MISSING_ACCESS):
            return Forbidden(detail, fix=fix or "Check the bot's permissions in this channel: View Channel, "
                             "Send Messages, Send Messages in Threads, Manage Webhooks, Embed Links, "
                             "Add Reactions and Read Message History.")
        if status == 404:
            return Gone(detail)
        return Unavailable(detail)
    if isinstance(exc, (TimeoutError, aiohttp.ClientError, OSError, discord.ConnectionClosed,
                        discord.GatewayNotFound)):
        return Unavailable(f"{doing}: {type(exc).__name__}")
    return Unavailable(SECRETS.scrub(f"{doing}: unexpected {type(exc).__name__}: {exc}"))


_EXPLAIN = {
    UNKNOWN_CHANNEL: "the channel no longer exists",
    UNKNOWN_MESSAGE: "the message no longer exists",
    ARCHIVED_THREAD: "the thread is archived",
    LOCKED_THREAD: "the thread is locked",
    MISSING_PERMISSIONS: "the bot is missing a permission here",
    MISSING_ACCESS: "the bot cannot see this channel",
    UNKNOWN_WEBHOOK: "the channel's webhook was deleted",
}


def _retry_after(exc: discord.HTTPException) -> float:
    try:
        headers = exc.response.headers
        value = headers.get("Retry-After") or headers.get("X-RateLimit-Reset-After") or "1"
        return max(float(value), 0.0)
    except (AttributeError, ValueError, TypeError):
        return 1.0


class _LRU(OrderedDict[int, Any]):
    def __init__(self, size: int = 4096) -> None:
        super().__init__()
        self.size = size

    def put(self, key: int, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class WebhookStage:
    def __init__(self, client: discord.Client, store: GuildStore, gate: BudgetGate) -> None:
        self.client = client
        self.store = store
        self.webhook_name = WEBHOOK_NAME
        self.gate = gate  # shared with the engine: one rate limiter for every request
        self.clock = gate.clock
        self._hooks: dict[int, discord.Webhook] = {}
        self._no_hooks: dict[int, float] = {}  # channel -> monotonic time to try again
        self._locks: dict[int, asyncio.Lock] = {}
        self._via_bot = _LRU()  # message id -> True when posted by the bot (fallback)
        self._controls = _LRU()  # message ids carrying our ▶ reaction
        self._typing_at: dict[int, float] = {}
        self._latest: dict[int, tuple[MessageRef, Cue]] = {}  # channel -> newest message with controls
        self._after_locks: dict[int, asyncio.Lock] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._scanned: set[int] = set()  # places checked for buttons left by a previous run
        self._no_hook_notice: dict[int, str] = {}  # channel -> why there is no webhook (notice text)

    # ------------------------------------------------------------------ webhooks

    @staticmethod
    def _home(place: Place) -> int:
        """The channel whose webhook serves `place` (the parent for a thread)."""
        return place.parent_id or place.channel_id

    def _lock(self, channel_id: int) -> asyncio.Lock:
        return self._locks.setdefault(channel_id, asyncio.Lock())

    async def _resolve_channel(self, channel_id: int) -> Any:
        channel = self.client.get_channel(channel_id)
        if channel is None:
            await self.gate.acquire_global()
            channel = await self.client.fetch_channel(channel_id)
        if isinstance(channel, discord.Thread) and channel.parent_id:
            parent = self.client.get_channel(channel.parent_id)
            if parent is None:
                await self.gate.acquire_global()
            channel = parent if parent is not None else await self.client.fetch_channel(channel.parent_id)
        return channel

    def _mine(self, hook: discord.Webhook) -> bool:
        if hook.name != self.webhook_name or not hook.token:
            return False
        user = self.client.user
        return user is not None and hook.user is not None and hook.user.id == user.id

    async def webhook(self, channel_id: int) -> discord.Webhook | None:
        """The channel's webhook, or None when the bot may not manage webhooks there."""
        hook = self._hooks.get(channel_id)
        if hook is not None:
            return hook
        async with self._lock(channel_id):
            hook = self._hooks.get(channel_id)
            if hook is not None:
                return hook
            retry_at = self._no_hooks.get(channel_id)
            if retry_at is not None and self.clock.monotonic() < retry_at:
                return None
            stored = await self.store.webhook(channel_id)
            if stored is not None:
                hook = discord.Webhook.partial(stored.webhook_id, stored.token, client=self.client)
            else:
                hook = await self._find_or_create(channel_id)
                if hook is None:
                    self._no_hooks[channel_id] = self.clock.monotonic() + NO_WEBHOOK_RETRY_SECONDS
                    return None
                assert hook.token is not None
                await self.store.save_webhook(channel_id, hook.id, hook.token)
                log.info("using webhook %s in channel %s", hook.id, channel_id)
            self._no_hooks.pop(channel_id, None)
            self._hooks[channel_id] = hook
        await self.store.reset_webhook_notice(channel_id)
        return hook

    async def _find_or_create(self, channel_id: int) -> discord.Webhook | None:
        try:
            channel = await self._resolve_channel(channel_id)
            if not hasattr(channel, "create_webhook"):
                raise Gone(f"channel {channel_id} cannot hold webhooks")
            await self.gate.acquire_global()
            for hook in await channel.webhooks():
                if self._mine(hook):
                    return hook  # type: ignore[no-any-return]
            await self.gate.acquire_global()
            created = await channel.create_webhook(name=self.webhook_name,
                                                   reason="Story Narrator: character voices")
            return created  # type: ignore[no-any-return]
        except discord.Forbidden as exc:
            log.warning("no Manage Webhooks in channel %s (code %s): posting as the bot", channel_id, exc.code)
            self._no_hook_notice[channel_id] = NO_WEBHOOK_NOTICE
            return None
        except discord.HTTPException as exc:
            if exc.code in MAX_WEBHOOKS_CODES:
                log.warning("channel %s is at Discord's webhook limit (code %s): posting as the bot",
                            channel_id, exc.code)
                self._no_hook_notice[channel_id] = TOO_MANY_WEBHOOKS_NOTICE
                return None
            raise stage_error(exc, doing="getting the channel webhook") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise stage_error(exc, doing="getting the channel webhook") from None

    async def _forget(self, channel_id: int, hook: discord.Webhook) -> None:
        log.warning("webhook %s in channel %s is gone; making a new one", hook.id, channel_id)
        if self._hooks.get(channel_id) is hook:
            del self._hooks[channel_id]
        await self.store.forget_webhook(channel_id, hook.id)

    # ------------------------------------------------------------------ posting

    async def post(self, place: Place, cue: Cue) -> MessageRef:
        rendered = render_cue(cue)
        home = self._home(place)
        ids: list[int] = []
        try:
            for i, part in enumerate(rendered.parts):
                view = self._view(cue) if i == len(rendered.parts) - 1 else None
                ids.append(await self._send(place, home, rendered, part, view))
        except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise stage_error(exc, doing=f"posting in channel {place.channel_id}") from None
        # The engine stores every part (MessageRef.parts), so a rewind after a restart still
        # deletes or marks the whole beat.
        ref = MessageRef(place, ids[-1], tuple(ids[:-1]))
        # Only the newest beat carries ▶ and Continue (on its last part). The reaction and the
        # tidy-up of the previous beat happen after we return, so the engine records this post
        # at once (a reader's ▶ on it then counts), in order per channel; `drain()` waits.
        newest = MessageRef(place, ids[-1])
        previous = self._latest.pop(place.channel_id, None)
        if cue.controls:
            self._latest[place.channel_id] = (newest, cue)
        if cue.controls or previous is not None:
            self._after(place, self._tidy(place, newest, cue.controls, previous))
        return ref

    async def say(self, place: Place, cue: Cue) -> MessageRef:
        """Post a cue outside the story's flow (an `/ask` answer). Each message waits for its turn
        in the shared rate budget like a story post, and the story's ▶/Continue stay where they
        are (an answer is not a beat)."""
        rendered = render_cue(cue)
        home = self._home(place)
        ids: list[int] = []
        try:
            for part in rendered.parts:
                await self.gate.acquire(place.channel_id, home)
                ids.append(await self._send(place, home, rendered, part, None, user_text=True))
        except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise stage_error(exc, doing=f"answering in channel {place.channel_id}") from None
        return MessageRef(place, ids[-1], tuple(ids[:-1]))

    def latest_controls(self, place: Place) -> int | None:
        """The message that carries ▶/Continue in `place` (as far as this process knows)."""
        entry = self._latest.get(place.channel_id)
        return entry[0].message_id if entry else None

    def _after(self, place: Place, work: Coroutine[Any, Any, None]) -> None:
        lock = self._after_locks.setdefault(place.channel_id, asyncio.Lock())

        async def run() -> None:
            async with lock:
                try:
                    await work
                except StageError as exc:
                    log.info("tidying controls in %s: %s", place.channel_id, exc)
                except Exception:
                    log.exception("tidying controls in %s failed", place.channel_id)

        task = asyncio.get_running_loop().create_task(run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _tidy(self, place: Place, new: MessageRef, controls: bool,
                    previous: tuple[MessageRef, Cue] | None) -> None:
        if controls:
            await self._react(place, new.message_id)
        if previous is not None:
            ref, cue = previous
            await self.gate.acquire_global()
            await self.edit(ref, replace(cue, controls=False))
        elif place.channel_id not in self._scanned:
            # First post here since start-up: a Continue button left on an older beat by the
            # previous run would look pressable; take it off.
            self._scanned.add(place.channel_id)
            await self._strip_stale(place, before=new.message_id)

    async def _strip_stale(self, place: Place, before: int) -> None:
        hook = self._hooks.get(self._home(place))
        me = self.client.user.id if self.client.user else None
        channel = self.client.get_partial_messageable(place.channel_id, guild_id=place.guild_id)
        try:
            await self.gate.acquire_global()
            async for msg in channel.history(limit=15, before=discord.Object(before)):
                if not msg.components:
                    continue
                if hook is not None and msg.webhook_id == hook.id:
                    await self.gate.acquire_global()
                    await hook.edit_message(msg.id, view=None, allowed_mentions=NO_MENTIONS,
                                            thread=discord.Object(place.channel_id) if place.is_thread
                                            else discord.utils.MISSING)
                elif msg.author.id == me:
                    await self.gate.acquire_global()
                    await msg.edit(view=None, allowed_mentions=NO_MENTIONS)
                else:
                    continue
                await self._unreact(place, msg.id)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.info("could not tidy old buttons in %s: %s", place.channel_id, getattr(exc, "code", exc))

    def clear_controls(self, place: Place) -> None:
        """The story here stopped: take ▶/Continue off its newest beat (in the background)."""
        previous = self._latest.pop(place.channel_id, None)

        async def clear() -> None:
            if previous is not None:
                ref, cue = previous
                await self.gate.acquire_global()
                await self.edit(ref, replace(cue, controls=False))
            else:  # posted by an earlier run: look for it
                now = discord.utils.time_snowflake(discord.utils.utcnow(), high=True)
                await self._strip_stale(place, before=now)

        self._after(place, clear())

    async def drain(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait for reactions and control tidy-ups still in flight (shutdown)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout)

    @staticmethod
    def _view(cue: Cue) -> discord.ui.View | None:
        if not cue.controls or cue.session_id is None:
            return None
        position = cue.beats[1] + 1 if cue.beats else 0
        return continue_view(cue.session_id, position)

    async def _send(self, place: Place, home: int, rendered: Rendered, part: Part,
                    view: discord.ui.View | None, *, user_text: bool = False) -> int:
        """One message through the channel's webhook (or as the bot). `user_text`: the message
        carries a reader's words, so Discord must not build link embeds for it (SUPPRESS_EMBEDS;
        the fallback's own author embed is kept, its text is defused)."""
        for attempt in range(2):
            hook = await self.webhook(home)
            if hook is None:
                return await self._send_as_bot(place, home, rendered, part, view)
            # The slot was granted before the webhook was looked up (or made): count the post
            # from now, when it really leaves, so set-up time never squeezes Discord's window.
            self.gate.budget.restamp(place.channel_id, home, self.clock.monotonic())
            try:
                msg = await asyncio.wait_for(hook.send(
                    content=part.content or discord.utils.MISSING,
                    embeds=list(part.embeds) if part.embeds else discord.utils.MISSING,
                    username=rendered.username,
                    avatar_url=rendered.avatar_url,
                    allowed_mentions=NO_MENTIONS,
                    view=view if view is not None else discord.utils.MISSING,
                    thread=discord.Object(place.channel_id) if place.is_thread else discord.utils.MISSING,
                    suppress_embeds=user_text and not part.embeds,
                    wait=True,
                ), SEND_TIMEOUT)
            except (discord.NotFound, discord.Forbidden, discord.HTTPException) as exc:
                if exc.code in (UNKNOWN_WEBHOOK, INVALID_WEBHOOK_TOKEN) or (
                    exc.status == 401 and attempt == 0
                ):
                    await self._forget(home, hook)
                    if attempt == 0:
                        continue
                raise
            return msg.id
        raise Unavailable("the channel webhook keeps disappearing")  # pragma: no cover

    async def _send_as_bot(self, place: Place, home: int, rendered: Rendered, part: Part,
                           view: discord.ui.View | None) -> int:
        channel = self.client.get_partial_messageable(place.channel_id, guild_id=place.guild_id)
        if await self.store.claim_webhook_notice(home):
            await self.gate.acquire_global()
            try:
                await channel.send(self._no_hook_notice.get(home, NO_WEBHOOK_NOTICE), allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                log.warning("could not post the Manage Webhooks notice in %s: %s", place.channel_id, exc.code)
        (fallback,) = as_bot_message(Rendered(rendered.username, rendered.avatar_url, rendered.colour, (part,)))
        msg = await asyncio.wait_for(channel.send(
            content=fallback.content or None,
            embeds=list(fallback.embeds),
            allowed_mentions=NO_MENTIONS,
            view=view if view is not None else discord.utils.MISSING,
        ), SEND_TIMEOUT)
        self._via_bot.put(msg.id, True)
        return msg.id

    async def _react(self, place: Place, message_id: int) -> None:
        try:
            await self.gate.acquire_reaction(place.channel_id)
            await self.client.http.add_reaction(place.channel_id, message_id, CONTINUE_EMOJI)
            self._controls.put(message_id, True)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.info("could not add ▶ in %s: %s", place.channel_id, getattr(exc, "code", type(exc).__name__))

    # ------------------------------------------------------------------ edit / delete

    async def edit(self, ref: MessageRef, cue: Cue) -> None:
        """Edit a posted cue. A one-message ref gets the rendering's last part (with the controls);
        a split cue (or a rewound mark) gets its parts in order, the overflow folded into the last."""
        rendered = render_cue(cue)
        ids = ref.all_ids
        if len(ids) == 1 and not cue.rewound:
            await self._edit_one(ref.place, ids[0], rendered, rendered.parts[-1], cue)
            return
        parts = list(rendered.parts)
        if len(parts) > len(ids):
            tail = parts[len(ids) - 1:]
            joined = "\n".join(p.content for p in tail)
            if len(joined) > MESSAGE_LIMIT:
                end = tail[-1].content
                room = MESSAGE_LIMIT - len(end) - 1
                joined = trim(tail[0].content, room) + "\n" + end if room >= 8 else trim(joined, MESSAGE_LIMIT)
            parts = [*parts[:len(ids) - 1], Part(content=joined)]
        while len(parts) < len(ids):
            parts.append(Part(content=subtext("⏪ rewound" if cue.rewound else "…")))
        for i, (message_id, part) in enumerate(zip(ids, parts, strict=True)):
            last = i == len(ids) - 1
            await self._edit_one(ref.place, message_id, rendered, part, cue if last else replace(cue, controls=False),
                                 last=last)

    async def _edit_one(self, place: Place, message_id: int, rendered: Rendered, part: Part, cue: Cue, *,
                        last: bool = True) -> None:
        view = self._view(cue)
        ref = MessageRef(place, message_id)
        try:
            done = False
            if not self._via_bot.get(ref.message_id):
                hook = await self.webhook(self._home(place))
                if hook is not None:
                    try:
                        await hook.edit_message(
                            ref.message_id,
                            content=part.content or None,
                            embeds=list(part.embeds),
                            view=view,
                            allowed_mentions=NO_MENTIONS,
                            thread=discord.Object(place.channel_id) if place.is_thread else discord.utils.MISSING,
                        )
                        done = True
                    except discord.HTTPException as exc:
                        if exc.code == UNKNOWN_WEBHOOK:
                            await self._forget(self._home(place), hook)
                        elif exc.code not in (UNKNOWN_MESSAGE,) and exc.status not in (403, 404):
                            raise
            if not done:
                (fallback,) = as_bot_message(Rendered(rendered.username, rendered.avatar_url,
                                                      rendered.colour, (part,)))
                channel = self.client.get_partial_messageable(place.channel_id, guild_id=place.guild_id)
                await channel.get_partial_message(ref.message_id).edit(
                    content=fallback.content or None,
                    embeds=list(fallback.embeds),
                    view=view,
                    allowed_mentions=NO_MENTIONS,
                )
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise stage_error(exc, doing=f"editing message {ref.message_id}") from None
        if not cue.controls and (ref.message_id in self._controls or (last and ref.message_id not in self._via_bot)):
            await self._unreact(place, ref.message_id)

    async def _unreact(self, place: Place, message_id: int) -> None:
        self._controls.pop(message_id, None)
        try:
            await self.gate.acquire_reaction(place.channel_id)
            await self.client.http.remove_own_reaction(place.channel_id, message_id, CONTINUE_EMOJI)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError):
            pass

    async def delete(self, ref: MessageRef) -> None:
        place = ref.place
        latest = self._latest.get(place.channel_id)
        if latest is not None and latest[0].message_id == ref.message_id:
            del self._latest[place.channel_id]
        for message_id in ref.all_ids:
            await self._delete_one(place, message_id)

    async def _delete_one(self, place: Place, message_id: int) -> None:
        try:
            if not self._via_bot.get(message_id):
                hook = await self.webhook(self._home(place))
                if hook is not None:
                    try:
                        await hook.delete_message(
                            message_id,
                            thread=discord.Object(place.channel_id) if place.is_thread else discord.utils.MISSING,
                        )
                        return
                    except discord.HTTPException as exc:
                        if exc.code == UNKNOWN_WEBHOOK:
                            await self._forget(self._home(place), hook)
                        elif exc.status not in (403, 404):
                            raise
            channel = self.client.get_partial_messageable(place.channel_id, guild_id=place.guild_id)
            await channel.get_partial_message(message_id).delete()
        except discord.NotFound:
            return  # already gone: not an error
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise stage_error(exc, doing=f"deleting message {message_id}",
                              fix="Give the bot Manage Messages here so rewinds can remove later posts.") from None
        finally:
            self._via_bot.pop(message_id, None)

    # ------------------------------------------------------------------ the rest

    async def typing(self, place: Place) -> None:
        now = self.clock.monotonic()
        if now - self._typing_at.get(place.channel_id, -1e9) < 8.0:
            return
        self._typing_at[place.channel_id] = now
        try:
            await self.client.http.send_typing(place.channel_id)
        except Exception as exc:  # best effort by contract: never raises
            log.debug("typing in %s failed: %s", place.channel_id, type(exc).__name__)

    async def recent(self, place: Place, limit: int = 20) -> list[SeenMessage]:
        hook = self._hooks.get(self._home(place))
        stored = await self.store.webhook(self._home(place))
        hook_ids = {h for h in (hook.id if hook else None, stored.webhook_id if stored else None) if h}
        me = self.client.user.id if self.client.user else None
        channel = self.client.get_partial_messageable(place.channel_id, guild_id=place.guild_id)
        out: list[SeenMessage] = []
        try:
            await self.gate.acquire_global()
            async for msg in channel.history(limit=limit):
                by_hook = msg.webhook_id is not None and (not hook_ids or msg.webhook_id in hook_ids)
                if not by_hook and msg.author.id != me:
                    continue
                name = msg.author.display_name
                if not by_hook and msg.embeds and msg.embeds[0].author and msg.embeds[0].author.name:
                    name = msg.embeds[0].author.name
                content = plain_text(Part(content=msg.content, embeds=tuple(msg.embeds)))
                # undo sanitize_name's zero-width spaces so the name compares with the cue's voice
                out.append(SeenMessage(msg.id, name.replace(ZWSP, ""), content, msg.created_at.timestamp()))
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise stage_error(exc, doing=f"reading recent messages in {place.channel_id}",
                              fix="Give the bot Read Message History here.") from None
        return out

    async def notify_moderators(self, place: Place, text: str) -> None:
        """Post `text` to the place's moderators; from a thread that cannot take it (locked,
        archived, deleted), post it in the parent channel instead. The engine calls this once per
        incident (when a session pauses); nothing is remembered here, so the same failure after
        a resume is told again instead of pausing the story in silence."""
        targets = [(place.channel_id, f"⚠️ {text}")]
        if place.parent_id:
            targets.append((place.parent_id, f"⚠️ In <#{place.channel_id}>: {text}"))
        for channel_id, message in targets:
            channel = self.client.get_partial_messageable(channel_id, guild_id=place.guild_id)
            try:
                await self.gate.acquire_global()
                await channel.send(message[:2000], allowed_mentions=NO_MENTIONS)
                return
            except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("could not tell moderators in %s (%s): %s", channel_id,
                            getattr(exc, "code", type(exc).__name__), text)
