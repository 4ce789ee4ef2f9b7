"""Servers' own stories (imported from Discord): one row per (server, slug) holding the original
file, story.toml (metadata and cast), the reviewed script and the import record. `revision`
grows with every change so each bot process can tell which stories it must reload."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.store.db import Database


@dataclass(frozen=True, slots=True)
class StoredStory:
    guild_id: int
    slug: str
    title: str
    source_name: str
    source: bytes
    story_toml: str
    script: str
    import_record: str  # JSON
    imported_by: int
    revision: int


_COLUMNS = ("guild_id, slug, title, source_name, source, story_toml, script, import_record, imported_by, "
            "revision")


def _row(row: object) -> StoredStory:
    r = row  # sqlite3.Row
    return StoredStory(int(r["guild_id"]), str(r["slug"]), str(r["title"]),  # type: ignore[index]
                       str(r["source_name"]), bytes(r["source"]), str(r["story_toml"]),  # type: ignore[index]
                       str(r["script"]), str(r["import_record"]), int(r["imported_by"]),  # type: ignore[index]
                       int(r["revision"]))  # type: ignore[index]


class LibraryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def revisions(self, guild_id: int | None = None) -> dict[tuple[int, str], int]:
        """(guild, slug) -> revision, for one server or all of them."""
        if guild_id is None:
            rows = await self.db.fetchall("SELECT guild_id, slug, revision FROM server_stories")
        else:
            rows = await self.db.fetchall(
                "SELECT guild_id, slug, revision FROM server_stories WHERE guild_id = ?", (guild_id,))
        return {(int(r["guild_id"]), str(r["slug"])): int(r["revision"]) for r in rows}

    async def get(self, guild_id: int, slug: str) -> StoredStory | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM server_stories WHERE guild_id = ? AND slug = ?",
                                     (guild_id, slug))
        return None if row is None else _row(row)

    async def count(self, guild_id: int) -> int:
        row = await self.db.fetchone("SELECT COUNT(*) AS n FROM server_stories WHERE guild_id = ?", (guild_id,))
        return int(row["n"]) if row is not None else 0

    async def save(self, story: StoredStory, *, max_per_guild: int | None = None, new: bool = False) -> str:
        """Insert or replace one story in one transaction: "saved", or "exists" (with `new`, the
        slug is taken) or "full" (a new story while the server holds `max_per_guild`). Checking
        and inserting happen together, so two imports at once cannot both pass."""
        now = time.time()
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT revision FROM server_stories WHERE guild_id = ? AND slug = ?",
                                    (story.guild_id, story.slug)) as cur:
                existing = await cur.fetchone()
            if existing is not None and new:
                return "exists"
            if existing is None and max_per_guild is not None:
                async with conn.execute("SELECT COUNT(*) FROM server_stories WHERE guild_id = ?",
                                        (story.guild_id,)) as cur:
                    n = await cur.fetchone()
                if n is not None and int(n[0]) >= max_per_guild:
                    return "full"
            if existing is None:
                await conn.execute(
                    "INSERT INTO server_stories (guild_id, slug, title, source_name, source, story_toml, script, "
                    "import_record, imported_by, created_at, updated_at, revision) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                    (story.guild_id, story.slug, story.title, story.source_name, story.source, story.story_toml,
                     story.script, story.import_record, story.imported_by, now, now))
            else:
                await conn.execute(
                    "UPDATE server_stories SET title = ?, source_name = ?, source = ?, story_toml = ?, script = ?, "
                    "import_record = ?, imported_by = ?, updated_at = ?, revision = revision + 1 "
                    "WHERE guild_id = ? AND slug = ?",
                    (story.title, story.source_name, story.source, story.story_toml, story.script,
                     story.import_record, story.imported_by, now, story.guild_id, story.slug))
        return "saved"

    async def update_files(self, guild_id: int, slug: str, *, script: str | None = None,
                           story_toml: str | None = None, title: str | None = None,
                           expect_revision: int | None = None) -> bool:
        """Replace the script and/or story.toml; False when the story is gone or (with
        `expect_revision`) was changed by someone else meanwhile."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "UPDATE server_stories SET script = COALESCE(?, script), story_toml = COALESCE(?, story_toml), "
                "title = COALESCE(?, title), updated_at = ?, revision = revision + 1 "
                "WHERE guild_id = ? AND slug = ? AND (? IS NULL OR revision = ?)",
                (script, story_toml, title, time.time(), guild_id, slug, expect_revision, expect_revision)) as cur:
                return cur.rowcount > 0

    async def delete(self, guild_id: int, slug: str) -> bool:
        async with self.db.transaction() as conn:
            async with conn.execute("DELETE FROM server_stories WHERE guild_id = ? AND slug = ?",
                                    (guild_id, slug)) as cur:
                return cur.rowcount > 0

    async def live_places(self, story_key: str) -> list[tuple[int | None, int, int | None]]:
        """(guild, channel, parent) of every session still going with this story."""
        rows = await self.db.fetchall(
            "SELECT guild_id, channel_id, parent_id FROM sessions WHERE story_slug = ? "
            "AND state IN ('playing', 'waiting', 'paused')", (story_key,))
        return [(None if r["guild_id"] is None else int(r["guild_id"]), int(r["channel_id"]),
                 None if r["parent_id"] is None else int(r["parent_id"])) for r in rows]
