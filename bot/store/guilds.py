"""Per-server and per-channel Discord state: channel webhooks, moderator role, /ask switch,
the once-per-channel "missing Manage Webhooks" notice, and config changes in the audit log.

Webhook tokens are secrets: they live only in this table (the database file is 0600) and are
never logged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.store.db import Database


@dataclass(frozen=True, slots=True, repr=False)
class StoredWebhook:
    channel_id: int
    webhook_id: int
    token: str

    def __repr__(self) -> str:  # never show the token
        return f"StoredWebhook(channel_id={self.channel_id}, webhook_id={self.webhook_id})"


class GuildStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- webhooks
    async def webhook(self, channel_id: int) -> StoredWebhook | None:
        row = await self.db.fetchone(
            "SELECT channel_id, webhook_id, webhook_token FROM webhooks WHERE channel_id = ?",
            (channel_id,),
        )
        if row is None:
            return None
        return StoredWebhook(int(row["channel_id"]), int(row["webhook_id"]), str(row["webhook_token"]))

    async def save_webhook(self, channel_id: int, webhook_id: int, token: str) -> None:
        await self.db.execute(
            "INSERT INTO webhooks (channel_id, webhook_id, webhook_token, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (channel_id) DO UPDATE SET webhook_id = excluded.webhook_id, "
            "webhook_token = excluded.webhook_token, created_at = excluded.created_at",
            (channel_id, webhook_id, token, time.time()),
        )

    async def forget_webhook(self, channel_id: int, webhook_id: int | None = None) -> None:
        """Drop the stored webhook (only if it is still `webhook_id`, when given)."""
        if webhook_id is None:
            await self.db.execute("DELETE FROM webhooks WHERE channel_id = ?", (channel_id,))
        else:
            await self.db.execute(
                "DELETE FROM webhooks WHERE channel_id = ? AND webhook_id = ?", (channel_id, webhook_id)
            )

    # ---- guild settings
    async def mod_role(self, guild_id: int) -> int | None:
        row = await self.db.fetchone("SELECT mod_role_id FROM guild_settings WHERE guild_id = ?", (guild_id,))
        if row is None or row["mod_role_id"] is None:
            return None
        return int(row["mod_role_id"])

    async def set_mod_role(self, guild_id: int, role_id: int | None) -> None:
        await self.db.execute(
            "INSERT INTO guild_settings (guild_id, mod_role_id) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET mod_role_id = excluded.mod_role_id",
            (guild_id, role_id),
        )

    # ---- channel settings
    async def ask_enabled(self, channel_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT ask_enabled FROM channel_settings WHERE channel_id = ?", (channel_id,)
        )
        return True if row is None else bool(row["ask_enabled"])

    async def set_ask_enabled(self, channel_id: int, enabled: bool) -> None:
        await self.db.execute(
            "INSERT INTO channel_settings (channel_id, ask_enabled) VALUES (?, ?) "
            "ON CONFLICT (channel_id) DO UPDATE SET ask_enabled = excluded.ask_enabled",
            (channel_id, 1 if enabled else 0),
        )

    async def tidy(self, channel_id: int) -> str | None:
        """What rewinds do to later messages here ("delete", "mark", "none"), or None when never set."""
        row = await self.db.fetchone("SELECT tidy FROM channel_settings WHERE channel_id = ?", (channel_id,))
        value = None if row is None else row["tidy"]
        return str(value) if value in ("delete", "mark", "none") else None

    async def set_tidy(self, channel_id: int, tidy: str) -> None:
        if tidy not in ("delete", "mark", "none"):
            raise ValueError(f"unknown tidy {tidy!r}")
        await self.db.execute(
            "INSERT INTO channel_settings (channel_id, tidy) VALUES (?, ?) "
            "ON CONFLICT (channel_id) DO UPDATE SET tidy = excluded.tidy",
            (channel_id, tidy),
        )

    async def claim_webhook_notice(self, channel_id: int) -> bool:
        """True exactly once per channel (until `reset_webhook_notice`): whoever gets True sends
        the "missing Manage Webhooks" notice."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT webhook_notice_sent FROM channel_settings WHERE channel_id = ?", (channel_id,)
            ) as cur:
                row = await cur.fetchone()
            if row is not None and row[0]:
                return False
            await conn.execute(
                "INSERT INTO channel_settings (channel_id, webhook_notice_sent) VALUES (?, 1) "
                "ON CONFLICT (channel_id) DO UPDATE SET webhook_notice_sent = 1",
                (channel_id,),
            )
            return True

    async def reset_webhook_notice(self, channel_id: int) -> None:
        """Webhooks work again here: if the permission is lost later, say so again."""
        await self.db.execute(
            "UPDATE channel_settings SET webhook_notice_sent = 0 WHERE channel_id = ? AND webhook_notice_sent = 1",
            (channel_id,),
        )

    # ---- audit
    async def audit(self, *, guild_id: int | None, channel_id: int, actor_id: int, action: str,
                    detail: str = "") -> None:
        await self.db.execute(
            "INSERT INTO audit_log (guild_id, channel_id, actor_id, action, detail, at) VALUES (?, ?, ?, ?, ?, ?)",
            (guild_id, channel_id, actor_id, action, detail, time.time()),
        )
