"""Stories as rows: keeps the stories/characters/scenes/beats tables in step with a loaded Story."""

from __future__ import annotations

import json
import time

import aiosqlite

from bot.store.db import Database
from bot.store.pg import PgConnection, PgDatabase
from bot.story.model import Story


async def stored_hash(db: Database | PgDatabase, slug: str) -> str | None:
    """The `Story.content_hash()` of the stored rows, or None when the story is not stored."""
    row = await db.fetchone("SELECT content_hash FROM stories WHERE slug = ?", (slug,))
    return None if row is None else str(row[0])


async def write_story(conn: aiosqlite.Connection | PgConnection, story: Story, *, now: float | None = None) -> bool:
    """Inside the caller's transaction: replace the story's rows unless the stored content hash and
    cast already match. Returns True when rows were written."""
    digest = story.content_hash()
    cast = [(c.key, c.name, json.dumps(list(c.aliases))) for c in story.characters]
    async with conn.execute("SELECT content_hash, title FROM stories WHERE slug = ?", (story.slug,)) as cur:
        row = await cur.fetchone()
    if row is not None and str(row[0]) == digest and str(row[1]) == story.title:
        async with conn.execute(
            "SELECT char_key, name, aliases FROM characters WHERE story_slug = ? ORDER BY rowid", (story.slug,)
        ) as cur:
            stored = [(str(r[0]), str(r[1]), str(r[2])) for r in await cur.fetchall()]
        if stored == cast:
            return False
    stamp = time.time() if now is None else now
    # The row itself is upserted (not deleted) so nothing keyed on the slug loses it.
    await conn.execute(
        "INSERT INTO stories (slug, title, content_hash, beat_count, loaded_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (slug) DO UPDATE SET title = excluded.title, content_hash = excluded.content_hash, "
        "beat_count = excluded.beat_count, loaded_at = excluded.loaded_at",
        (story.slug, story.title, digest, len(story), stamp),
    )
    await conn.execute("DELETE FROM characters WHERE story_slug = ?", (story.slug,))
    await conn.execute("DELETE FROM scenes WHERE story_slug = ?", (story.slug,))
    await conn.execute("DELETE FROM beats WHERE story_slug = ?", (story.slug,))
    await conn.executemany(
        "INSERT INTO characters (story_slug, char_key, name, aliases) VALUES (?, ?, ?, ?)",
        [(story.slug, *c) for c in cast],
    )
    await conn.executemany(
        "INSERT INTO scenes (story_slug, scene_index, title, first_beat, last_beat) VALUES (?, ?, ?, ?, ?)",
        [(story.slug, s.index, s.title, s.first_beat, s.last_beat) for s in story.scenes],
    )
    await conn.executemany(
        "INSERT INTO beats (story_slug, beat_index, scene_index, kind, speaker, speakers, body) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (story.slug, b.index, b.scene, b.kind, b.speaker, json.dumps(list(b.speakers)), b.text)
            for b in story.beats
        ],
    )
    return True


async def sync_story(db: Database | PgDatabase, story: Story) -> bool:
    """Make the tables hold `story`; a no-op (returns False) when they already do."""
    async with db.transaction() as conn:
        return await write_story(conn, story)
