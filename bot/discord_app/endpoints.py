"""Point discord.py at a REST / gateway proxy (or a loopback emulator in tests).

discord.py has no public option for its URLs; these class attributes decide them (see
shared/DISCORD.md). They are process-wide, so this runs once, at start-up, before connecting.
"""

from __future__ import annotations

import discord
import discord.http
import yarl
from discord.gateway import DiscordWebSocket


def point_at(api_base: str | None, gateway_url: str | None) -> None:
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    if api_base:
        # Asset URLs are only strings, but keep them on the same host for consistency.
        discord.asset.Asset.BASE = api_base.rstrip("/").rsplit("/api", 1)[0]
