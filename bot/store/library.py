"""Servers' own stories (imported from Discord): one row per (server, slug) holding the original
file, story.toml (metadata and cast), the reviewed script, the import record and light metadata
(`meta`, JSON: what list and autocomplete show, so nobody has to load the story for them).
`revision` grows with every change so each bot process can tell which stories it must reload."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.store.db import Database
from bot.store.pg import PgDatabase


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
    meta: str = ""  # JSON written by bot.server_library; "" until computed
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class StoryRow:
    """A story's light row: everything but the files (what list and autocomplete read)."""

    guild_id: int
    slug: str
    title: str
    revision: int
    meta: str
    created_at: float


_COLUMNS = ("guild_id, slug, title, source_name, source, story_toml, script, import_record, imported_by, "
            "revision, meta, created_at")


def _row(row: object) -> StoredStory:
    r = row  # sqlite3.Row
    return StoredStory(int(r["guild_id"]), str(r["slug"]), str(r["title"]),  # type: ignore[index]
                       str(r["source_name"]), bytes(r["source"]), str(r["story_toml"]),  # type: ignore[index]
                       str(r["script"]), str(r["import_record"]), int(r["imported_by"]),  # type: ignore[index]
                       int(r["revision"]), str(r["meta"]), float(r["created_at"]))  # type: ignore[index]


