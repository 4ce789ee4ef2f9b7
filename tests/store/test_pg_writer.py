"""PostgreSQL's group-commit writer: the rows its hot path sends as one parameter per statement.
(The repositories' behaviour on both backends is in test_repositories.py.)"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.store import pg
from bot.store.sessions import AuditEntry, SessionRow, SessionStore

BIG = 9_223_372_036_854_775_807  # the largest id a bigint holds (Discord ids need 64 bits)


def _row(channel: int, **kw: Any) -> SessionRow:
    base: dict[str, Any] = dict(
        id=0, guild_id=BIG - 1, channel_id=channel, parent_id=BIG - 2, story_slug="tale", story_hash="h",
        position=0, state="playing", mode="auto", wpm=200, votes_needed=2, scene_breather=30.0, tidy="delete",
        include_notes=0, pause_reason=None, next_due_at=1_733_437_200.123_456_7, started_by=BIG - 3,
        created_at=1_733_437_199.000_000_1, updated_at=1_733_437_199.5, title_posted=0)
    base.update(kw)
    return SessionRow(**base)


async def test_rows_sent_as_one_parameter_come_back_exactly(pg_url: str) -> None:
    """The hot path's rows travel as one JSON parameter per statement: 64-bit ids, doubles to
    the last bit, missing values, and text with quotes, backslashes and non-ASCII letters all
    come back as they were sent, for sessions started, posts begun and posts finished together."""
    db = await pg.PgDatabase.open(pg_url)
    try:
        await db.migrate()
        store = SessionStore(db)
        detail = 'a "quoted" \\ back\\slash, \'single\', été, 物語, \U0001f3ad'
        rows = [_row(BIG - 10 - i, pause_reason=None if i % 2 else detail) for i in range(6)]
        sids = await asyncio.gather(*(store.create(r, AuditEntry(None, BIG - 1, r.channel_id, BIG - 3, "start", None, 0,
                                                                  detail, 1_733_437_199.000_000_1)) for r in rows))
        assert len(set(sids)) == 6
        for sid, r in zip(sids, rows, strict=True):
            r.id = sid
            assert await store.get(sid) == r
            assert (await store.audit_log(r.channel_id))[-1].detail == detail
        when = [1_733_437_201.0 + i / 3 for i in range(6)]  # thirds: no short decimal
        await asyncio.gather(*(store.begin_post(sid, 1, "beat", 0, None if i % 2 else 0, when[i])
                               for i, sid in enumerate(sids)))
        news = []
        for i, old in enumerate(rows):
            new = old.copy()
            new.position, new.next_due_at, new.updated_at, new.title_posted = 1, when[i] + 2.5 / 7, when[i], 1
            news.append(new)
        parts = [(), (BIG,), (BIG - 5, 1, BIG - 6)]
        await asyncio.gather(*(store.finish_post(sid, 1, BIG - 100 - i, when[i], news[i], parts=parts[i % 3],
                                                 old=rows[i]) for i, sid in enumerate(sids)))
        for i, sid in enumerate(sids):
            assert await store.get(sid) == news[i]
            (post,) = await store.posts(sid)
            assert (post.status, post.message_id, post.created_at, post.posted_at, post.parts, post.last_beat) == (
                "posted", BIG - 100 - i, when[i], when[i], parts[i % 3], None if i % 2 else 0)
    finally:
        await db.close()
