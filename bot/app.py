"""Composition root: settings -> logging -> database (migrated) -> story library -> ask engine
-> Discord bot, whose start-up builds the webhook stage and the narrator and resumes sessions.

Shutdown (SIGINT/SIGTERM): the narrator stops its timers and lets in-flight posts finish and be
recorded, the bot disconnects, then the database closes; the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging

from bot.answers.engine import AnswerEngine
from bot.config import ConfigError, Settings
from bot.engine.api import NarratorService
from bot.engine.budget import EngineLimits
from bot.engine.pacing import Pacing
from bot.engine.stage import Stage
from bot.logs import setup_logging
from bot.server_library import Limits, ServerLibrary
from bot.store import Database, MigrationError, StoreError
from bot.store.library import LibraryStore
from bot.story.library import Library, load_library

log = logging.getLogger("bot")


async def _index(answers: AnswerEngine, library: Library) -> None:
    for story in library.stories.values():
        try:
            await answers.index_story(story)
        except Exception:
            log.exception("indexing %s for /ask failed; /ask will index it on first use", story.slug)


async def _main(settings: Settings) -> None:
    settings.require_token()
    if settings.time_scale < 1 or settings.rate_scale < 1:
        log.warning("test timing in effect: NARRATOR_TIME_SCALE=%s NARRATOR_RATE_SCALE=%s",
                    settings.time_scale, settings.rate_scale)
    pacing = Pacing().scaled(settings.time_scale)
    limits = EngineLimits().scaled(settings.rate_scale)
    async with await Database.open(settings.database_path) as db:
        applied = await db.migrate()
        for name in applied:
            log.info("applied migration %s", name)
        library = load_library(settings.story_dir)
        for err in library.errors:
            log.warning("story folder problem: %s", err)
        log.info("loaded %d story(ies) from %s", len(library.stories), settings.story_dir)

        from bot.answers.engine import AskRefused
        from bot.answers.llm import LLMConfig
        from bot.discord_app.errors import register_user_facing
        from bot.discord_app.runner import serve

        register_user_facing(AskRefused)
        answers = AnswerEngine(db, llm=LLMConfig.from_settings(settings))
        await _index(answers, library)
        # servers' own stories (imported from Discord) beside the bundled ones, loaded before
        # sessions resume so a session playing one goes on after a restart
        stories = ServerLibrary(library, LibraryStore(db), on_change=answers.index_story,
                                limits=Limits(max_bytes=settings.import_max_bytes,
                                              per_server=settings.stories_per_server))
        await stories.refresh()

        async def narrator_factory(stage: Stage) -> NarratorService:
            from bot.engine.narrator import Narrator

            return Narrator(db, stage, stories, pacing=pacing, limits=limits)

        watcher = asyncio.create_task(stories.watch(), name="server-library-refresh")
        try:
            await serve(settings, db, library=stories, narrator_factory=narrator_factory, answers=answers,
                        rate_scale=settings.rate_scale)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)


# Libraries that print secrets in their DEBUG lines: discord.py's gateway (raw events carry
# interaction tokens), its webhook adapter (interaction callback URLs) and aiosqlite (statement
# parameters, i.e. stored webhook tokens). They stay at INFO even when LOG_LEVEL=DEBUG.
SECRET_BEARING_LOGGERS = ("discord.gateway", "discord.webhook", "discord.http", "aiosqlite")


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
