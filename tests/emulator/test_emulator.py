"""The emulator driven by a real, unmodified discord.py 2.7.1 client in this process, plus raw
aiohttp where the exact wire format matters (429 bodies and headers, strict 404s, faults)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import discord.http
import pytest
import pytest_asyncio
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from tests.emulator import Emulator
from tests.emulator.state import MANAGE_MESSAGES, MANAGE_WEBHOOKS

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Harness:
    """A discord.Client with a small /story command tree, recording what it receives."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_reactions = True
        self.client = discord.Client(intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.tree = app_commands.CommandTree(self.client)
        self.reactions: list[discord.RawReactionActionEvent] = []
        self.threads: list[discord.Thread] = []
        self.errors: list[BaseException] = []
        self._register()

    def _register(self) -> None:
        group = app_commands.Group(name="story", description="Tell a story")
        client = self.client

        @group.command(description="Start a story")
        @app_commands.describe(story="Which story", mode="How to advance", wpm="Reading pace")
        @app_commands.choices(mode=[app_commands.Choice(name="manual", value="manual"),
                                    app_commands.Choice(name="auto", value="auto")])
        async def start(inter: discord.Interaction, story: str, mode: str = "manual", wpm: int = 200) -> None:
            perms = inter.permissions
            await inter.response.send_message(
                f"start {story} {mode} {wpm} manage_messages={perms.manage_messages} "
                f"app_webhooks={inter.app_permissions.manage_webhooks}", ephemeral=True)

        @start.autocomplete("story")
        async def story_ac(inter: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            names = ["precious-person", "prelude", "other"]
            return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current.lower())]

        @group.command(description="Slow answer")
        async def slow(inter: discord.Interaction) -> None:
            await inter.response.defer(thinking=True)
            await inter.followup.send("done thinking")
            await inter.followup.send("and one more")

        @group.command(description="Post a button")
        async def button(inter: discord.Interaction) -> None:
            view = discord.ui.View(timeout=None)
            btn: discord.ui.Button[discord.ui.View] = discord.ui.Button(label="Continue", custom_id="story:next")

            async def pressed(i: discord.Interaction) -> None:
                await i.response.edit_message(content="continued", view=None)

            btn.callback = pressed  # type: ignore[method-assign]
            view.add_item(btn)
            later: discord.ui.Button[discord.ui.View] = discord.ui.Button(label="Later", custom_id="story:later")

            async def deferred(i: discord.Interaction) -> None:
                await i.response.defer()
                await i.edit_original_response(content="edited through @original")

            later.callback = deferred  # type: ignore[method-assign]
            view.add_item(later)
            await inter.response.send_message("beat one", view=view)

        @group.command(description="Who am I")
        async def whois(inter: discord.Interaction, member: discord.Member) -> None:
            await inter.response.send_message(f"{member.name} {member.id}", ephemeral=True)

        self.tree.add_command(group)

        @self.tree.error
        async def on_error(inter: discord.Interaction, error: app_commands.AppCommandError) -> None:
            self.errors.append(error)

        async def setup_hook() -> None:
            await self.tree.sync()

        client.setup_hook = setup_hook  # type: ignore[method-assign]

        @client.event
        async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
            self.reactions.append(payload)

        @client.event
        async def on_thread_create(thread: discord.Thread) -> None:
            self.threads.append(thread)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def emu() -> AsyncIterator[Emulator]:
    emulator = await Emulator().start()
    emulator.gateway.heartbeat_interval_ms = 200  # many beats in a short module
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(emu: Emulator) -> AsyncIterator[Harness]:
    old_base, old_gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = emu.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)
    h = Harness(emu)
    task = asyncio.create_task(h.client.start(emu.token))
    try:
        await emu.wait_ready(timeout=20)
        await asyncio.wait_for(h.client.wait_until_ready(), 20)
        yield h
    finally:
        await h.client.close()
        await asyncio.wait_for(task, 20)
        discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway
    assert not emu.unhandled, emu.unhandled
    assert not emu.errors, emu.errors


@pytest.fixture
def clean_limits(emu: Emulator) -> Emulator:
    emu.ratelimits.reset()
    emu.ratelimits.scale = 1.0
    return emu


