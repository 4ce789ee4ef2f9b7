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


async def test_a_hurried_batch_commits_while_a_slow_results_commit_is_in_flight(
        pg_url: str, monkeypatch: Any) -> None:
    """A post's intent (hurried) arriving while the writer commits a window of results does not
    wait for that commit (at 10,000 sessions such waits made posts leave up to 80 ms late): it
    commits on the hurried lane's connection while the results are still in flight. Writes that
    are not hurried still wait for the writer, and the results commit whole once it finishes."""
    db = await pg.PgDatabase.open(pg_url)
    try:
        await db.execute("CREATE TABLE IF NOT EXISTS lane_t (x BIGINT)")
        await db.execute("DELETE FROM lane_t")
        gate, entered = asyncio.Event(), asyncio.Event()
        held: list[int] = []
        real = pg._commit_group

        async def slow_results(conn: Any, group: Any) -> None:
            if any(ops[0][1] == (-1,) for ops, _ in group):  # the results' commit: in flight until the gate opens
                held.append(len(group))
                entered.set()
                await gate.wait()
            await real(conn, group)

        monkeypatch.setattr(pg, "_commit_group", slow_results)
        insert = "INSERT INTO lane_t VALUES (?)"
        results = asyncio.ensure_future(db.batch([(insert, (-1,), False)]))
        await asyncio.wait_for(entered.wait(), 5.0)  # the results' commit is in flight
        behind = asyncio.ensure_future(db.batch([(insert, (2,), False)]))  # not hurried: waits for the writer
        intents = [db.batch([(insert, (10 + i,), False)], hurry=True) for i in range(3)]
        await asyncio.wait_for(asyncio.gather(*intents), 5.0)
        rows = await db.fetchall("SELECT x FROM lane_t ORDER BY x")
        assert [r[0] for r in rows] == [10, 11, 12], "the intents are committed, the results not yet"
        assert not results.done() and not behind.done()
        gate.set()
        await asyncio.wait_for(asyncio.gather(results, behind), 5.0)
        rows = await db.fetchall("SELECT x FROM lane_t ORDER BY x")
        assert [r[0] for r in rows] == [-1, 2, 10, 11, 12]
        assert held == [1]
    finally:
        await db.close()


async def test_a_post_intent_commits_at_once_whatever_the_window(pg_url: str) -> None:
    """`begin_post` on PostgreSQL is hurried, as on SQLite (its rate slot is taken: the send
    waits for it): with a 30 s window it commits within a few turns of the event loop, and takes
    along the write that was waiting for the window."""
    db = await pg.PgDatabase.open(pg_url)
    try:
        await db.migrate()
        store = SessionStore(db)
        sid = await store.create(_row(BIG - 50))
        other = await store.create(_row(BIG - 51))
        db.commit_window = 30.0  # far longer than this test may take
        await store.begin_post(other, 1, "beat", 0, 0, 1.0)  # (hurried too; the window starts again)
        waiting = asyncio.ensure_future(store.set_post_status(other, [1], "failed"))  # not hurried
        for _ in range(5):
            await asyncio.sleep(0)
        assert not waiting.done(), "within the window of the last commit: it waits for the next one"
        await asyncio.wait_for(store.begin_post(sid, 1, "beat", 0, 0, 2.0), 5.0)
        await asyncio.wait_for(waiting, 1.0)
        assert [p.seq for p in await store.unresolved_posts(sid)] == [1]
        assert [p.status for p in await store.posts(other)] == ["failed"]
    finally:
        await db.close()


async def test_the_hurried_lane_retries_one_by_one_and_survives_its_connection_dying(
        pg_url: str, monkeypatch: Any) -> None:
    """A hurried group committed beside a results commit in flight keeps the writer's failure
    handling: a batch that breaks it fails for its caller only (the others are committed), and
    when the lane's connection dies a write fails at most once, then goes through on a new one."""
    from bot.store.sessions import DatabaseFault

    db = await pg.PgDatabase.open(pg_url)
    try:
        await db.execute("CREATE TABLE IF NOT EXISTS lane_u (x BIGINT PRIMARY KEY)")
        await db.execute("DELETE FROM lane_u")
        gate, entered = asyncio.Event(), asyncio.Event()
        held: list[int] = []
        real = pg._commit_group

        async def slow_results(conn: Any, group: Any) -> None:
            if any(ops[0][1] == (-1,) for ops, _ in group):
                held.append(len(group))
                entered.set()
                await gate.wait()
            await real(conn, group)

        monkeypatch.setattr(pg, "_commit_group", slow_results)
        insert = "INSERT INTO lane_u VALUES (?)"
        await db.batch([(insert, (7,), False)])
        results = asyncio.ensure_future(db.batch([(insert, (-1,), False)]))
        await asyncio.wait_for(entered.wait(), 5.0)  # the results' commit is in flight
        got = await asyncio.wait_for(asyncio.gather(
            *(db.batch([(insert, (x,), False)], hurry=True) for x in (1, 7, 3)), return_exceptions=True), 5.0)
        assert got[0] == [[]] and got[2] == [[]]
        assert isinstance(got[1], pg.IntegrityError), got[1]
        rows = await db.fetchall("SELECT x FROM lane_u ORDER BY x")
        assert [r[0] for r in rows] == [1, 3, 7]
        spare = db._spare.conn
        assert spare is not None and spare is not db._main.conn
        pid = spare.get_server_pid()
        assert await db.fetchone("SELECT pg_terminate_backend(?)", (pid,))
        store = SessionStore(db)
        try:  # refused if the lane had not yet seen its connection end (nothing written then)
            await asyncio.wait_for(store._batch((insert, (4,), False), hurry=True), 5.0)
        except DatabaseFault:
            await asyncio.wait_for(store._batch((insert, (4,), False), hurry=True), 5.0)
        assert db._spare.conn is not None and db._spare.conn.get_server_pid() != pid
        assert not results.done()
        gate.set()
        await asyncio.wait_for(results, 5.0)
        rows = await db.fetchall("SELECT x FROM lane_u ORDER BY x")
        assert [r[0] for r in rows] == [-1, 1, 3, 4, 7]
    finally:
        await db.close()


