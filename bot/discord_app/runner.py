"""Start the Discord side and turn its start-up failures into one sentence."""

from __future__ import annotations

import aiohttp
import discord

from bot.config import ConfigError, Settings
from bot.discord_app.bot import NarratorBot
from bot.discord_app.endpoints import point_at
from bot.store import Database


async def serve(settings: Settings, db: Database) -> None:
    token = settings.require_token()
    point_at(settings.discord_api_base, settings.discord_gateway_url)
    bot = NarratorBot(settings, db)
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