async def raw(emu: Emulator, method: str, path: str, *, bot: bool = True, **kw: Any) -> tuple[int, Any, Any]:
    headers = {"Authorization": f"Bot {emu.token}"} if bot else {}
    async with aiohttp.ClientSession() as s, s.request(method, emu.api_base + path, headers=headers, **kw) as r:
        if r.status == 204:
            return r.status, None, r.headers
        if r.headers.get("Content-Type") == "application/json":
            return r.status, await r.json(), r.headers
        return r.status, await r.text(), r.headers


# ---------------------------------------------------------------------------- login & gateway
async def test_login_ready_and_guild_create(emu: Emulator, harness: Harness) -> None:
    client = harness.client
    assert client.user is not None and client.user.id == emu.bot_user.id
    assert client.application_id == emu.application_id
    guild = client.get_guild(emu.guild.id)
    assert guild is not None and guild.name == "Story Club"
    channel = guild.get_channel(emu.channel.id)
    assert isinstance(channel, discord.TextChannel)
    me = guild.me
    assert me is not None and channel.permissions_for(me).manage_webhooks
    order = [f"{r.method} {r.path}" for r in emu.requests[:3]]
    assert order == ["GET /users/@me", "GET /oauth2/applications/@me",
                     f"PUT /applications/{emu.application_id}/commands"]
    assert emu.requests[0].headers.get("Authorization") is None  # never recorded
    assert [c.name for c in emu.commands.values()] == ["story"]
    ops = [m["op"] for m in emu.gateway.log.received]
    assert 2 in ops and all(m["d"].get("token") in (None, "<redacted>")
                            for m in emu.gateway.log.received if isinstance(m.get("d"), dict))


async def test_wrong_token_is_a_login_failure(emu: Emulator, harness: Harness) -> None:
    other = discord.Client(intents=discord.Intents.none())
    with pytest.raises(discord.LoginFailure):
        await other.login("MTIz.wrong-token.xxxxxxxxxxxxxxxxxx")
    await other.close()
    assert emu.stats.unauthorized >= 1


async def test_thread_create_reaches_the_client(emu: Emulator, harness: Harness) -> None:
    th = await emu.create_thread(emu.channel, "side story", owner=emu.reader)
    await emu.wait_for(lambda: any(t.id == th.id for t in harness.threads), 5)
    guild = harness.client.get_guild(emu.guild.id)
    assert guild is not None and guild.get_thread(th.id) is not None


# ---------------------------------------------------------------------------- interactions
async def test_slash_command_round_trip_with_permissions(emu: Emulator, harness: Harness) -> None:
    inter = await emu.invoke(emu.moderator, emu.channel, "story", subcommand="start",
                             options={"story": "precious-person", "mode": "auto", "wpm": 300})
    cb = await inter.wait_response()
    assert cb["type"] == 4 and inter.ephemeral
    assert inter.text == "start precious-person auto 300 manage_messages=True app_webhooks=True"
    assert inter.response_delay is not None and inter.response_delay < 3
    assert inter.original not in emu.messages(emu.channel)  # ephemeral: nobody else sees it

    reader = await emu.invoke(emu.reader, emu.channel, "story", subcommand="start", options={"story": "x"})
    assert "manage_messages=False" in await reader.wait_reply()
    forced = await emu.invoke(emu.reader, emu.channel, "story", subcommand="start", options={"story": "x"},
                              permissions=0)
    assert "manage_messages=False" in await forced.wait_reply()


async def test_invoke_checks_the_synced_schema(emu: Emulator, harness: Harness) -> None:
    with pytest.raises(AssertionError, match="not synced"):
        await emu.invoke(emu.reader, emu.channel, "ask")
    with pytest.raises(AssertionError, match="no option 'speed'"):
        await emu.invoke(emu.reader, emu.channel, "story", subcommand="start", options={"story": "a", "speed": 1})
    with pytest.raises(AssertionError, match="required options missing"):
        await emu.invoke(emu.reader, emu.channel, "story", subcommand="start")
    with pytest.raises(AssertionError, match="not one of the choices"):
        await emu.invoke(emu.reader, emu.channel, "story", subcommand="start", options={"story": "a", "mode": "vote"})
    with pytest.raises(AssertionError, match="needs a subcommand"):
        await emu.invoke(emu.reader, emu.channel, "story")


