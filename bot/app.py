"""Composition root: settings -> logging -> database (migrated) -> story library -> every service
(guild store, rate budget, answer engine, Discord bot, webhook stage, narrator) -> run.

Everything the bot uses is built here and handed in (discord.py's `advanced_startup` style); the
Discord package never reaches back into this module. One `Clock` drives the narrator, the rate
budget and the /ask cooldown.

Shutdown (SIGINT/SIGTERM): the narrator stops its timers and lets in-flight posts finish and be
recorded, the bot disconnects, then the database closes; the process exits 0 within 10 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import stat
from pathlib import Path

from bot.answers.engine import AnswerEngine, AskRefused
from bot.answers.llm import LLMConfig
from bot.config import ConfigError, Settings
from bot.discord_app.bot import build_bot
from bot.discord_app.errors import register_user_facing
from bot.discord_app.runner import serve
from bot.discord_app.webhook_stage import WebhookStage
from bot.engine.budget import BudgetGate, EngineLimits, RateBudget
from bot.engine.clock import Clock, SystemClock
from bot.engine.narrator import Narrator
from bot.engine.pacing import Pacing
from bot.engine.shards import ShardSet
from bot.logs import setup_logging
from bot.server_library import Limits, ServerLibrary
from bot.store import MigrationError, Store, StoreError, open_store
from bot.store.guilds import GuildStore
from bot.store.library import LibraryStore
from bot.story.library import Library, load_library

log = logging.getLogger("bot")

# How often the database file is checked for having been deleted or replaced under the bot.
DB_FILE_CHECK_SECONDS = 5.0


def exposed_files(settings: Settings) -> list[str]:
    """Warnings for secret-bearing files other users can read: `.env` (the token), the database
    (webhook tokens) and its WAL files, the log file."""
    candidates: list[tuple[str, Path | None]] = [(".env", settings.env_file), ("the database", settings.database_path),
                                                 ("the log file", settings.log_file)]
    db = settings.database_path
    candidates += [("the database journal", db.with_name(db.name + suffix)) for suffix in ("-wal", "-shm")]
    out = []
    for what, path in candidates:
        if path is None or str(path) == ":memory:":
            continue
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            others = "anyone on this machine" if mode & stat.S_IRWXO else "the file's group"
            out.append(f"{what} {path} can be read by {others} (mode {stat.S_IMODE(mode):04o}) and holds "
                       f"secrets; run: chmod 600 {path}")
    return out


async def _index(answers: AnswerEngine, library: Library) -> None:
    for story in library.stories.values():
        try:
            await answers.index_story(story)
        except Exception:
            log.exception("indexing %s for /ask failed; /ask will index it on first use", story.slug)


async def watch_database_file(db: Store, clock: Clock, every: float = DB_FILE_CHECK_SECONDS) -> None:
    """Report (once per incident) a database file deleted or replaced while the bot runs."""
    reported: str | None = None
    while True:
        await clock.sleep(every)
        problem = db.file_problem()
        if problem is not None and problem != reported:
            log.error("%s", problem)
        elif problem is None and reported is not None:
            log.warning("the database file %s is back", db.path)
        reported = problem


async def _main(settings: Settings) -> None:
    settings.require_token()
    if settings.time_scale < 1 or settings.rate_scale < 1:
        log.warning("test timing in effect: NARRATOR_TIME_SCALE=%s NARRATOR_RATE_SCALE=%s",
                    settings.time_scale, settings.rate_scale)
    for warning in exposed_files(settings):
        log.warning("%s", warning)
    clock = SystemClock()
    pacing = Pacing().scaled(settings.time_scale)
    limits = EngineLimits(global_requests=settings.global_rate).scaled(settings.rate_scale)
    shards = None
    if settings.shard_count is not None and settings.shard_ids is not None:
        shards = ShardSet(settings.shard_count, settings.shard_ids)
        log.info("running shard(s) %s of %d", ",".join(map(str, shards.ids)), shards.count)
    async with await open_store(settings.database_url, settings.database_path) as db:
        for name in await db.migrate():
            log.info("applied migration %s", name)
        library = load_library(settings.story_dir)
        for err in library.errors:
            log.warning("story folder problem: %s", err)
        log.info("loaded %d story(ies) from %s", len(library.stories), settings.story_dir)

        register_user_facing(AskRefused)
        answers = AnswerEngine(db, llm=LLMConfig.from_settings(settings), clock=clock)
        await _index(answers, library)
        # servers' own stories (imported from Discord) beside the bundled ones: their light rows
        # now, the stories themselves when needed, those of sessions still going before they
        # resume (only this process's shards), so a session playing one goes on after a restart
        stories = ServerLibrary(library, LibraryStore(db), on_change=answers.index_story,
                                limits=Limits(max_bytes=settings.import_max_bytes,
                                              per_server=settings.stories_per_server,
                                              cache_bytes=settings.story_cache_bytes))
        await stories.refresh()
        await stories.load_live(shards.owns if shards is not None else None)

        guilds = GuildStore(db)
        gate = BudgetGate(RateBudget(limits), clock)  # the one rate limiter, shared by every request
        bot = build_bot(settings, guilds=guilds, library=stories, answers=answers)
        stage = WebhookStage(bot, guilds, gate)
        narrator = Narrator(db, stage, library=stories, clock=clock, gate=gate, pacing=pacing, limits=limits,
                            shards=shards)
        bot.attach(stage, narrator)
        watchers = [asyncio.create_task(watch_database_file(db, clock)),
                    asyncio.create_task(stories.watch(sleep=clock.sleep), name="server-library-refresh")]
        try:
            await serve(bot, settings)
        finally:
            for watcher in watchers:
                watcher.cancel()
            for watcher in watchers:
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher


# Libraries that print secrets in their DEBUG lines: discord.py's gateway (raw events carry
# interaction tokens), its webhook adapter (interaction callback URLs), aiosqlite and asyncpg
# (statement parameters, i.e. stored webhook tokens). They stay at INFO even when LOG_LEVEL=DEBUG.
SECRET_BEARING_LOGGERS = ("discord.gateway", "discord.webhook", "discord.http", "aiosqlite", "asyncpg")


def quiet_secret_loggers() -> None:
    for name in SECRET_BEARING_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))


def run_bot(settings: Settings) -> int:
    setup_logging(settings)
    quiet_secret_loggers()
    try:
        settings.require_token()
        asyncio.run(_main(settings))
    except (MigrationError, StoreError) as exc:
        raise ConfigError(str(exc)) from exc
    return 0
