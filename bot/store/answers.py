"""The /ask full-text index: FTS5 (porter stemmer, BM25) over beats, one story at a time.

On PostgreSQL: a weighted tsvector (english stemmer) with a GIN index finds the beats, and the
same BM25 as SQLite's (per-column weights, k1 1.2, b 0.75, IDF over all indexed beats) is computed
here from each matching beat's lexeme counts, so rankings (and the /ask figures) agree.

Spoiler safety starts here: every search takes `upto` and filters `beat_index <= upto` in SQL.
The MATCH expression is built by bot.answers.retrieval from quoted word tokens only.
"""

from __future__ import annotations

import math
import re
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
# The same per column on PostgreSQL, by tsvector weight label: body A, mentions B, nearby C.
_PG_WEIGHTS = {"A": 1.0, "B": 0.5, "C": 0.3}
_K1, _B = 1.2, 0.75
_TOKEN = re.compile(r"\w+")
_QUOTED = re.compile(r'"([^"]*)"')


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
        if db.dialect == "postgres":
            await conn.executemany(
                "INSERT INTO answer_fts (story_slug, beat_index, scene_index, kind, speaker, body, mentions, "
                "nearby, len_body, len_mentions, len_nearby) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (story.slug, r.beat_index, r.scene_index, r.kind, _speaker_field(r.speakers), r.body,
                     r.mentions, r.nearby, _length(r.body), _length(r.mentions), _length(r.nearby))
                    for r in rows
                ],
            )
        else:
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
    if db.dialect == "postgres":
        return await _search_pg(db, slug, match, upto, speaker=speaker, favour=favour, limit=limit)
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


async def _search_pg(
    db: Database | PgDatabase, slug: str, match: str, upto: int, *, speaker: str | None,
    favour: str | None, limit: int,
) -> list[SearchHit]:
    words = " ".join(_QUOTED.findall(match))
    # Each query word's lexeme (stemmed as the index is) and how many beats, all stories, have it.
    # (Two words with one stem count twice, as two FTS5 phrases do.)
    terms = await db.fetchall(
        "SELECT l, (SELECT count(*) FROM answer_fts WHERE doc @@ quote_literal(l)::tsquery), n FROM "
        "(SELECT lexeme AS l, cardinality(positions) AS n FROM unnest(to_tsvector('narrator_english', ?))) q",
        (words,))
    if not terms:
        return []
    lexemes = [str(t[0]) for t in terms]
    tot = await db.fetchone("SELECT count(*), coalesce(avg(len_body + len_mentions + len_nearby), 0) FROM answer_fts")
    assert tot is not None
    total = int(tot[0])
    avgdl = float(tot[1]) or 1.0
    idf = {}
    for lex, n, times in ((str(t[0]), int(t[1]), int(t[2])) for t in terms):
        value = math.log((total - n + 0.5) / (n + 0.5))
        idf[lex] = (value if value > 0 else 1e-6) * times
    sql = (
        "SELECT f.beat_index, f.scene_index, f.kind, f.speaker, f.len_body, f.len_mentions, f.len_nearby, "
        "u.lexeme, u.weights FROM answer_fts f, unnest(f.doc) u WHERE f.story_slug = ? AND f.beat_index <= ? "
        "AND f.kind != 'note' AND f.doc @@ ?::tsquery AND u.lexeme = ANY(?::text[])"
    )
    params: list[object] = [slug, upto, " | ".join(_tsquery_literal(x) for x in lexemes), lexemes]
    if speaker is not None:
        sql += " AND strpos(f.speaker, ?) > 0"
        params.append(_speaker_field((speaker,)))
    scores: dict[int, float] = {}
    info: dict[int, tuple[int, str, str]] = {}
    # FTS5's bm25(): a term's frequency is its column-weighted count, D the row's length in
    # tokens (all columns), avgdl the table's mean of it; each term adds idf * tf(k1+1)/(tf + k1(1-b+bD/avgdl)).
    freq: dict[int, dict[str, float]] = {}
    length: dict[int, int] = {}
    for r in await db.fetchall(sql, params):
        beat = int(r[0])
        info[beat] = (int(r[1]), str(r[2]), str(r[3]))
        length[beat] = int(r[4]) + int(r[5]) + int(r[6])
        labels = list(r[8])
        f = sum(w * labels.count(label) for label, w in _PG_WEIGHTS.items())
        freq.setdefault(beat, {})[str(r[7])] = f
    for beat, terms_here in freq.items():
        norm = _K1 * (1 - _B + _B * length[beat] / avgdl)
        scores[beat] = sum(idf[lex] * f * (_K1 + 1) / (f + norm) for lex, f in terms_here.items() if f > 0)
    key = _speaker_field((favour,)) if favour is not None else None

    def rank(beat: int) -> float:
        boost = 3.0 if key is not None and key in info[beat][2] else 1.0
        return -scores[beat] * boost

    best = sorted(scores, key=lambda b: (rank(b), b))[:limit]
    return [SearchHit(b, info[b][0], info[b][1], tuple(info[b][2].split()), scores[b]) for b in best]


def _tsquery_literal(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _length(text: str) -> int:
    return len(_TOKEN.findall(text))


async def document_counts(db: Database | PgDatabase, words: Sequence[str]) -> dict[str, int]:
    """How many indexed beats (all stories) contain each word; cheap, no row content is read."""
    out: dict[str, int] = {}
    if db.dialect == "postgres":
        for w in words:
            row = await db.fetchone("SELECT count(*) FROM answer_fts WHERE doc @@ plainto_tsquery('narrator_english', ?)",
                                    (w,))
            out[w] = int(row[0]) if row else 0
        return out
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
