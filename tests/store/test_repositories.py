"""The repositories behave the same on SQLite and on PostgreSQL (`store_db` runs each test on both)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.store.guilds import GuildStore
from bot.store.migrations import default_migrations_dir, load_migrations
from bot.store.pg import pg_migrations_dir
from bot.store.sessions import AuditEntry, LiveSessionExists, SessionRow, SessionStore
from bot.store.stories import stored_hash, sync_story
from tests.engine.helpers import simple_story

BIG = 1_234_567_890_123_456_789  # a real Discord id needs 64 bits


def _row(channel: int = BIG, state: str = "playing", **kw: Any) -> SessionRow:
    base: dict[str, Any] = dict(
        id=0, guild_id=BIG + 1, channel_id=channel, parent_id=None, story_slug="tale", story_hash="h",
        position=0, state=state, mode="auto", wpm=200, votes_needed=2, scene_breather=30.0, tidy="delete",
        include_notes=0, pause_reason=None, next_due_at=1_700_000_000.125, started_by=BIG + 2,
        created_at=1_700_000_000.5, updated_at=1_700_000_000.5, title_posted=0)
    base.update(kw)
    return SessionRow(**base)


def _audit(action: str = "start") -> AuditEntry:
    return AuditEntry(None, BIG + 1, BIG, BIG + 2, action, None, 0, "", 1_700_000_000.0)


async def test_migrations_are_recorded_and_idempotent(store_db: Any) -> None:
    assert await store_db.migrate() == []
    st = await store_db.migration_status()
    versions = [m.version for m in load_migrations(default_migrations_dir())]
    assert st.pending == [] and st.version == versions[-1]
    assert [v for v, _ in st.applied] == versions


def test_every_sqlite_migration_has_a_postgres_twin() -> None:
    """One schema, two dialects: the same numbers and names on both sides."""
    sqlite = [(m.version, m.name) for m in load_migrations(default_migrations_dir())]
    postgres = [(m.version, m.name) for m in load_migrations(pg_migrations_dir())]
    assert postgres == sqlite


async def test_create_save_and_one_live_session_per_channel(store_db: Any) -> None:
    store = SessionStore(store_db)
    sid = await store.create(_row(), _audit())
    assert sid > 0
    got = await store.get(sid)
    assert got is not None and got.channel_id == BIG and got.started_by == BIG + 2
    assert got.next_due_at == 1_700_000_000.125  # full double precision
    with pytest.raises(LiveSessionExists):
        await store.create(_row())
    got.position, got.state = 3, "paused"
    await store.save(got, [_audit("pause")])
    again = await store.get(sid)
    assert again is not None and (again.position, again.state) == (3, "paused")
    assert [a.action for a in await store.audit_log(BIG)] == ["start", "pause"]
    assert (await store.audit_log(BIG))[0].session_id == sid
    # A finished session frees the channel; the latest live one is preferred.
    again.state = "finished"
    await store.save(again)
    sid2 = await store.create(_row())
    latest = await store.latest_for_channel(BIG)
    assert latest is not None and latest.id == sid2
    assert [r.id for r in await store.resumable()] == [sid2]
    # Reviving the finished one while another is live breaks the one-live rule.
    again.state = "playing"
    with pytest.raises(LiveSessionExists):
        await store.save(again)


async def test_post_intent_then_result_with_position_in_one_transaction(store_db: Any) -> None:
    store = SessionStore(store_db)
    sid = await store.create(_row())
    row = await store.get(sid)
    assert row is not None
    await store.begin_post(sid, 1, "beat", 0, 1, 10.0)
    assert [p.seq for p in await store.unresolved_posts(sid)] == [1]
    summary = (await store.post_summaries([sid]))[sid]
    assert summary.unresolved and summary.max_seq == 1 and summary.last_message_id is None
    # The result and the new position fail together (a state the schema refuses): nothing of
    # either is kept, and the post is still "posting" for the restart to reconcile.
    row.position = 2
    await store.add_vote(sid, 0, 7, 1.0)
    with pytest.raises(Exception):  # noqa: B017 - a CHECK constraint, driver-specific type
        await store.finish_post(sid, 1, BIG + 9, 11.0, _row(id=sid, state="bogus", position=2),
                                clear_votes=True, parts=(BIG + 8,))
    assert [p.status for p in await store.posts(sid)] == ["posting"]
    kept = await store.get(sid)
    assert kept is not None and kept.position == 0
    assert await store.voters(sid, 0) == {7}
    # The real result: posted, parts kept, position moved, votes cleared, all at once.
    await store.finish_post(sid, 1, BIG + 9, 11.0, row, clear_votes=True, parts=(BIG + 8,))
    posts = await store.posts(sid)
    assert [(p.status, p.message_id, p.parts) for p in posts] == [("posted", BIG + 9, (BIG + 8,))]
    moved = await store.get(sid)
    assert moved is not None and moved.position == 2
    assert await store.voters(sid, 0) == set()
    assert await store.unresolved_posts(sid) == []
    assert (await store.post_summaries())[sid].last_message_id == BIG + 9
    assert await store.known_message_ids(sid) == {BIG + 8, BIG + 9}
    assert await store.session_for_message(BIG + 8) == sid
    assert await store.session_for_message(BIG + 9) == sid
    assert await store.session_for_message(5) is None


async def test_rewind_queries_and_statuses(store_db: Any) -> None:
    store = SessionStore(store_db)
    sid = await store.create(_row())
    row = await store.get(sid)
    assert row is not None
    for seq, (kind, first, last) in enumerate([("title", None, None), ("beat", 0, 0), ("beat", 1, 2),
                                               ("closing", None, None)], start=1):
        await store.begin_post(sid, seq, kind, first, last, float(seq))
        await store.finish_post(sid, seq, 1000 + seq, float(seq), row)
    assert [p.seq for p in await store.posted_after(sid, 1)] == [3, 4]
    assert [p.seq for p in await store.stale_posts(sid, 1, include_closing=False)] == [3]
    assert [p.seq for p in await store.stale_posts(sid, 1, include_closing=True)] == [3, 4]
    await store.set_post_status(sid, [3, 4], "deleted")
    assert [p.seq for p in await store.posts(sid, "posted")] == [1, 2]
    await store.save(row, supersede_posts=True)
    assert [p.status for p in await store.posts(sid)] == ["rewound", "rewound", "deleted", "deleted"]


async def test_votes_are_counted_once_per_reader(store_db: Any) -> None:
    store = SessionStore(store_db)
    sid = await store.create(_row())
    for user in (BIG, BIG, 5):
        await store.add_vote(sid, 4, user, 1.0)
    assert await store.voters(sid, 4) == {BIG, 5}
    assert await store.voters(sid, 3) == set()


async def test_guild_settings_webhooks_and_the_one_notice(store_db: Any) -> None:
    g = GuildStore(store_db)
    assert await g.webhook(BIG) is None
    await g.save_webhook(BIG, BIG + 1, "tok-1")
    await g.save_webhook(BIG, BIG + 2, "tok-2")
    hook = await g.webhook(BIG)
    assert hook is not None and (hook.webhook_id, hook.token) == (BIG + 2, "tok-2")
    await g.forget_webhook(BIG, BIG + 1)  # not the stored one: kept
    assert await g.webhook(BIG) is not None
    await g.forget_webhook(BIG, BIG + 2)
    assert await g.webhook(BIG) is None
    assert await g.mod_role(BIG) is None
    await g.set_mod_role(BIG, BIG + 3)
    assert await g.mod_role(BIG) == BIG + 3
    assert await g.ask_enabled(BIG) is True
    await g.set_ask_enabled(BIG, False)
    assert await g.ask_enabled(BIG) is False
    assert await g.tidy(BIG) is None
    await g.set_tidy(BIG, "mark")
    assert await g.tidy(BIG) == "mark" and await g.ask_enabled(BIG) is False
    assert [await g.claim_webhook_notice(BIG) for _ in range(3)] == [True, False, False]
    await g.reset_webhook_notice(BIG)
    assert await g.claim_webhook_notice(BIG) is True
    await g.audit(guild_id=BIG, channel_id=BIG, actor_id=1, action="config", detail="tidy=mark")
    assert [a.action for a in await SessionStore(store_db).audit_log(BIG)] == ["config"]


async def test_story_rows_sync_once_and_keep_the_cast_order(store_db: Any) -> None:
    story = simple_story(scenes=2, beats=3, slug="tale")
    assert await stored_hash(store_db, "tale") is None
    assert await sync_story(store_db, story) is True
    assert await sync_story(store_db, story) is False  # same content, same cast: nothing written
    assert await stored_hash(store_db, "tale") == story.content_hash()
    rows = await store_db.fetchall("SELECT char_key FROM characters WHERE story_slug = ? ORDER BY rowid", ("tale",))
    assert [r[0] for r in rows] == [c.key for c in story.characters]
    n = await store_db.fetchone("SELECT count(*) FROM beats WHERE story_slug = ?", ("tale",))
    assert n is not None and int(n[0]) == len(story)


async def test_each_process_resumes_only_its_shards_sessions(store_db: Any) -> None:
    store = SessionStore(store_db)

    def guild(shard: int, n: int, count: int = 2) -> int:  # an id Discord deals to `shard`
        return ((1_000_000 * count + shard + count * n) << 22) + 4321

    ids = {}
    for shard in (0, 1):
        for n in range(2):
            g = guild(shard, n)
            assert (g >> 22) % 2 == shard
            ids[(shard, n)] = await store.create(_row(channel=g + 1, guild_id=g))
    dm = await store.create(_row(channel=77, guild_id=None))  # no guild: shard 0
    assert {r.id for r in await store.resumable(2, [0])} == {ids[(0, 0)], ids[(0, 1)], dm}
    assert {r.id for r in await store.resumable(2, [1])} == {ids[(1, 0)], ids[(1, 1)]}
    assert len(await store.resumable(2, [0, 1])) == len(await store.resumable()) == 5


async def test_concurrent_writes_commit_together_and_a_failing_one_fails_alone(store_db: Any) -> None:
    """Group commit: many sessions' writes share one commit, yet each caller gets its own
    outcome; one refused write (a duplicate post) loses nothing of the others."""
    import asyncio

    store = SessionStore(store_db)
    sids = [await store.create(_row(channel=BIG + i)) for i in range(20)]
    await store.begin_post(sids[0], 1, "beat", 0, 0, 1.0)
    outcomes = await asyncio.gather(
        *(store.begin_post(sid, 1, "beat", 0, 0, 2.0) for sid in sids), return_exceptions=True)
    assert isinstance(outcomes[0], Exception) and all(o is None for o in outcomes[1:])
    for sid in sids:
        assert [p.seq for p in await store.unresolved_posts(sid)] == [1]
    rows = {}
    for sid in sids:
        row = await store.get(sid)
        assert row is not None
        row.position = 1
        rows[sid] = row
    await asyncio.gather(*(store.finish_post(sid, 1, 9000 + sid, 3.0, rows[sid]) for sid in sids))
    for sid in sids:
        after = await store.get(sid)
        assert (await store.posts(sid))[0].status == "posted" and after is not None and after.position == 1


async def test_postgres_commits_concurrent_sessions_together(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL's group commit: fifty sessions' writes of different shapes (with and without
    parts and cleared votes) share a few transactions, and each lands whole."""
    import asyncio

    from bot.store import pg

    groups: list[int] = []
    real = pg._commit_group

    async def counted(conn: Any, group: Any) -> None:
        groups.append(len(group))
        await real(conn, group)

    monkeypatch.setattr(pg, "_commit_group", counted)
    db = await pg.PgDatabase.open(pg_url)
    try:
        await db.migrate()
        store = SessionStore(db)
        sids = [await store.create(_row(channel=BIG + i)) for i in range(50)]
        for sid in sids:
            await store.add_vote(sid, 0, 7, 1.0)
        groups.clear()
        await asyncio.gather(*(store.begin_post(sid, 1, "beat", 0, 0, 2.0) for sid in sids))
        assert len(groups) <= 3 and sum(groups) == 50
        rows = [_row(id=sid, channel=BIG + i, position=1) for i, sid in enumerate(sids)]
        await asyncio.gather(*(store.finish_post(sid, 1, 9000 + sid, 3.0, rows[i], clear_votes=i % 2 == 0,
                                                 parts=(8000 + sid,) if i % 3 == 0 else ())
                               for i, sid in enumerate(sids)))
        assert len(groups) <= 6
        for i, sid in enumerate(sids):
            post = (await store.posts(sid))[0]
            assert (post.status, post.message_id, post.parts) == (
                "posted", 9000 + sid, (8000 + sid,) if i % 3 == 0 else ())
            got = await store.get(sid)
            assert got is not None and got.position == 1
            assert await store.voters(sid, 0) == (set() if i % 2 == 0 else {7})
    finally:
        await db.close()


