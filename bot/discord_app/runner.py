"""Run the bot until SIGINT/SIGTERM, stop it within a deadline whatever Discord is doing, and turn
start-up failures into one sentence."""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp
import discord

from bot.config import ConfigError, Settings
from bot.discord_app.bot import NarratorBot
from bot.discord_app.endpoints import point_at

log = logging.getLogger(__name__)

# SIGTERM to exit: the narrator's timers stop and in-flight posts get most of this to finish and
# be recorded (every other change is saved the moment it happens); what is still running then —
# a post hanging in a Discord outage, discord.py asleep between reconnects — is cancelled, and
# a post cut off that way is checked against the channel at the next start. Kept under 10 s,
# the grace period service managers (systemd, Docker) give before SIGKILL.
SHUTDOWN_DEADLINE = 8.0


async def serve(bot: NarratorBot, settings: Settings) -> None:
    """Run `bot` (services attached) until it is closed; the caller closes the database after."""
    token = settings.require_token()
    point_at(settings.discord_api_base, settings.discord_gateway_url)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def _stop(signame: str) -> None:
        log.info("%s received: finishing in-flight posts and shutting down", signame)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, _stop, sig.name)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            pass
    try:
        async with bot:
            running = asyncio.ensure_future(bot.start(token))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if running.done():
                running.result()  # start-up failed (or Discord closed us): say why
            else:
                await _shut_down(bot, running)
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


async def _shut_down(bot: NarratorBot, running: asyncio.Future[None]) -> None:
    """Close the bot within SHUTDOWN_DEADLINE, then cancel whatever discord.py is still doing."""
    try:
        await asyncio.wait_for(bot.close(), SHUTDOWN_DEADLINE)
    except TimeoutError:
        log.warning("shutdown took longer than %.0f s (Discord not answering?): stopping now; "
                    "any post cut off is checked in the channel at the next start", SHUTDOWN_DEADLINE)
    except Exception:
        log.exception("closing the bot failed")
    if not running.done():
        running.cancel()
    await asyncio.wait({running}, timeout=1.0)
    if running.done() and not running.cancelled() and running.exception() is not None:
        log.info("discord.py stopped with %s while shutting down", type(running.exception()).__name__)
