"""Permission checks, error mapping, the send budget and the guild store, without a network."""

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord

from bot.discord_app.budget import SendBudget, Window
from bot.discord_app.errors import APOLOGY, user_message
from bot.discord_app.permissions import Refused, is_moderator, member_role_ids
from bot.discord_app.webhook_stage import stage_error
from bot.engine.api import NoSession, TooFast
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

class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


async def test_budget_waits_before_a_window_would_overflow() -> None:
    t = FakeTime()
    budget = SendBudget(clock=t.clock, sleep=t.sleep)
    windows = [Window("hook", 5, 2.0), Window("chan", 30, 60.0)]
    times = []
    for _ in range(40):
        await budget.acquire(windows)
        times.append(t.now)
    # never more than 5 in any 2 s, nor 30 in any 60 s
    for i, start in enumerate(times):
        assert sum(1 for x in times[i:] if x < start + 2.0) <= 5
        assert sum(1 for x in times[i:] if x < start + 60.0) <= 30
    assert times[30] >= 60.0  # the 31st send waited for the channel window
    assert times[4] == 0.0 and times[5] == 2.0


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