async def test_recording_a_post_again_replaces_its_parts(store_db: Any) -> None:
    """A post recorded twice (a retry after an unknown outcome, or reconcile) keeps one set of parts:
    the latest, on both backends (PostgreSQL records a post in one statement)."""
    store = SessionStore(store_db)
    sid = await store.create(_row())
    await store.begin_post(sid, 1, "beat", 0, 0, 1.0)
    await store.add_vote(sid, 0, 7, 1.0)
    row = _row(id=sid, position=1)
    await store.finish_post(sid, 1, 500, 2.0, row, parts=(400, 401))
    assert await store.voters(sid, 0) == {7}  # not cleared unless asked
    await store.finish_post(sid, 1, 502, 3.0, row, clear_votes=True, parts=(410, 411))
    assert [(p.message_id, p.parts) for p in await store.posts(sid)] == [(502, (410, 411))]
    assert await store.voters(sid, 0) == set()
    assert await store.known_message_ids(sid) == {502, 410, 411}


async def test_postgres_writer_cancelled_cancels_every_waiting_caller(pg_url: str) -> None:
    """A shutdown that cancels the group-commit writer never leaves a session waiting forever for
    its write: the writes in flight and the ones queued behind them are all cancelled."""
    import asyncio

    from bot.store import pg

    db = await pg.PgDatabase.open(pg_url)
    try:
        await db.migrate()
        store = SessionStore(db)
        sids = [await store.create(_row(channel=BIG + i)) for i in range(3)]
        first = asyncio.ensure_future(store.begin_post(sids[0], 1, "beat", 0, 0, 1.0))
        await asyncio.sleep(0)  # the writer has taken the first write
        later = [asyncio.ensure_future(store.begin_post(sid, 1, "beat", 0, 0, 1.0)) for sid in sids[1:]]
        await asyncio.sleep(0)
        assert db._writer is not None
        db._writer.cancel()
        done = await asyncio.wait_for(asyncio.gather(first, *later, return_exceptions=True), 5)
        assert all(isinstance(d, asyncio.CancelledError) for d in done)
    finally:
        await db.close()


