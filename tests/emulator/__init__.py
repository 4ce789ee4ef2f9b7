"""A loopback Discord for end-to-end tests: REST API v10 + gateway on 127.0.0.1, strict enough
that discord.py 2.7.1 runs unmodified against it (in-process, or as the real bot process).

Quick start (pytest, one bot process per module)::

    # tests/discord/conftest.py
    from tests.emulator.fixtures import bot_process, emulator  # noqa: F401

    # tests/discord/test_x.py
    pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

    async def test_start(emulator, bot_process):
        emu = emulator
        inter = await emu.invoke(emu.moderator, emu.channel, "story", subcommand="start",
                                 options={"story": "precious-person", "mode": "manual"})
        await inter.wait_response()                 # the callback the bot sent (dict: type, data)
        msgs = await emu.wait_for(lambda: [m for m in emu.messages(emu.channel) if m.webhook_id], 10)
        await emu.react(emu.reader, msgs[-1], "▶")

Fixtures (tests/emulator/fixtures.py)
-------------------------------------
``emulator``  module-scoped, started ``Emulator``; teardown asserts ``emu.unhandled == []``.
``bot_process``  module-scoped ``BotProcess`` already started and ready; teardown SIGTERMs it
    and asserts ``bot.secrets_in_log() == []``.
``BotProcess(emulator, workdir, *, story_dir=None, database_path=None, extra_env=None,
ready_log=None)``  for custom set-ups (own story dir, DEV_GUILD_ID, restarts):
    ``await start(wait_ready=True, commands=True, timeout=45)`` — waits for a new IDENTIFY, the
    GUILD_CREATEs and a command sync (and ``ready_log`` in the log if set; e.g. the bot's
    on_ready line, ~2 s later because of guild_ready_timeout); raises BotProcessError with the
    log tail if the process exits. ``await stop(timeout=20) -> returncode`` (SIGTERM),
    ``await kill()`` (SIGKILL, a crash), ``await restart()``, ``await wait_exit()``,
    ``running``, ``env()``, ``log_text()`` (all runs), ``current_log()``, ``log_paths``,
    ``await wait_for_log(text, timeout)``, ``secrets_in_log() -> list[str]``, ``returncodes``.
    The child gets DISCORD_TOKEN / DISCORD_API_BASE / DISCORD_GATEWAY_URL from ``emu.env()``,
    DATABASE_PATH (kept across restarts), STORY_DIR (default story_data/), LOG_LEVEL=INFO.

Emulator (tests/emulator/server.py)
-----------------------------------
Lifecycle: ``emu = await Emulator(token=None, default_world=True).start()``, ``await emu.stop()``
(or ``async with Emulator() as emu``); ``emu.api_base``, ``emu.gateway_url``, ``emu.token``,
``emu.env()``, ``emu.port``, ``emu.bot_user``, ``emu.application_id``.

Default world: ``emu.guild`` ("Story Club"), ``emu.channel`` (#roleplay), ``emu.mod_role``
(Manage Messages), ``emu.moderator`` (a Member with that role), ``emu.reader`` (plain member).
The bot has a managed role with everything it needs (``state.BOT_DEFAULT``), not Administrator.

World building (dispatched to a connected bot): ``add_guild(name) -> Guild``,
``add_channel(guild, name, type=0, parent=None) -> Channel``,
``add_role(guild, name, permissions=0) -> Role``, ``add_member(guild, name, roles=(), bot=False)
-> Member``, ``await create_thread(parent, name, owner=None, type=11) -> Channel``
(THREAD_CREATE), ``await set_thread_state(thread, archived=, locked=)``,
``await delete_channel(channel)`` (CHANNEL_DELETE/THREAD_DELETE, its webhooks go too),
``await set_bot_permissions(channel, deny=MANAGE_WEBHOOKS, allow=0)`` (member overwrite +
CHANNEL_UPDATE; both 0 removes it), ``await set_overwrite(channel, role_or_member, allow=0,
deny=0)``, ``await set_role_permissions(role, permissions)``, ``bot_permissions(channel)``,
``member_permissions(member, channel)``. Permission bits are in ``tests.emulator.state``.

Acting as a user (each returns after the gateway event was sent):
``await invoke(user, channel, "story", subcommand="start", options={...}, permissions=None)
-> Interaction`` (only synced commands; options are checked against the synced schema:
names, required, choices; Member/Role/Channel values for USER/ROLE/CHANNEL options fill
``resolved``; ``subcommand="group sub"`` for groups; ``permissions`` overrides the member's
computed channel permissions in ``member.permissions``),
``await autocomplete(user, channel, "story", focused="story", value="Pre", subcommand=...,
options=...) -> Interaction`` (then ``(await i.wait_response())`` and ``i.choices``),
``await press_button(user, message_or_id, custom_id) -> Interaction`` (the button must exist,
be enabled, on a bot / application-owned webhook message),
``await react(user, message_or_id, "▶")``, ``await unreact(...)``,
``await choose(user, message_or_id, custom_id, ["value"])`` (a select menu on a bot message),
``await submit_modal(user, shown_by, {"field_custom_id": "text"})`` (fills in the modal the bot
answered ``shown_by`` with; other fields keep the bot's defaults; discord.py registers a modal
only after Discord confirmed showing it, so a test may have to submit again, as e2e tests do).
Files: ``att = emu.add_attachment("story.epub", data, content_type=..., claimed_size=-1)`` is
served at ``att.url`` on 127.0.0.1 (``att.fetches`` counts downloads; ``claimed_size`` lets the
payload's size differ from the bytes); pass ``att`` as an ATTACHMENT option value. Files the bot
uploads (multipart) land in ``StoredMessage.files`` (name -> bytes).

Speed note: a test acts the instant a message is stored, i.e. possibly before the bot has even
read the REST response for it (no human is that fast). To press ▶ "like a reader", wait for the
bot's own reaction first: ``await emu.wait_for(lambda: emu.bot_user.id in msg.reactions.get("▶️", []))``.

Interaction: ``id, token, type, user, channel_id, data, payload, callback`` ({"type", "data"}
as sent), ``response_type``, ``response_delay`` (s), ``original`` / ``followups``
(StoredMessage), ``messages`` (visible replies), ``ephemeral``, ``text`` (contents + embed
text of every reply), ``choices``, ``await wait_response(timeout=5)``,
``await wait_reply(timeout=10) -> str``, ``await wait_followups(n=1, timeout=10)``.
Callbacks later than ``emu.interaction_timeout`` (3 s) get 404 10062 like Discord; a second
callback gets 400 40060; a deferred (type 5) "thinking" reply is replaced by the first
follow-up (as on Discord); follow-ups cannot set username/avatar; after a component's type 6/7
response, ``@original`` is the message the button sits on.

Observing: ``emu.messages(channel_or_id, include_deleted=False) -> list[StoredMessage]`` (oldest
first; ephemeral replies excluded), ``emu.message(id)``, ``emu.messages_by_id``. StoredMessage:
``id, channel_id, content, embeds, components, username`` (webhook override), ``name`` (what
readers see), ``avatar_url, webhook_id, author, allowed_mentions`` (as sent, None if absent),
``pinged_users / pinged_roles / pinged_everyone / pings_anyone`` (what Discord would ping given
content + allowed_mentions), ``reactions`` {emoji: [user ids]}, ``edits`` (PATCH bodies),
``deleted``, ``ephemeral``, ``flags``, ``payload()``.
``emu.webhooks`` {id: Webhook}, ``emu.channel_webhooks(channel)``, ``emu.deleted_webhooks``,
``emu.commands`` {id: Command}, ``emu.command_syncs`` (guild id or None per PUT),
``emu.requests`` (RecordedRequest: method, path relative to /api/v10, route template, query,
json, headers without Authorization, status, time), ``emu.requests_to(method, template_or_regex)``,
``emu.unhandled`` (strict 404s), ``emu.errors`` (exceptions inside the emulator, answered
with 500 ``{"emulator_error": true}``; the fixture asserts it is empty too), ``emu.typing`` [(channel id, time)], ``emu.stats`` (requests,
rate_limited, rate_limited_by_scope, rate_limited_requests, faults, unauthorized, invalid),
``emu.gateway.log`` (identifies, resumes, failed_resumes, connections, drops, heartbeats,
received ops with tokens redacted), ``emu.interactions``.
Waiting: ``await emu.wait_for(predicate, timeout=10, what=None)`` returns the truthy value;
woken on every emulator state change (plus a 50 ms re-check for outside state), raises
``WaitTimeout`` (AssertionError). ``await emu.wait_ready(commands=True, timeout=30)``.
Gateway knobs: ``emu.gateway.heartbeat_interval_ms`` (41250), ``heartbeat_ack_delay`` (0.05 s,
a realistic round trip), ``emu.gateway.ready``, ``emu.gateway.connected``.

Faults: ``emu.fail(kind, route, count=1, retry_after=1.0, hang=5.0, is_global=False) -> Fault``
where kind is "429", "500", "502", "503", "timeout" (hang, then close the connection),
"unknown_webhook" (404 10015), "unknown_message", "unknown_channel", "unknown_interaction",
"missing_permissions" (403 50013), "missing_access", "archived_thread"; route is a template
(e.g. ``"POST /webhooks/{webhook_id}/{webhook_token}"``) or a regex searched in "METHOD /path";
``fault.hits`` lists the faulted requests. ``await emu.delete_webhook(id)`` (later executes get
10015). ``await emu.drop_gateway(code=4000)`` (1006 = abrupt TCP close; either way discord.py
RESUMEs and the emulator replays missed events, then RESUMED). ``await emu.gateway.invalidate()``.
``emu.max_webhooks_per_channel`` (15, then 30007).

Rate limits (real windows, real monotonic clock; see ratelimit.py): per webhook 5 / 2 s
(X-RateLimit-* headers so discord.py waits pre-emptively), 30 / 60 s per target channel
(thread or channel) across all webhooks — only visible as a 429 with scope "shared", so the
bot must budget for it (keep a small margin: the emulator measures arrival times), global
50 / s per bot token (interactions exempt), channel messages 5 / 5 s, reactions 1 / 0.25 s per
channel. 429s carry {"message", "retry_after", "global"}, ``Via: 1.1 google`` and the
X-RateLimit headers; every one is counted in ``emu.stats.rate_limited``.
``emu.ratelimits.enabled = False`` turns enforcement off; ``emu.ratelimits.scale = 0.05``
shrinks every window (same algorithm, for tests that also scale the bot's budget);
``emu.ratelimits.reset()`` forgets all windows. ``emu.stats.invalid`` counts 401/403/429
answers (Discord's IP-ban counter; shared-scope 429s excluded, as on Discord).

Strictness: unknown routes -> 404 ``{"emulator_unhandled": true}`` + ``emu.unhandled``; wrong
bot token -> 401; content > 2000, > 10 embeds, embed limits, names with "clyde"/"discord" or
outside 1-80 chars -> 400 50035; empty message -> 50006; webhook create/list without Manage
Webhooks -> 403 50013; components on webhook messages need ``with_components=1`` and, when
interactive, an application-owned webhook; thread_id must be a thread of the webhook's channel
(archived threads are unarchived, locked ones -> 160005).
"""

from .fixtures import BotProcess, BotProcessError
from .server import Emulator, Interaction, Stats, WaitTimeout
from .state import StoredMessage

__all__ = ["BotProcess", "BotProcessError", "Emulator", "Interaction", "Stats", "StoredMessage", "WaitTimeout"]