async def test_user_option_is_resolved(emu: Emulator, harness: Harness) -> None:
    inter = await emu.invoke(emu.moderator, emu.channel, "story", subcommand="whois",
                             options={"member": emu.reader})
    assert await inter.wait_reply() == f"reader {emu.reader.id}"


async def test_autocomplete(emu: Emulator, harness: Harness) -> None:
    inter = await emu.autocomplete(emu.reader, emu.channel, "story", subcommand="start", focused="story", value="pre")
    await inter.wait_response()
    assert inter.response_type == 8
    assert [c["name"] for c in inter.choices] == ["precious-person", "prelude"]


async def test_deferred_reply_is_replaced_by_first_followup(emu: Emulator, harness: Harness) -> None:
    inter = await emu.invoke(emu.reader, emu.channel, "story", subcommand="slow")
    await inter.wait_followups(2)
    assert inter.response_type == 5
    assert inter.original is not None and inter.original.content == "done thinking"
    assert [m.content for m in inter.messages] == ["done thinking", "and one more"]
    visible = [m.content for m in emu.messages(emu.channel) if m.interaction_id == inter.id]
    assert visible == ["done thinking", "and one more"]


async def test_late_response_is_unknown_interaction(emu: Emulator, harness: Harness) -> None:
    emu.interaction_timeout = 0.0  # every answer is "too late" (no real waiting)
    try:
        before = len(harness.errors)
        inter = await emu.invoke(emu.reader, emu.channel, "story", subcommand="start", options={"story": "a"})
        await emu.wait_for(lambda: len(harness.errors) > before, 5)
    finally:
        emu.interaction_timeout = 3.0
    err = harness.errors[-1]
    assert isinstance(err, app_commands.CommandInvokeError)
    assert isinstance(err.original, discord.NotFound) and err.original.code == 10062
    assert inter.callback is None and inter.expired


async def test_button_press_updates_the_message(emu: Emulator, harness: Harness) -> None:
    inter = await emu.invoke(emu.reader, emu.channel, "story", subcommand="button")
    await inter.wait_response()
    msg = inter.original
    assert msg is not None and msg.content == "beat one" and not msg.ephemeral
    with pytest.raises(AssertionError, match="no component"):
        await emu.press_button(emu.reader, msg, "nope")
    later = await emu.press_button(emu.reader, msg, "story:later")
    await emu.wait_for(lambda: msg.content == "edited through @original", 5)
    assert later.response_type == 6 and later.original is None
    press = await emu.press_button(emu.reader, msg.id, "story:next")
    cb = await press.wait_response()
    assert cb["type"] == 7
    assert msg.content == "continued" and msg.components == []
    again = await emu.invoke(emu.reader, emu.channel, "story", subcommand="start", options={"story": "a"})
    await again.wait_response()
    assert again.callback is not None  # a second, unrelated interaction is independent


async def test_second_callback_is_already_acknowledged(emu: Emulator, harness: Harness) -> None:
    inter = await emu.invoke(emu.reader, emu.channel, "story", subcommand="start", options={"story": "a"})
    await inter.wait_response()
    status, body, _ = await raw(emu, "POST", f"/interactions/{inter.id}/{inter.token}/callback", bot=False,
                                json={"type": 4, "data": {"content": "again"}})
    assert (status, body["code"]) == (400, 40060)