async def test_a_post_saves_only_what_changed_and_the_row_reads_back_whole(store_db: Any) -> None:
    """finish_post with the previous row writes the changed columns only (fast: `state` is
    indexed twice); what is read back is the whole new row, as a full save would leave it."""
    store = SessionStore(store_db)
    sid = await store.create(_row())
    before = await store.get(sid)
    assert before is not None
    after = before.copy()
    after.position, after.next_due_at, after.updated_at, after.title_posted = 4, 1_700_000_009.25, 1_700_000_001.0, 1
    await store.begin_post(sid, 1, "beat", 3, 3, 1.0)
    await store.finish_post(sid, 1, BIG + 1, 2.0, after, old=before)
    assert await store.get(sid) == after
    # a change of state too (the scene ended), and a row with nothing changed but the time
    later = after.copy()
    later.state, later.pause_reason, later.updated_at = "paused", "Paused by a moderator.", 1_700_000_002.0
    await store.begin_post(sid, 2, "beat", 4, 4, 3.0)
    await store.finish_post(sid, 2, BIG + 2, 4.0, later, old=after)
    assert await store.get(sid) == later
    same = later.copy()
    same.updated_at += 1
    await store.begin_post(sid, 3, "beat", 5, 5, 5.0)
    await store.finish_post(sid, 3, BIG + 3, 6.0, same, old=later)
    assert await store.get(sid) == same
    assert [p.status for p in await store.posts(sid)] == ["posted"] * 3


