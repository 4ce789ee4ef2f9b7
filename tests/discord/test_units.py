"""Permission checks, error mapping, the send budget and the guild store, without a network."""

import asyncio
import importlib.util
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord

from bot.discord_app.errors import APOLOGY, user_message
from bot.discord_app.permissions import Refused, is_moderator, member_role_ids
from bot.discord_app.webhook_stage import stage_error
from bot.engine.api import NoSession, TooFast
from bot.engine.budget import BudgetGate, EngineLimits, RateBudget
from bot.engine.clock import FakeClock
from bot.engine.stage import Forbidden, Gone, RateLimited, Unavailable
from bot.store import Database
from bot.store.guilds import GuildStore


def http_error(cls: type[discord.HTTPException], status: int, code: int, headers: dict[str, str] | None = None,
               text: str = "boom") -> discord.HTTPException:
    response: Any = SimpleNamespace(status=status, reason="x", headers=headers or {})
    return cls(response, {"code": code, "message": text})


# ---------------------------------------------------------------- permissions

def test_moderator_by_permission_or_role() -> None:
    reader = discord.Permissions(send_messages=True, read_message_history=True)
    assert not is_moderator(reader, [], None)
    assert not is_moderator(reader, [1, 2], 3)
    assert is_moderator(reader, [1, 3], 3)
    assert is_moderator(discord.Permissions(manage_messages=True), [], None)
    assert is_moderator(discord.Permissions(administrator=True), [], 9)


def test_member_role_ids_reads_uncached_roles_too() -> None:
    user = SimpleNamespace(roles=[SimpleNamespace(id=5)], _roles=[7, 8])
    assert member_role_ids(user) == {5, 7, 8}
    assert member_role_ids(SimpleNamespace()) == set()


# ---------------------------------------------------------------- errors shown to users

def test_domain_errors_become_sentences_and_the_rest_an_apology() -> None:
    assert user_message(NoSession("No story is playing here.")) == ("No story is playing here.", True)
    assert user_message(Refused("Only moderators can do that."))[1] is True
    assert user_message(TooFast("Easy!", retry_after=1.0)) == ("Easy!", True)
    wrapped = discord.app_commands.CommandInvokeError(SimpleNamespace(name="x", qualified_name="x"),  # type: ignore[arg-type]
                                                      NoSession("none"))
    assert user_message(wrapped) == ("none", True)
    text, expected = user_message(KeyError("secret detail"))
    assert text == APOLOGY and not expected and "secret" not in text
    text, _ = user_message(Forbidden("403", fix="Grant Manage Webhooks."))
    assert "Grant Manage Webhooks." in text


# ---------------------------------------------------------------- discord errors -> stage errors

def test_discord_errors_map_to_stage_errors() -> None:
    e = stage_error(http_error(discord.HTTPException, 429, 0, {"Retry-After": "2.5"}), doing="posting")
    assert isinstance(e, RateLimited) and e.retry_after == 2.5
    e = stage_error(http_error(discord.Forbidden, 403, 50013), doing="posting", fix="grant X")
    assert isinstance(e, Forbidden) and e.fix == "grant X"
    for code, status in ((10003, 404), (10008, 404), (50083, 400), (160005, 400)):
        assert isinstance(stage_error(http_error(discord.HTTPException, status, code), doing="x"), Gone)
    assert isinstance(stage_error(http_error(discord.DiscordServerError, 503, 0), doing="x"), Unavailable)
    assert isinstance(stage_error(TimeoutError(), doing="x"), Unavailable)
    assert isinstance(stage_error(OSError("reset"), doing="x"), Unavailable)


def test_stage_error_messages_never_carry_webhook_tokens() -> None:
    exc = http_error(discord.HTTPException, 500, 0, text="failed /webhooks/123/abcDEF-token_xyz.123 oops")
    e = stage_error(exc, doing="posting")
    assert "abcDEF-token_xyz.123" not in str(e)
    locked = stage_error(http_error(discord.HTTPException, 400, 160005), doing="posting")
    assert "the thread is locked" in str(locked)


# ---------------------------------------------------------------- send budget

