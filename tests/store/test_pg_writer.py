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


async def test_a_hurried_batch_commits_at_once_even_while_the_writer_waits_out_its_window(
        pg_url: str, monkeypatch: Any) -> None:
    """A post's intent (`batch(hurry=True)`) never waits for the commit window, as on SQLite:
    whether the writer is due at the end of the window or already waiting it out, it commits at
    once and takes along the batches that were waiting."""
    db = await pg.PgDatabase.open(pg_url)
    try:
        await db.execute("CREATE TABLE IF NOT EXISTS hurry_t (x BIGINT)")
        await db.execute("DELETE FROM hurry_t")
        db.commit_window = 30.0  # far longer than this test may take
        commits = 0
        real = pg._commit_group

        async def counted(conn: Any, group: Any) -> None:
            nonlocal commits
            commits += 1
            await real(conn, group)

        monkeypatch.setattr(pg, "_commit_group", counted)
        insert = "INSERT INTO hurry_t VALUES (?)"
        await db.batch([(insert, (1,), False)])  # the first commit goes at once
        assert commits == 1
        # (a) the writer is idle, due at the end of the window
        waiting = asyncio.ensure_future(db.batch([(insert, (2,), False)]))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not waiting.done(), "within the window of the last commit: it waits for the next one"
        await asyncio.wait_for(db.batch([(insert, (3,), False)], hurry=True), 5.0)
        await asyncio.wait_for(waiting, 1.0)
        assert commits == 2
        # (b) the writer is running and waits out the window before its next group
        gate = asyncio.Event()

        async def slow(conn: Any, group: Any) -> None:
            nonlocal commits
            commits += 1
            await gate.wait()
            await real(conn, group)

        monkeypatch.setattr(pg, "_commit_group", slow)
        db.commit_window = 0.0
        first = asyncio.ensure_future(db.batch([(insert, (4,), False)]))
        for _ in range(5):
            await asyncio.sleep(0)
        db.commit_window = 30.0
        second = asyncio.ensure_future(db.batch([(insert, (5,), False)]))  # queued behind the commit
        gate.set()
        await asyncio.wait_for(first, 5.0)
        monkeypatch.setattr(pg, "_commit_group", counted)
        for _ in range(5):
            await asyncio.sleep(0)
        assert not second.done(), "the writer waits out the window"
        await asyncio.wait_for(db.batch([(insert, (6,), False)], hurry=True), 5.0)
        await asyncio.wait_for(second, 1.0)
        assert commits == 4
        rows = await db.fetchall("SELECT x FROM hurry_t ORDER BY x")
        assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    finally:
        await db.close()


async def test_a_full_group_commits_without_waiting_out_the_window(pg_url: str) -> None:
    """128 writes waiting (`_GROUP_FULL`) are committed at once: at thousands of sessions a whole
    window of results made commits so long that the intents queued behind them left late."""
    db = await pg.PgDatabase.open(pg_url)
    try:
        await db.execute("CREATE TABLE IF NOT EXISTS full_t (x BIGINT)")
        await db.execute("DELETE FROM full_t")
        db.commit_window = 30.0  # far longer than this test may take
        insert = "INSERT INTO full_t VALUES (?)"
        await db.batch([(insert, (0,), False)])  # the first commit goes at once; the window starts
        few = [asyncio.ensure_future(db.batch([(insert, (i,), False)])) for i in range(1, pg._GROUP_FULL)]
        for _ in range(5):
            await asyncio.sleep(0)
        assert not any(f.done() for f in few), "fewer than a full group wait for the window"
        last = db.batch([(insert, (pg._GROUP_FULL,), False)])
        await asyncio.wait_for(asyncio.gather(last, *few), 5.0)
        rows = await db.fetchall("SELECT count(*) FROM full_t")
        assert rows[0][0] == pg._GROUP_FULL + 1
    finally:
        await db.close()