async def test_sessions_started_together_each_get_their_id_and_audit_row(store_db: Any) -> None:
    """Starts share commits (group commit), yet each audit row names its own new session, and a
    start refused by the one-live rule fails alone."""
    import asyncio

    store = SessionStore(store_db)
    rows = [_row(channel=BIG + i) for i in range(30)] + [_row(channel=BIG + 3)]
    audits = [AuditEntry(None, BIG + 1, r.channel_id, BIG + 2, "start", None, 0, f"n{i}", 1.0)
              for i, r in enumerate(rows)]
    out = await asyncio.gather(*(store.create(r, a) for r, a in zip(rows, audits, strict=True)),
                               return_exceptions=True)
    assert isinstance(out[-1], LiveSessionExists)
    ids = out[:-1]
    assert len(set(ids)) == 30
    for i, sid in enumerate(ids):
        row = await store.get(sid)  # type: ignore[arg-type]
        assert row is not None and row.channel_id == BIG + i
        log = await store.audit_log(BIG + i)
        assert [(a.session_id, a.detail) for a in log] == [(sid, f"n{i}")]
        live = await store.live_for_channel(BIG + i)
        assert live is not None and live.id == sid
    assert await store.live_for_channel(BIG + 99) is None


async def test_stale_posts_of_many_sessions_at_once_match_one_by_one(store_db: Any) -> None:
    store = SessionStore(store_db)
    rows = []
    for i in range(4):
        sid = await store.create(_row(channel=BIG + i))
        row = await store.get(sid)
        assert row is not None
        for seq, (kind, first, last) in enumerate([("title", None, None), ("beat", 0, 0), ("beat", 1, 2),
                                                   ("closing", None, None)], start=1):
            await store.begin_post(sid, seq, kind, first, last, float(seq))
            await store.finish_post(sid, seq, 1000 * (i + 1) + seq, float(seq), row,
                                    parts=(BIG + seq,) if (i, seq) == (1, 3) else ())
        row.position = i  # rewound to beat i (i = 3: nothing left after it but the closing card)
        row.state = "finished" if i == 2 else "playing"
        await store.save(row)
        rows.append(row)
    many = await store.stale_posts_many(rows)
    for row in rows:
        one = await store.stale_posts(row.id, row.position, include_closing=row.state != "finished")
        assert many.get(row.id, []) == one
    assert many[rows[1].id][-2].parts == (BIG + 3,)