class LibraryStore:
    def __init__(self, db: Database | PgDatabase) -> None:
        self.db = db

    async def revisions(self, guild_id: int | None = None) -> dict[tuple[int, str], int]:
        """(guild, slug) -> revision, for one server or all of them."""
        if guild_id is None:
            rows = await self.db.fetchall("SELECT guild_id, slug, revision FROM server_stories")
        else:
            rows = await self.db.fetchall(
                "SELECT guild_id, slug, revision FROM server_stories WHERE guild_id = ?", (guild_id,))
        return {(int(r["guild_id"]), str(r["slug"])): int(r["revision"]) for r in rows}

    async def rows(self, guild_id: int | None = None) -> list[StoryRow]:
        """The light rows (no files) of one server's stories, or of every server's."""
        sql = "SELECT guild_id, slug, title, revision, meta, created_at FROM server_stories"
        params: tuple[int, ...] = ()
        if guild_id is not None:
            sql += " WHERE guild_id = ?"
            params = (guild_id,)
        return [StoryRow(int(r["guild_id"]), str(r["slug"]), str(r["title"]), int(r["revision"]), str(r["meta"]),
                         float(r["created_at"]))
                for r in await self.db.fetchall(sql + " ORDER BY guild_id, slug", params)]

    async def row(self, guild_id: int, slug: str) -> StoryRow | None:
        r = await self.db.fetchone("SELECT guild_id, slug, title, revision, meta, created_at FROM server_stories "
                                   "WHERE guild_id = ? AND slug = ?", (guild_id, slug))
        return None if r is None else StoryRow(int(r["guild_id"]), str(r["slug"]), str(r["title"]),
                                               int(r["revision"]), str(r["meta"]), float(r["created_at"]))

    async def set_meta(self, guild_id: int, slug: str, revision: int, meta: str) -> None:
        """Fill in the metadata of a row stored without it (only if it is still that revision)."""
        await self.db.execute("UPDATE server_stories SET meta = ? WHERE guild_id = ? AND slug = ? AND revision = ?",
                              (meta, guild_id, slug, revision))

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
                    "import_record, imported_by, created_at, updated_at, revision, meta) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                    (story.guild_id, story.slug, story.title, story.source_name, story.source, story.story_toml,
                     story.script, story.import_record, story.imported_by, now, now, story.meta))
            else:
                await conn.execute(
                    "UPDATE server_stories SET title = ?, source_name = ?, source = ?, story_toml = ?, script = ?, "
                    "import_record = ?, imported_by = ?, updated_at = ?, revision = revision + 1, meta = ? "
                    "WHERE guild_id = ? AND slug = ?",
                    (story.title, story.source_name, story.source, story.story_toml, story.script,
                     story.import_record, story.imported_by, now, story.meta, story.guild_id, story.slug))
        return "saved"

    async def update_files(self, guild_id: int, slug: str, *, script: str | None = None,
                           story_toml: str | None = None, title: str | None = None, meta: str | None = None,
                           expect_revision: int | None = None) -> bool:
        """Replace the script and/or story.toml; False when the story is gone or (with
        `expect_revision`) was changed by someone else meanwhile. Without `meta` the row's
        metadata is cleared (the next process to load the story computes it again)."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "UPDATE server_stories SET script = COALESCE(?, script), story_toml = COALESCE(?, story_toml), "
                "title = COALESCE(?, title), meta = ?, updated_at = ?, revision = revision + 1 "
                "WHERE guild_id = ? AND slug = ? AND (CAST(? AS INTEGER) IS NULL OR revision = ?)",
                (script, story_toml, title, meta or "", time.time(), guild_id, slug, expect_revision,
                 expect_revision)) as cur:
                return cur.rowcount > 0

    async def delete(self, guild_id: int, slug: str, story_key: str) -> str:
        """Delete a story and everything kept for it, in one transaction: its row, its /ask index
        (answer_fts, answer_index) and its copy in the story tables (stories, characters, scenes,
        beats). "deleted"; "gone" (nothing to delete); or "playing" (a session still plays it:
        nothing is deleted; stop those first). Ended sessions stay, as the audit log's history."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT COUNT(*) FROM sessions WHERE story_slug = ? AND state IN ('playing', 'waiting', 'paused')",
                (story_key,)) as cur:
                live = await cur.fetchone()
            if live is not None and int(live[0]) > 0:
                return "playing"
            async with conn.execute("DELETE FROM server_stories WHERE guild_id = ? AND slug = ?",
                                    (guild_id, slug)) as cur:
                if cur.rowcount == 0:
                    return "gone"
            for sql in ("DELETE FROM answer_fts WHERE story_slug = ?",
                        "DELETE FROM answer_index WHERE story_slug = ?",
                        "DELETE FROM characters WHERE story_slug = ?",
                        "DELETE FROM scenes WHERE story_slug = ?",
                        "DELETE FROM beats WHERE story_slug = ?",
                        "DELETE FROM stories WHERE slug = ?"):
                await conn.execute(sql, (story_key,))
        return "deleted"

    async def story_of_channel(self, channel_id: int) -> str | None:
        """The story key of the session going on in a channel or thread, else of its newest one
        (what its commands act on). The first query is served by the one-live-per-channel index."""
        row = await self.db.fetchone(
            "SELECT story_slug FROM sessions WHERE channel_id = ? AND state IN ('playing', 'waiting', 'paused')",
            (channel_id,))
        if row is None:
            row = await self.db.fetchone(
                "SELECT story_slug FROM sessions WHERE channel_id = ? ORDER BY id DESC LIMIT 1", (channel_id,))
        return None if row is None else str(row["story_slug"])

    async def live_stories(self) -> list[tuple[int | None, str]]:
        """(guild, story key) of every session still going (to load before sessions resume)."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT guild_id, story_slug FROM sessions WHERE state IN ('playing', 'waiting', 'paused')")
        return [(None if r["guild_id"] is None else int(r["guild_id"]), str(r["story_slug"])) for r in rows]

    async def live_places(self, story_key: str) -> list[tuple[int | None, int, int | None]]:
        """(guild, channel, parent) of every session still going with this story."""
        rows = await self.db.fetchall(
            "SELECT guild_id, channel_id, parent_id FROM sessions WHERE story_slug = ? "
            "AND state IN ('playing', 'waiting', 'paused')", (story_key,))
        return [(None if r["guild_id"] is None else int(r["guild_id"]), int(r["channel_id"]),
                 None if r["parent_id"] is None else int(r["parent_id"])) for r in rows]
