"""Composition root: settings -> logging -> database (migrated) -> services -> Discord."""

from __future__ import annotations

import asyncio
import logging

from bot.config import ConfigError, Settings
from bot.logs import setup_logging
from bot.store import Database, MigrationError, StoreError

log = logging.getLogger("bot")


async def _main(settings: Settings) -> None:
    settings.require_token()
    async with await Database.open(settings.database_path) as db:
        applied = await db.migrate()
        for name in applied:
            log.info("applied migration %s", name)
        from bot.discord_app.runner import serve

        await serve(settings, db)


def run_bot(settings: Settings) -> int:
    setup_logging(settings)
    try:
        settings.require_token()
        asyncio.run(_main(settings))
    except (MigrationError, StoreError) as exc:
        raise ConfigError(str(exc)) from exc
    return 0