async def test_postgres_sends_a_groups_intents_and_results_as_one_statement(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hot path on PostgreSQL: a group holding some sessions' post intents and other sessions'
    post results (with parts, with votes cleared or kept) is ONE statement over arrays; each write
    lands whole, and a refused intent (a duplicate) fails alone, the rest of its group retried."""
    import asyncio

    from bot.store import pg

    sent: list[str] = []
    db = await pg.PgDatabase.open(pg_url)
    try:
        await db.migrate()
        store = SessionStore(db)
        sids = [await store.create(_row(channel=BIG + i)) for i in range(40)]
        olds = {sid: await store.get(sid) for sid in sids}
        done, fresh = sids[:20], sids[20:]
        for sid in done:
            await store.begin_post(sid, 1, "beat", 0, 0, 1.0)
            await store.add_vote(sid, 0, 7, 1.0)
        await store.begin_post(fresh[0], 1, "beat", 0, 0, 1.0)  # its second intent is refused
        real = pg._commit_group

        class Spy:  # the connection, noting each statement executed
            def __init__(self, conn: Any) -> None:
                self.conn = conn

            def __getattr__(self, name: str) -> Any:
                return getattr(self.conn, name)

            async def execute(self, query: str, *args: Any) -> Any:
                sent.append(query)
                return await self.conn.execute(query, *args)

        async def counted(conn: Any, group: Any) -> None:
            await real(Spy(conn), group)

        monkeypatch.setattr(pg, "_commit_group", counted)
        news = {}
        for i, sid in enumerate(done):
            old = olds[sid]
            assert old is not None
            new = old.copy()
            new.position, new.next_due_at, new.updated_at = 1, 1_700_000_050.5 + i, 1_700_000_001.0
            new.state = "waiting" if i % 4 == 0 else "playing"
            news[sid] = new
        outcomes = await asyncio.gather(
            *(store.finish_post(sid, 1, 9000 + sid, 3.0, news[sid], clear_votes=i % 2 == 0,
                                parts=(8000 + sid, 8500 + sid) if i % 3 == 0 else (), old=olds[sid])
              for i, sid in enumerate(done)),
            *(store.begin_post(sid, 1, "title", None, None, 2.0) for sid in fresh), return_exceptions=True)
        monkeypatch.undo()
        assert "WITH b AS (INSERT INTO posts" in sent[0]  # both kinds, one statement (refused: retried)
        assert isinstance(outcomes[len(done)], Exception)
        assert all(o is None for k, o in enumerate(outcomes) if k != len(done))
        for i, sid in enumerate(done):
            post = (await store.posts(sid))[0]
            assert (post.status, post.message_id, post.posted_at, post.parts) == (
                "posted", 9000 + sid, 3.0, (8000 + sid, 8500 + sid) if i % 3 == 0 else ())
            assert await store.get(sid) == news[sid]
            assert await store.voters(sid, 0) == (set() if i % 2 == 0 else {7})
        for sid in fresh:
            assert [(p.seq, p.kind, p.status, p.first_beat) for p in await store.unresolved_posts(sid)] == [
                (1, "beat" if sid == fresh[0] else "title", "posting", 0 if sid == fresh[0] else None)]
    finally:
        await db.close()


async def test_postgres_writer_gets_a_new_connection_when_its_own_breaks(pg_url: str) -> None:
    """The group-commit writer keeps its connection between groups; when that connection dies
    (the server restarted, an admin ended it), a write fails at most once, as a database fault,
    and the next one is written on a fresh connection."""
    from bot.store import pg
    from bot.store.sessions import DatabaseFault

    db = await pg.PgDatabase.open(pg_url)
    try:
        await db.migrate()
        store = SessionStore(db)
        sid = await store.create(_row())
        await store.begin_post(sid, 1, "beat", 0, 0, 1.0)
        writer = db._main.conn
        assert writer is not None
        pid = writer.get_server_pid()
        assert await db.fetchone("SELECT pg_terminate_backend(?)", (pid,))
        try:  # refused if the writer had not yet seen its connection end (nothing written then)
            await store.begin_post(sid, 2, "beat", 1, 1, 2.0)
        except DatabaseFault:
            await store.begin_post(sid, 2, "beat", 1, 1, 2.0)
        assert db._main.conn is not None and db._main.conn.get_server_pid() != pid
        assert [p.seq for p in await store.unresolved_posts(sid)] == [1, 2]
    finally:
        await db.close()


async def test_live_lookups_asked_together_each_get_their_own_session(store_db: Any) -> None:
    """Thousands of starts arriving at once each look up their channel's live session; on
    PostgreSQL those asked in the same turn of the event loop are one query. Each caller gets its
    own channel's live session, or None (no session, or only an ended one)."""
    import asyncio

    store = SessionStore(store_db)
    live = {BIG + i: await store.create(_row(channel=BIG + i, state="playing" if i % 3 else "paused"))
            for i in range(12)}
    await store.create(_row(channel=BIG + 100, state="finished"))
    queries: list[str] = []
    real = store_db.fetchall

    async def counted(sql: str, params: Any = ()) -> Any:
        queries.append(sql)
        return await real(sql, params)

    store_db.fetchall = counted
    channels = [*live, BIG + 100, BIG + 200, BIG + 3]
    got = await asyncio.gather(*(store.live_for_channel(c) for c in channels))
    del store_db.fetchall
    assert [g.id if g is not None else None for g in got] == [*live.values(), None, None, live[BIG + 3]]
    assert all(g is None or g.channel_id == c for g, c in zip(got, channels, strict=True))
    if store_db.dialect == "postgres":
        assert len(queries) == 1
