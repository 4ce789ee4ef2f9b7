"""The /ask full-text index: FTS5 (porter stemmer, BM25) over beats, one story at a time.

Spoiler safety starts here: every search takes `upto` and filters `beat_index <= upto` in SQL.
The MATCH expression is built by bot.answers.retrieval from quoted word tokens only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from bot.store.db import Database
from bot.store.pg import PgDatabase
from bot.store.stories import write_story
from bot.story.model import Story

# bm25() takes one weight per column, UNINDEXED ones included:
# story_slug, beat_index, scene_index, kind, speaker, body, mentions, nearby.
_WEIGHTS = "0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.5, 0.3"


@dataclass(frozen=True, slots=True)
class IndexRow:
    beat_index: int
    scene_index: int
    kind: str
    speakers: tuple[str, ...]  # keys of everyone who speaks or thinks the beat
    body: str
    mentions: str  # words naming the characters the beat mentions (names, aliases, key tokens)
    nearby: str  # who is around (names from the beats just before it) and the previous beat's text


@dataclass(frozen=True, slots=True)
class SearchHit:
    beat_index: int
    scene_index: int
    kind: str
    speakers: tuple[str, ...]
    score: float  # BM25, higher is better (SQLite's bm25() negated)


async def indexed_hash(db: Database | PgDatabase, slug: str) -> str | None:
    row = await db.fetchone("SELECT index_hash FROM answer_index WHERE story_slug = ?", (slug,))
    return None if row is None else str(row[0])


async def rebuild_index(db: Database | PgDatabase, story: Story, rows: Sequence[IndexRow], index_hash: str) -> None:
    """In one transaction: sync the story tables, replace the story's FTS rows, record the hash."""
    async with db.transaction() as conn:
        await write_story(conn, story)
        await conn.execute("DELETE FROM answer_fts WHERE story_slug = ?", (story.slug,))
        await conn.executemany(
            "INSERT INTO answer_fts (story_slug, beat_index, scene_index, kind, speaker, body, mentions, "
            "nearby) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (story.slug, r.beat_index, r.scene_index, r.kind, _speaker_field(r.speakers), r.body,
                 r.mentions, r.nearby)
                for r in rows
            ],
        )
        await conn.execute(
            "INSERT INTO answer_index (story_slug, index_hash, beat_count, indexed_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (story_slug) DO UPDATE SET index_hash = excluded.index_hash, "
            "beat_count = excluded.beat_count, indexed_at = excluded.indexed_at",
            (story.slug, index_hash, len(rows), time.time()),
        )


async def search(
    db: Database | PgDatabase, slug: str, match: str, upto: int, *, speaker: str | None = None,
    favour: str | None = None, limit: int = 40,
) -> list[SearchHit]:
    """Best BM25 hits among beats 0..upto (never later ones), author's notes excluded. With
    `speaker`, only beats that character speaks or thinks; with `favour`, that character's beats
    rank as if three times as relevant (so they make the cut; `score` stays plain BM25)."""
    boost = "CASE WHEN instr(speaker, ?) > 0 THEN 3.0 ELSE 1.0 END" if favour is not None else "1.0"
    sql = (
        f"SELECT beat_index, scene_index, kind, speaker, bm25(answer_fts, {_WEIGHTS}) AS rank "
        "FROM answer_fts WHERE answer_fts MATCH ? AND story_slug = ? AND beat_index <= ? "
        "AND kind != 'note'"
    )
    params: list[object] = [match, slug, upto]
    if speaker is not None:
        sql += " AND instr(speaker, ?) > 0"
        params.append(_speaker_field((speaker,)))
    sql += f" ORDER BY rank * {boost} LIMIT ?"
    if favour is not None:
        params.append(_speaker_field((favour,)))
    params.append(limit)
    rows = await db.fetchall(sql, params)
    return [
        SearchHit(int(r[0]), int(r[1]), str(r[2]), tuple(str(r[3]).split()), -float(r[4]))
        for r in rows
    ]


async def document_counts(db: Database | PgDatabase, words: Sequence[str]) -> dict[str, int]:
    """How many indexed beats (all stories) contain each word; cheap, no row content is read."""
    out: dict[str, int] = {}
    for w in words:
        row = await db.fetchone("SELECT count(*) FROM answer_fts WHERE answer_fts MATCH ?", (f'"{w}"',))
        out[w] = int(row[0]) if row else 0
    return out


async def indexed_beats(db: Database | PgDatabase) -> int:
    row = await db.fetchone("SELECT coalesce(sum(beat_count), 0) FROM answer_index")
    return int(row[0]) if row else 0


def _speaker_field(keys: Sequence[str]) -> str:
    # Space-delimited on both sides so instr() matches whole keys only.
    return " " + " ".join(keys) + " " if keys else ""