async def test_budget_waits_before_a_window_would_overflow() -> None:
    # The stage's own requests (/ask replies) wait in the engine's one gate, never meet a 429.
    clock = FakeClock()
    gate = BudgetGate(RateBudget(EngineLimits(margin=0.0)), clock)
    times: list[float] = []

    async def send_40() -> None:
        for _ in range(40):
            await gate.acquire(7, 7)
            times.append(clock.monotonic() - 1000.0)

    task = asyncio.ensure_future(send_40())
    while not task.done():
        await clock.advance(0.5)
    # never more than 5 in any 2 s, nor 30 in any 60 s
    for i, start in enumerate(times):
        assert sum(1 for x in times[i:] if x < start + 2.0) <= 5
        assert sum(1 for x in times[i:] if x < start + 60.0) <= 30
    assert times[30] >= 60.0  # the 31st send waited for the channel window
    assert times[4] == 0.0 and times[5] == 2.0


def test_there_is_one_rate_limiter() -> None:
    assert importlib.util.find_spec("bot.discord_app.budget") is None
    from bot.discord_app import webhook_stage
    assert "BudgetGate" in vars(webhook_stage)


# ---------------------------------------------------------------- guild store

async def test_guild_store_round_trips(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await db.migrate()
        store = GuildStore(db)
        assert await store.webhook(1) is None
        await store.save_webhook(1, 10, "tok-1")
        await store.save_webhook(1, 11, "tok-2")
        hook = await store.webhook(1)
        assert hook is not None and (hook.webhook_id, hook.token) == (11, "tok-2")
        assert "tok-2" not in repr(hook)
        await store.forget_webhook(1, 10)  # stale id: keeps the current one
        assert await store.webhook(1) is not None
        await store.forget_webhook(1, 11)
        assert await store.webhook(1) is None

        assert await store.mod_role(5) is None
        await store.set_mod_role(5, 77)
        assert await store.mod_role(5) == 77

        assert await store.ask_enabled(2) is True
        await store.set_ask_enabled(2, False)
        assert await store.ask_enabled(2) is False

        results = await asyncio.gather(*(store.claim_webhook_notice(3) for _ in range(5)))
        assert results.count(True) == 1
        assert await store.claim_webhook_notice(3) is False
        await store.reset_webhook_notice(3)
        assert await store.claim_webhook_notice(3) is True
        # the ask switch survives the notice bookkeeping
        await store.claim_webhook_notice(2)
        assert await store.ask_enabled(2) is False

        assert await store.tidy(2) is None  # never set: the narrator's default applies
        await store.set_tidy(2, "mark")
        assert await store.tidy(2) == "mark" and await store.ask_enabled(2) is False
        await store.set_tidy(9, "none")
        assert await store.tidy(9) == "none" and await store.ask_enabled(9) is True


async def test_a_long_rate_limit_surfaces_as_an_error_the_engine_handles(tmp_path: Path) -> None:
    from bot.config import load_settings
    from bot.discord_app.bot import MAX_RATELIMIT_WAIT, NarratorBot
    from bot.story.library import Library

    settings = load_settings({"DATABASE_PATH": str(tmp_path / "db.sqlite3")}, dotenv=False)
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        bot = NarratorBot(settings, guilds=GuildStore(db), library=Library())
        # discord.py raises RateLimited instead of sleeping through a long 429 ...
        assert bot.http.max_ratelimit_timeout == MAX_RATELIMIT_WAIT == 30.0
        await bot.close()
    # ... which the stage turns into the engine's RateLimited (wait and retry the same beat)
    mapped = stage_error(discord.RateLimited(120.0), doing="posting")
    assert isinstance(mapped, RateLimited) and mapped.retry_after == 120.0


async def test_sigterm_during_a_reconnect_sleep_stops_at_once(tmp_path: Path) -> None:
    """discord.py sleeps between reconnects (up to ~17 min in a long outage) and close() does not
    wake it: the runner cancels it once the bot is closed instead of waiting it out."""
    import os
    import signal
    import time

    from bot.config import load_settings
    from bot.discord_app.runner import serve

    class AsleepBot:
        closed = False

        async def __aenter__(self) -> "AsleepBot":
            return self

        async def __aexit__(self, *exc: object) -> None:
            self.closed = True

        async def start(self, token: str) -> None:
            os.kill(os.getpid(), signal.SIGTERM)  # the service manager stops us ...
            await asyncio.sleep(3600)  # ... while discord.py waits to reconnect

        async def close(self) -> None:
            self.closed = True

    settings = load_settings({"DISCORD_TOKEN": "x" * 30, "DATABASE_PATH": str(tmp_path / "db")}, dotenv=False)
    bot = AsleepBot()
    started = time.monotonic()
    await asyncio.wait_for(serve(bot, settings), 10)  # type: ignore[arg-type]
    assert time.monotonic() - started < 2 and bot.closed