# ---------------------------------------------------------------------------- webhooks
async def test_webhook_create_execute_wait_and_thread(emu: Emulator, harness: Harness) -> None:
    channel = harness.client.get_channel(emu.channel.id)
    assert isinstance(channel, discord.TextChannel)
    wh = await channel.create_webhook(name="Story voices")
    stored = emu.webhooks[wh.id]
    assert stored.application_id == emu.application_id and wh.token == stored.token

    msg = await wh.send(f"Gaara looked up. @everyone <@&{emu.mod_role.id}> <@{emu.reader.id}>",
                        username="Gaara", avatar_url="https://example.invalid/g.png", wait=True)
    last = emu.messages(emu.channel)[-1]
    assert last.id == msg.id and last.webhook_id == wh.id and last.name == "Gaara"
    assert last.avatar_url == "https://example.invalid/g.png"
    assert last.allowed_mentions == {"parse": []} and not last.pings_anyone
    assert msg.author.name == "Gaara" and msg.webhook_id == wh.id

    thread = await emu.create_thread(emu.channel, "aside")
    tmsg = await wh.send("Lee answered.", username="Lee", wait=True, thread=discord.Object(thread.id))
    assert tmsg.channel.id == thread.id
    assert [m.content for m in emu.messages(thread)] == ["Lee answered."]
    assert emu.requests[-1].query["thread_id"] == str(thread.id) and emu.requests[-1].query["wait"] == "1"

    await emu.set_thread_state(thread, archived=True)
    await wh.send("still here", username="Lee", wait=True, thread=discord.Object(thread.id))
    assert not thread.archived  # posting through the webhook unarchives

    edited = await wh.edit_message(msg.id, content="Gaara looked away.")
    assert edited.content == "Gaara looked away." and emu.message(msg.id).edits[-1]["content"] == edited.content
    await wh.delete_message(msg.id)
    assert emu.message(msg.id).deleted and msg.id not in [m.id for m in emu.messages(emu.channel)]

    other = await emu.create_thread(emu.add_channel(emu.guild, "elsewhere"), "x")
    with pytest.raises(discord.HTTPException) as exc:
        await wh.send("wrong thread", wait=True, thread=discord.Object(other.id))
    assert exc.value.status == 400


async def test_default_mentions_would_ping(emu: Emulator, harness: Harness, clean_limits: Emulator) -> None:
    wh = emu.add_webhook(emu.channel, "someone else's hook")
    status, body, _ = await raw(emu, "POST", f"/webhooks/{wh.id}/{wh.token}?wait=1", bot=False,
                                json={"content": f"hey @everyone <@{emu.reader.id}>"})
    assert status == 200 and body["mention_everyone"] is True
    stored = emu.message(int(body["id"]))
    assert stored.pinged_everyone and stored.pinged_users == [emu.reader.id] and stored.allowed_mentions is None


