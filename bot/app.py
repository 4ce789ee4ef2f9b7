"""Composition root: settings -> logging -> database (migrated) -> story library -> ask engine
-> Discord bot, whose start-up builds the webhook stage and the narrator and resumes sessions.

Shutdown (SIGINT/SIGTERM): the narrator stops its timers and lets in-flight posts finish and be
recorded, the bot disconnects, then the database closes; the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.config import ConfigError, Settings
from bot.engine.api import NarratorService
from bot.engine.stage import Stage
from bot.logs import setup_logging
from bot.store import Database, MigrationError, StoreError
from bot.story.library import Library, load_library

log = logging.getLogger("bot")

# Test/rehearsal knob (documented in the README): every pacing delay is multiplied by this
# factor, and the pace limit widened accordingly, so an end-to-end test can play a whole story
# in real time within seconds. Unset (1.0) in production.
TIME_SCALE_ENV = "NARRATOR_TIME_SCALE"
# Test-only knob for an emulator whose rate-limit windows are shrunk by the same factor (never
# set it against real Discord: its windows are fixed).
RATE_SCALE_ENV = "NARRATOR_RATE_SCALE"


def time_scale(env: Mapping[str, str] | None = None, name: str = TIME_SCALE_ENV) -> float:
    raw = (env if env is not None else os.environ).get(name, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise ConfigError(f"{name} must be a number between 0 and 1 (got {raw!r}); leave it unset "
                          "for normal timing.")
    return value


def scaled_limits(scale: float) -> Any:
    from bot.engine.budget import EngineLimits

    base = EngineLimits()
    if scale >= 1.0:
        return base
    return replace(base, channel_window=base.channel_window * scale, webhook_window=base.webhook_window * scale,
                   global_window=base.global_window * scale)


def scaled_pacing(scale: float) -> Any:
    from bot.engine.pacing import Pacing

    base = Pacing()
    if scale >= 1.0:
        return base
    return replace(
        base,
        wpm_max=int(base.wpm_max / scale),
        base=base.base * scale,
        min_delay=base.min_delay * scale,
        max_delay=base.max_delay * scale,
        breather=base.breather * scale,
        first_beat_delay=base.first_beat_delay * scale,
        resume_delay=base.resume_delay * scale,
        typing_lead=base.typing_lead * scale,
        press_cooldown=base.press_cooldown * scale,
    )


async def _index(answers: Any, library: Library) -> None:
    for story in library.stories.values():
        try:
            await answers.index_story(story)
        except Exception:
            log.exception("indexing %s for /ask failed; /ask will index it on first use", story.slug)


async def _main(settings: Settings) -> None:
    settings.require_token()
    scale = time_scale()
    rate_scale = time_scale(name=RATE_SCALE_ENV)
    if scale < 1 or rate_scale < 1:
        log.warning("test timing in effect: %s=%s %s=%s", TIME_SCALE_ENV, scale, RATE_SCALE_ENV, rate_scale)
    async with await Database.open(settings.database_path) as db:
        applied = await db.migrate()
        for name in applied:
            log.info("applied migration %s", name)
        library = load_library(settings.story_dir)
        for err in library.errors:
            log.warning("story folder problem: %s", err)
        log.info("loaded %d story(ies) from %s", len(library.stories), settings.story_dir)

        from bot.answers.engine import AnswerEngine, AskRefused
        from bot.answers.llm import LLMConfig
        from bot.discord_app.errors import register_user_facing
        from bot.discord_app.runner import serve

        register_user_facing(AskRefused)
        answers = AnswerEngine(db, llm=LLMConfig.from_settings(settings))
        await _index(answers, library)

        async def narrator_factory(stage: Stage) -> NarratorService:
            from bot.engine.narrator import Narrator

            narrator: NarratorService = Narrator(db, stage, library, pacing=scaled_pacing(scale),
                                                 limits=scaled_limits(rate_scale))
            return narrator

        await serve(settings, db, library=library, narrator_factory=narrator_factory, answers=answers,
                    rate_scale=rate_scale)


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