async def test_one_sessions_intent_never_commits_before_its_previous_result(
        pg_url: str, tmp_path: Any, monkeypatch: Any) -> None:
    """Sessions playing on PostgreSQL while the writer's commits are slow (each waits a few turns
    of the event loop), so that intents go to the hurried lane beside results in flight: in the
    order the writes were committed, each session's are intent 1, result 1, intent 2, result 2,
    ... (a result is awaited under the session's lock before the next intent is asked for)."""
    from bot.engine.stage import Place
    from bot.store.sessions import _PG_BEGIN, _PG_FINISH, _PG_POSTED
    from tests.engine import helpers
    from tests.engine.helpers import MOD, beats_posted, make_rig, simple_story

    monkeypatch.setattr(helpers, "DB_URL", pg_url)
    story = simple_story(scenes=2, beats=4)
    rig = await make_rig(tmp_path, [story])
    db = rig.db
    assert isinstance(db, pg.PgDatabase)
    committed: dict[int, list[tuple[str, int]]] = {}
    lanes: list[bool] = []
    real = pg._commit_group

    async def logged(conn: Any, group: Any) -> None:
        hurried_lane = conn is db._spare.conn
        if not hurried_lane:
            for _ in range(20):
                await asyncio.sleep(0)
        await real(conn, group)
        for ops, fut in group:  # (before any caller resumes: they wait for their future)
            if fut.exception() is not None or len(ops) != 1:
                continue
            sql, p, _ = ops[0]
            if sql == _PG_BEGIN:
                committed.setdefault(p[0], []).append(("intent", p[1]))
                lanes.append(hurried_lane)
            elif sql == _PG_POSTED:
                committed.setdefault(p[0], []).append(("result", p[1]))
            elif sql == _PG_FINISH:
                committed.setdefault(p[2], []).append(("result", p[3]))

    monkeypatch.setattr(pg, "_commit_group", logged)
    places = [Place(channel_id=700 + i, guild_id=1) for i in range(8)]
    for place in places:
        await rig.narrator.start(place, "tale", MOD)
    for _ in range(400):
        await rig.advance(1.0)
        states = [await rig.narrator.status(p) for p in places]
        if all(st is not None and st.state == "finished" for st in states):
            break
    for place in places:
        assert beats_posted(rig.stage, place.channel_id) == list(range(len(story)))
    assert len(committed) == len(places)
    for writes in committed.values():
        n = len(writes) // 2
        assert writes == [(kind, seq) for seq in range(1, n + 1) for kind in ("intent", "result")], writes
    assert any(lanes), "no intent went to the hurried lane: the test did not test it"
    await rig.narrator.close()
    await db.close()


_MA = pg.over_rows("INSERT INTO merge_t (x, tag) SELECT x, 'a' FROM " + pg.json_rows((("x", "bigint"),)) + " AS t")
_MB = pg.over_rows("INSERT INTO merge_t (x, tag) SELECT x, 'b' FROM " + pg.json_rows((("x", "bigint"),)) + " AS t")
# (tagged otherwise, so that the rows say which statement wrote them)
pg.merge_rows(_MA, _MB, "WITH a AS (INSERT INTO merge_t (x, tag) SELECT x, 'a+' FROM "
              + pg.json_rows((("x", "bigint"),)) + " AS t) INSERT INTO merge_t (x, tag) SELECT x, 'b+' FROM "
              + pg.json_rows((("x", "bigint"),)) + " AS t")


async def test_two_statements_over_rows_that_merge_go_as_one_whether_in_one_batch_or_many(pg_url: str) -> None:
    """Statements over rows registered as merging (`merge_rows`) go as their one merged statement,
    first's rows then second's whichever comes first: for a group of one-statement batches of
    both kinds (the hot path: intents and results) and for a batch holding both statements."""
    db = await pg.PgDatabase.open(pg_url)
    try:
        await db.execute("CREATE TABLE IF NOT EXISTS merge_t (x BIGINT, tag TEXT)")
        await db.execute("DELETE FROM merge_t")
        await db.batch([(_MB, (2,), False), (_MA, (1,), False)])  # one batch, the second's statement first
        await asyncio.gather(db.batch([(_MB, (4,), False)]), db.batch([(_MA, (3,), False)]),
                             db.batch([(_MB, (5,), False)]))
        await db.batch([(_MB, (6,), False)])  # alone: no merge
        rows = await db.fetchall("SELECT x, tag FROM merge_t ORDER BY x")
        assert [tuple(r) for r in rows] == [(1, "a+"), (2, "b+"), (3, "a+"), (4, "b+"), (5, "b+"), (6, "b")]
    finally:
        await db.close()