async def test_webhook_validation(emu: Emulator, harness: Harness, clean_limits: Emulator) -> None:
    channel = harness.client.get_channel(emu.channel.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as exc:
        await channel.create_webhook(name="Discord Narrator")
    assert exc.value.code == 50035
    wh = (await channel.webhooks())[0]
    with pytest.raises(discord.HTTPException) as exc:
        await wh.send("x" * 2001, wait=True)
    assert exc.value.code == 50035
    with pytest.raises(discord.HTTPException) as exc:
        await wh.send("hi", username="clyde", wait=True)
    assert exc.value.code == 50035

    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Continue", custom_id="go"))
    m = await wh.send("with button", view=view, wait=True)
    assert emu.message(m.id).components[0]["components"][0]["custom_id"] == "go"
    foreign = emu.add_webhook(emu.channel, "user hook")
    status, body, _ = await raw(emu, "POST", f"/webhooks/{foreign.id}/{foreign.token}?wait=1&with_components=1",
                                bot=False, json={"content": "x", "components": [
                                    {"type": 1, "components": [{"type": 2, "style": 1, "label": "a", "custom_id": "a"}]}]})
    assert status == 400 and body["code"] == 50035


async def test_webhook_permissions_and_limit(emu: Emulator, harness: Harness, clean_limits: Emulator) -> None:
    ch = emu.add_channel(emu.guild, "limits")
    await emu.wait_for(lambda: harness.client.get_channel(ch.id), 5)
    channel = harness.client.get_channel(ch.id)
    assert isinstance(channel, discord.TextChannel)
    await emu.set_bot_permissions(ch, deny=MANAGE_WEBHOOKS)
    guild = channel.guild
    await emu.wait_for(lambda: not channel.permissions_for(guild.me).manage_webhooks, 5)
    with pytest.raises(discord.Forbidden) as exc:
        await channel.create_webhook(name="voices")
    assert exc.value.code == 50013
    with pytest.raises(discord.Forbidden):
        await channel.webhooks()
    await emu.set_bot_permissions(ch)
    for i in range(15):
        emu.add_webhook(ch, f"hook {i}")
    with pytest.raises(discord.HTTPException) as exc:
        await channel.create_webhook(name="sixteenth")
    assert exc.value.code == 30007


async def test_deleted_webhook_is_unknown(emu: Emulator, harness: Harness, clean_limits: Emulator) -> None:
    channel = harness.client.get_channel(emu.channel.id)
    assert isinstance(channel, discord.TextChannel)
    wh = await channel.create_webhook(name="doomed")
    await emu.delete_webhook(wh.id)
    with pytest.raises(discord.NotFound) as exc:
        await wh.send("gone", wait=True)
    assert exc.value.code == 10015
    assert all(w.id != wh.id for w in await channel.webhooks())


# ---------------------------------------------------------------------------- channel messages
async def test_channel_messages_reactions_history(emu: Emulator, harness: Harness, clean_limits: Emulator) -> None:
    channel = harness.client.get_channel(emu.channel.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("narration")
    before = len(harness.reactions)
    await sent.add_reaction("▶")
    assert emu.message(sent.id).reactions == {"▶": [emu.bot_user.id]}
    by_template = emu.requests_to("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    assert by_template and by_template == emu.requests_to("PUT", r"/reactions/.+/@me$")
    assert by_template[-1].path.endswith(f"/{sent.id}/reactions/▶/@me")
    await emu.react(emu.reader, sent.id, "▶")
    await emu.wait_for(lambda: len(harness.reactions) >= before + 2, 5)
    got = next(r for r in harness.reactions[before:] if r.user_id != emu.bot_user.id)
    assert any(r.user_id == emu.bot_user.id for r in harness.reactions[before:])  # its own, too
    assert (got.user_id, got.message_id, str(got.emoji)) == (emu.reader.id, sent.id, "▶")
    assert got.member is not None and got.member.id == emu.reader.id
    await sent.edit(content="narration, revised")
    fetched = await channel.fetch_message(sent.id)
    assert fetched.content == "narration, revised" and fetched.edited_at is not None
    history = [m.id async for m in channel.history(limit=3)]
    assert history[0] == sent.id
    async with channel.typing():
        pass
    assert emu.typing and emu.typing[-1][0] == channel.id
    await sent.delete()
    with pytest.raises(discord.NotFound):
        await channel.fetch_message(sent.id)


# ---------------------------------------------------------------------------- rate limits
async def test_webhook_burst_gets_real_429(emu: Emulator, harness: Harness, clean_limits: Emulator) -> None:
    wh = emu.add_webhook(emu.channel, "burst")
    before = emu.stats.rate_limited
    results = [await raw(emu, "POST", f"/webhooks/{wh.id}/{wh.token}?wait=1", bot=False,
                         json={"content": f"line {i}"}) for i in range(6)]
    statuses = [s for s, _, _ in results]
    assert statuses == [200] * 5 + [429]
    ok_headers = results[3][2]
    assert ok_headers["X-RateLimit-Limit"] == "5" and ok_headers["X-RateLimit-Remaining"] == "1"
    assert 0 < float(ok_headers["X-RateLimit-Reset-After"]) <= 2.0 and "X-RateLimit-Bucket" in ok_headers
    _, body, headers = results[5]
    assert set(body) >= {"message", "retry_after", "global"} and body["global"] is False
    assert 0 < body["retry_after"] <= 2.0
    assert headers["Via"] == "1.1 google" and headers["Content-Type"] == "application/json"
    assert headers["X-RateLimit-Remaining"] == "0" and headers["X-RateLimit-Scope"] == "user"
    assert emu.stats.rate_limited == before + 1


async def test_channel_webhook_limit_is_shared(emu: Emulator, harness: Harness, clean_limits: Emulator) -> None:
    ch = emu.add_channel(emu.guild, "busy")
    hooks = [emu.add_webhook(ch, f"v{i}") for i in range(7)]
    statuses = []
    for i in range(31):
        wh = hooks[i // 5]
        status, body, headers = await raw(emu, "POST", f"/webhooks/{wh.id}/{wh.token}?wait=1", bot=False,
                                          json={"content": str(i)})
        statuses.append(status)
    assert statuses == [200] * 30 + [429]
    assert headers["X-RateLimit-Scope"] == "shared" and 50 < body["retry_after"] <= 60
    assert len(emu.messages(ch)) == 30


async def test_global_limit(emu: Emulator, harness: Harness, clean_limits: Emulator) -> None:
    async with aiohttp.ClientSession() as s:
        async def one() -> tuple[int, dict[str, Any]]:
            async with s.get(emu.api_base + "/users/@me", headers={"Authorization": f"Bot {emu.token}"}) as r:
                return r.status, await r.json(content_type=None)

        t0 = time.monotonic()
        results = await asyncio.gather(*(one() for _ in range(60)))
    if time.monotonic() - t0 >= 1.0:
        pytest.skip("machine too slow to send 60 requests within the 1 s global window")
    limited = [b for s, b in results if s == 429]
    assert len(limited) == 10 and all(b["global"] is True for b in limited)
    emu.ratelimits.reset()


async def test_discord_py_paces_itself_from_headers(emu: Emulator, harness: Harness,
                                                     clean_limits: Emulator) -> None:
    emu.ratelimits.scale = 0.1  # 5 per 0.2 s: the same algorithm, a tenth of the waiting
    channel = harness.client.get_channel(emu.channel.id)
    assert isinstance(channel, discord.TextChannel)
    wh = await channel.create_webhook(name="paced")
    before, start = emu.stats.rate_limited, len(emu.requests)
    for i in range(12):
        await wh.send(f"beat {i}", username="Narrator", wait=True)
    executes = [r for r in emu.requests[start:] if r.route == "POST /webhooks/{webhook_id}/{webhook_token}"]
    assert len(executes) == 12 and all(r.status == 200 for r in executes)
    assert emu.stats.rate_limited == before  # it waited pre-emptively instead of hitting 429
    assert executes[-1].time - executes[0].time >= 0.35  # two full windows were waited out


async def test_discord_py_paces_per_channel_buckets(emu: Emulator, harness: Harness,
                                                            clean_limits: Emulator) -> None:
    emu.ratelimits.scale = 0.1  # channel messages: 5 per 0.5 s per channel
    other = emu.add_channel(emu.guild, "second")
    await emu.wait_for(lambda: harness.client.get_channel(other.id), 5)
    a, b = harness.client.get_channel(emu.channel.id), harness.client.get_channel(other.id)
    assert isinstance(a, discord.TextChannel) and isinstance(b, discord.TextChannel)
    before, start = emu.stats.rate_limited, len(emu.requests)
    for i in range(7):
        await a.send(f"a{i}")
        await b.send(f"b{i}")
    posts = [r for r in emu.requests[start:] if r.route == "POST /channels/{channel_id}/messages"]
    assert len(posts) == 14 and emu.stats.rate_limited == before


# ---------------------------------------------------------------------------- faults & strictness
async def test_injected_faults(emu: Emulator, harness: Harness, clean_limits: Emulator) -> None:
    channel = harness.client.get_channel(emu.channel.id)
    assert isinstance(channel, discord.TextChannel)
    wh = await channel.create_webhook(name="faulty")
    fault = emu.fail("unknown_webhook", "POST /webhooks/{webhook_id}/{webhook_token}")
    with pytest.raises(discord.NotFound) as exc:
        await wh.send("x", wait=True)
    assert exc.value.code == 10015 and len(fault.hits) == 1
    await wh.send("works again", wait=True)

    emu.fail("missing_permissions", r"POST /channels/\d+/messages$")
    with pytest.raises(discord.Forbidden) as fexc:
        await channel.send("nope")
    assert fexc.value.code == 50013

    emu.fail("502", r"GET /channels/\d+$", count=1)
    assert (await raw(emu, "GET", f"/channels/{emu.channel.id}"))[0] == 502
    assert (await raw(emu, "GET", f"/channels/{emu.channel.id}"))[0] == 200

    emu.fail("429", r"GET /channels/\d+$", retry_after=0.5)
    status, body, headers = await raw(emu, "GET", f"/channels/{emu.channel.id}")
    assert status == 429 and body["retry_after"] == 0.5 and headers["Via"]

    hang = emu.fail("timeout", r"POST /channels/\d+/messages$", hang=0.05)
    with pytest.raises(aiohttp.ServerDisconnectedError):  # POST is not retried by aiohttp
        await raw(emu, "POST", f"/channels/{emu.channel.id}/messages", json={"content": "lost"})
    assert len(hang.hits) == 1 and all(m.content != "lost" for m in emu.messages(emu.channel))


async def test_unknown_route_is_recorded(emu: Emulator, harness: Harness) -> None:
    status, body, headers = await raw(emu, "GET", "/guilds/1/audit-logs")
    assert status == 404 and body["emulator_unhandled"] is True
    assert headers["Content-Type"] == "application/json"
    assert emu.unhandled == ["GET /api/v10/guilds/1/audit-logs"]
    emu.unhandled.clear()


# ---------------------------------------------------------------------------- resume
@pytest.mark.parametrize("code", [4000, 1006])
async def test_resume_after_drop_replays_missed_events(emu: Emulator, harness: Harness, code: int) -> None:
    channel = harness.client.get_channel(emu.channel.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send(f"before drop {code}")
    resumes, identifies = emu.gateway.log.resumes, emu.gateway.log.identifies
    await emu.drop_gateway(code)
    missed = [(emu.reader, "⏩"), (emu.moderator, "▶"), (emu.reader, "▶")]
    for user, emoji in missed:  # dispatched while the bot is away
        await emu.react(user, sent.id, emoji)
    await emu.wait_for(lambda: emu.gateway.log.resumes > resumes, 15, what="a RESUME")
    await emu.wait_for(lambda: len([r for r in harness.reactions if r.message_id == sent.id]) == 3, 5)
    got = [(r.user_id, str(r.emoji)) for r in harness.reactions if r.message_id == sent.id]
    assert got == [(u.id, e) for u, e in missed]  # replayed once each, in order
    assert emu.gateway.log.identifies == identifies  # resumed, not re-identified
    inter = await emu.invoke(emu.reader, emu.channel, "story", subcommand="start", options={"story": "a"})
    await inter.wait_response()


async def test_forum_posts_need_a_thread(emu: Emulator, harness: Harness, clean_limits: Emulator) -> None:
    forum = emu.add_channel(emu.guild, "stories", type=15)
    wh = emu.add_webhook(forum, "forum voices", application_owned=True)
    status, body, _ = await raw(emu, "POST", f"/webhooks/{wh.id}/{wh.token}?wait=1", bot=False,
                                json={"content": "no thread"})
    assert (status, body["code"]) == (400, 220001)
    status, body, _ = await raw(emu, "POST", f"/webhooks/{wh.id}/{wh.token}?wait=1", bot=False,
                                json={"content": "Scene one", "thread_name": "Precious Person"})
    assert status == 200
    thread = emu.channels[int(body["channel_id"])]
    assert thread.is_thread and thread.parent_id == forum.id and thread.name == "Precious Person"
    assert [m.content for m in emu.messages(thread)] == ["Scene one"]


async def test_permission_overwrites_reach_interactions(emu: Emulator, harness: Harness) -> None:
    ch = emu.add_channel(emu.guild, "read-only-mods")
    await emu.set_overwrite(ch, emu.mod_role, deny=MANAGE_MESSAGES)
    inter = await emu.invoke(emu.moderator, ch, "story", subcommand="start", options={"story": "a"})
    assert "manage_messages=False" in await inter.wait_reply()
    await emu.set_overwrite(ch, emu.moderator, allow=MANAGE_MESSAGES)  # member beats role
    inter = await emu.invoke(emu.moderator, ch, "story", subcommand="start", options={"story": "a"})
    assert "manage_messages=True" in await inter.wait_reply()


async def test_deleted_channel_is_unknown(emu: Emulator, harness: Harness, clean_limits: Emulator) -> None:
    ch = emu.add_channel(emu.guild, "doomed")
    wh = emu.add_webhook(ch, "voice", application_owned=True)
    await emu.wait_for(lambda: harness.client.get_channel(ch.id), 5)
    await emu.delete_channel(ch)
    await emu.wait_for(lambda: harness.client.get_channel(ch.id) is None, 5)
    with pytest.raises(discord.NotFound) as exc:
        await harness.client.fetch_channel(ch.id)
    assert exc.value.code == 10003
    status, body, _ = await raw(emu, "POST", f"/webhooks/{wh.id}/{wh.token}?wait=1", bot=False, json={"content": "x"})
    assert (status, body["code"]) == (404, 10015)


async def test_urls_and_allowed_mentions_are_checked(emu: Emulator, harness: Harness, clean_limits: Emulator) -> None:
    wh = emu.add_webhook(emu.channel, "checks", application_owned=True)
    url = f"/webhooks/{wh.id}/{wh.token}?wait=1"
    bad = [
        {"content": "x", "avatar_url": "cards/gaara.png"},
        {"embeds": [{"description": "x", "author": {"name": "Gaara", "icon_url": "file:///tmp/a.png"}}]},
        {"content": "x", "allowed_mentions": {"parse": ["users"], "users": ["1"]}},
    ]
    for body in bad:
        status, answer, _ = await raw(emu, "POST", url, bot=False, json=body)
        assert (status, answer["code"]) == (400, 50035), body
    status, _, _ = await raw(emu, "POST", url, bot=False, json={
        "content": "fine", "avatar_url": "https://cdn.example/a.png", "allowed_mentions": {"parse": []}})
    assert status == 200


async def test_heartbeats_are_acked_like_a_remote_server(emu: Emulator, harness: Harness) -> None:
    start = emu.gateway.log.heartbeats
    await emu.wait_for(lambda: emu.gateway.log.heartbeats >= start + 3, 5)
    await emu.wait_for(lambda: 0.0 < harness.client.latency < 0.15, 2, what="a sane latency")
    # an instant loopback ACK would race discord.py's keep-alive thread and read as ~1 interval
    assert harness.client.latency >= emu.gateway.heartbeat_ack_delay * 0.9


async def test_unparseable_input_is_a_loud_500(emu: Emulator, harness: Harness) -> None:
    status, body, _ = await raw(emu, "GET", f"/channels/{emu.channel.id}/messages?limit=lots")
    assert status == 500 and body["emulator_error"] is True
    assert len(emu.errors) == 1 and "ValueError" in emu.errors[0]
    emu.errors.clear()


async def test_guild_command_sync_and_validation(emu: Emulator, harness: Harness) -> None:
    path = f"/applications/{emu.application_id}/guilds/{emu.guild.id}/commands"
    body = [{"name": "story", "description": "guild copy", "type": 1, "options": [
        {"name": "start", "description": "Start", "type": 1, "options": [
            {"name": "story", "description": "Which", "type": 3, "required": True}]}]}]
    status, synced, _ = await raw(emu, "PUT", path, json=body)
    assert status == 200 and synced[0]["guild_id"] == str(emu.guild.id)
    assert {"id", "application_id", "name", "description", "version", "options"} <= set(synced[0])
    assert emu.synced_command("story", emu.guild.id).body["description"] == "guild copy"
    status, listed, _ = await raw(emu, "GET", path)
    assert [c["id"] for c in listed] == [synced[0]["id"]]
    again = (await raw(emu, "PUT", path, json=body))[1]
    assert again[0]["id"] == synced[0]["id"]  # re-syncing keeps the command id

    for bad in ([{"name": "Story", "description": "x"}],
                [{"name": "a", "description": ""}],
                [{"name": "a", "description": "x", "options": [
                    {"name": "o", "description": "x", "type": 3, "autocomplete": True,
                     "choices": [{"name": "c", "value": "c"}]}]}],
                [{"name": "a", "description": "x", "options": [
                    {"name": "o", "description": "x", "type": 3},
                    {"name": "p", "description": "x", "type": 3, "required": True}]}]):
        status, err, _ = await raw(emu, "PUT", path, json=bad)
        assert (status, err["code"]) == (400, 50035), bad
    status, _, _ = await raw(emu, "PUT", path, json=[])
    assert status == 200 and all(c.guild_id is None for c in emu.commands.values())
