"""Start the Discord side, stop it cleanly on SIGINT/SIGTERM, and turn start-up failures into
one sentence."""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp
import discord

from bot.config import ConfigError, Settings
from bot.discord_app.bot import AnswersLike, LibraryLike, NarratorBot, NarratorFactory
from bot.discord_app.endpoints import point_at
from bot.store import Store

log = logging.getLogger(__name__)


async def serve(settings: Settings, db: Store, *, library: LibraryLike, narrator_factory: NarratorFactory,
                answers: AnswersLike | None = None, rate_scale: float = 1.0) -> None:
    """Run the bot until it is closed (SIGINT/SIGTERM close it: timers stop, in-flight posts
    finish and are recorded, then the caller closes the database)."""
    token = settings.require_token()
    point_at(settings.discord_api_base, settings.discord_gateway_url)

    bot = NarratorBot(settings, db, library=library, narrator_factory=narrator_factory, answers=answers,
                      rate_scale=rate_scale)
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []

    def _stop(signame: str) -> None:
        log.info("%s received: finishing in-flight posts and shutting down", signame)
        if not closing:
            closing.append(loop.create_task(bot.close()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, _stop, sig.name)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            pass
    try:
        async with bot:
            await bot.start(token)
    except discord.LoginFailure as exc:
        raise ConfigError(
            "Discord rejected DISCORD_TOKEN: reset the token on the Bot page of the developer portal "
            "and paste the new one into .env."
        ) from exc
    except (aiohttp.ClientConnectionError, OSError) as exc:
        where = settings.discord_api_base or "discord.com"
        raise ConfigError(
            f"cannot reach Discord at {where} ({type(exc).__name__}); check the network, or "
            "DISCORD_API_BASE / DISCORD_GATEWAY_URL in .env."
        ) from exc
    except discord.PrivilegedIntentsRequired as exc:  # pragma: no cover - we request none
        raise ConfigError("Discord refused the requested intents.") from exc
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):  # pragma: no cover
                pass
    log.info("stopped")
