"""Every SQL statement the narration engine needs: sessions, posts, votes and the audit log.

The hot path (record a post as "posting", then "posted" together with the new session position)
runs each transaction in ONE round trip to the database thread: BEGIN, statements, COMMIT
(`Database.batch`; on PostgreSQL one pooled connection's transaction). The SQL is portable:
`?` placeholders, `ON CONFLICT` upserts, `RETURNING`.
"""

from __future__ import annotations

import asyncio
import functools
import operator
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from bot.store.db import Database
from bot.store.pg import FAULT_ERRORS as PG_FAULT_ERRORS
from bot.store.pg import IntegrityError as PgIntegrityError
from bot.store.pg import PgDatabase, json_rows, merge_rows, over_rows

INTEGRITY_ERRORS: tuple[type[BaseException], ...] = (sqlite3.IntegrityError, PgIntegrityError)
# A write the database refused for a reason that may pass (disk, lock, lost connection).
FAULT_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, *PG_FAULT_ERRORS)


class LiveSessionExists(Exception):
    """Another live session already holds this channel (the unique index said so)."""


class DatabaseFault(Exception):
    """The database refused a write (disk full, read-only, I/O error, locked too long); nothing of
    that transaction was saved, and the same write may succeed later."""


@dataclass(slots=True)
class SessionRow:
    id: int
    guild_id: int | None
    channel_id: int
    parent_id: int | None
    story_slug: str
    story_hash: str
    position: int
    state: str
    mode: str
    wpm: int
    votes_needed: int
    scene_breather: float
    tidy: str
    include_notes: int
    pause_reason: str | None
    next_due_at: float | None
    started_by: int
    created_at: float
    updated_at: float
    title_posted: int

    def copy(self) -> SessionRow:
        """A copy to change (cheaper than `dataclasses.replace`: this runs on every post)."""
        return SessionRow(*_all_values(self))


_COLUMNS = tuple(f.name for f in fields(SessionRow))
_all_values = operator.attrgetter(*_COLUMNS)  # every field, in order: a new field is copied too
_MUTABLE = tuple(c for c in _COLUMNS if c not in ("id", "guild_id", "channel_id", "parent_id", "created_at"))
_SELECT = "SELECT " + ", ".join(_COLUMNS) + " FROM sessions"
_UPDATE = "UPDATE sessions SET " + ", ".join(f"{c} = ?" for c in _MUTABLE) + " WHERE id = ?"
_INSERT = ("INSERT INTO sessions (" + ", ".join(_COLUMNS[1:]) + ") VALUES ("
           + ", ".join("?" for _ in _COLUMNS[1:]) + ")")


# `finish_post` on PostgreSQL as ONE statement (its data-modifying WITH parts run exactly once,
# atomically with the rest): the post posted, the cue's earlier parts, the votes cleared (when the
# flag says so) and the session moved on.
_PG_FINISH = (
    "WITH p AS (UPDATE posts SET status = 'posted', message_id = ?, posted_at = ? WHERE session_id = ? AND seq = ?),"
    " v AS (DELETE FROM votes WHERE session_id = ? AND ?::boolean),"
    " pp AS (INSERT INTO post_parts (session_id, seq, part, message_id)"
    " SELECT ?::bigint, ?::integer, (t.ord - 1)::integer, t.m FROM unnest(?::bigint[]) WITH ORDINALITY AS t(m, ord)"
    " ON CONFLICT (session_id, seq, part) DO UPDATE SET message_id = excluded.message_id) " + _UPDATE)


# The hot path on PostgreSQL, written over rows (`pg.over_rows`): a group commit sends every
# session's post intent as ONE statement, and every session's post result as another.
_PG_BEGIN = over_rows(
    "INSERT INTO posts (session_id, seq, kind, first_beat, last_beat, status, created_at)"
    " SELECT s, q, k, f, l, 'posting', c FROM "
    + json_rows((("s", "bigint"), ("q", "integer"), ("k", "text"), ("f", "integer"), ("l", "integer"),
                 ("c", "double precision"))) + " AS t")
# A post's result when the session changed only in what a post changes (`_POSTED_COLUMNS`): the
# post posted, its earlier parts (a nested array), the votes cleared where flagged, and the
# session moved on. Data-modifying WITH parts run exactly once, atomically with the rest.
_POSTED_COLUMNS = ("position", "state", "next_due_at", "updated_at", "title_posted")
_PG_POSTED = over_rows(
    "WITH d AS (SELECT * FROM "
    + json_rows((("id", "bigint"), ("seq", "integer"), ("mid", "bigint"), ("at", "double precision"),
                 ("clear", "boolean"), ("parts", "jsonb"), ("position", "integer"), ("state", "text"),
                 ("next_due_at", "double precision"), ("updated_at", "double precision"),
                 ("title_posted", "integer"))) + " AS t),"
    " p AS (UPDATE posts SET status = 'posted', message_id = d.mid, posted_at = d.at FROM d"
    " WHERE posts.session_id = d.id AND posts.seq = d.seq),"
    " v AS (DELETE FROM votes USING d WHERE votes.session_id = d.id AND d.clear),"
    " pp AS (INSERT INTO post_parts (session_id, seq, part, message_id)"
    " SELECT d.id, d.seq, (e.ord - 1)::integer, e.m::bigint FROM d,"
    " jsonb_array_elements_text(d.parts) WITH ORDINALITY AS e(m, ord)"
    " ON CONFLICT (session_id, seq, part) DO UPDATE SET message_id = excluded.message_id)"
    " UPDATE sessions SET " + ", ".join(f"{c} = d.{c}" for c in _POSTED_COLUMNS) + " FROM d WHERE sessions.id = d.id")
# Both in one statement, for a group holding some sessions' intents and others' results (never
# one session's both: its result is committed before its next intent is written).
merge_rows(_PG_BEGIN, _PG_POSTED, "WITH b AS (" + _PG_BEGIN + "), " + _PG_POSTED.removeprefix("WITH "))

_insert_values = operator.attrgetter(*_COLUMNS[1:])

_PG_TYPES = {"guild_id": "bigint", "channel_id": "bigint", "parent_id": "bigint", "story_slug": "text",
             "story_hash": "text", "position": "integer", "state": "text", "mode": "text", "wpm": "integer",
             "votes_needed": "integer", "scene_breather": "double precision", "tidy": "text",
             "include_notes": "integer", "pause_reason": "text", "next_due_at": "double precision",
             "started_by": "bigint", "created_at": "double precision", "updated_at": "double precision",
             "title_posted": "integer"}
_AUDIT_TYPES = {"a_guild": "bigint", "a_channel": "bigint", "actor_id": "bigint", "action": "text",
                "from_beat": "integer", "to_beat": "integer", "detail": "text", "at": "double precision"}
# Sessions started together, each with its audit entry (where `audited`), as ONE statement over
# rows: the ids are drawn first, so that each caller gets its own (by row number).
_PG_CREATE = over_rows(
    "WITH d AS MATERIALIZED (SELECT t.*, nextval(pg_get_serial_sequence('sessions', 'id')) AS id FROM "
    + json_rows((*_PG_TYPES.items(), ("audited", "boolean"), *_AUDIT_TYPES.items())) + " AS t),"
    " s AS (INSERT INTO sessions (id, " + ", ".join(_COLUMNS[1:]) + ") SELECT id, " + ", ".join(_COLUMNS[1:])
    + " FROM d),"
    " a AS (INSERT INTO audit_log (session_id, guild_id, channel_id, actor_id, action, from_beat, to_beat,"
    " detail, at) SELECT id, a_guild, a_channel, actor_id, action, from_beat, to_beat, detail, at FROM d"
    " WHERE audited)"
    " SELECT ord, id FROM d", numbered=True)
assert tuple(_PG_TYPES) == _COLUMNS[1:]
_NO_AUDIT = (False, None, None, 0, "", None, None, "", 0.0)


def _row(r: Sequence[Any]) -> SessionRow:
    return SessionRow(*r)


_mutable_values = operator.attrgetter(*_MUTABLE, "id")
_UPDATED_AT = _MUTABLE.index("updated_at")


_others = operator.attrgetter(*(c for c in _MUTABLE if c not in _POSTED_COLUMNS), "id")
_posted_values = operator.attrgetter(*_POSTED_COLUMNS)


def _update_params(row: SessionRow) -> tuple[Any, ...]:
    values: tuple[Any, ...] = _mutable_values(row)
    return values


@functools.lru_cache(maxsize=256)
def _update_plan(changed: tuple[bool, ...]) -> tuple[str, operator.itemgetter[Any]]:
    """The UPDATE of the columns flagged in `changed` (at least `updated_at`), and what picks
    their values (then the id) out of `_mutable_values`."""
    picks = [i for i, c in enumerate(changed) if c] or [_UPDATED_AT]
    sql = "UPDATE sessions SET " + ", ".join(f"{_MUTABLE[i]} = ?" for i in picks) + " WHERE id = ?"
    return sql, operator.itemgetter(*picks, len(_MUTABLE))


def _update_op(row: SessionRow, old: SessionRow | None) -> tuple[str, Any, bool]:
    """The UPDATE that saves `row`: every column, or with `old` (the row as saved) only those
    that changed (at least `updated_at`)."""
    if old is None or old.id != row.id:
        return _UPDATE, _update_params(row), False
    new_values = _mutable_values(row)
    sql, pick = _update_plan(tuple(map(operator.ne, new_values, _mutable_values(old)))[:-1])
    return sql, pick(new_values), False


@dataclass(frozen=True, slots=True)
class PostRow:
    session_id: int
    seq: int
    kind: str
    first_beat: int | None
    last_beat: int | None
    status: str
    message_id: int | None
    created_at: float
    posted_at: float | None
    parts: tuple[int, ...] = ()  # earlier messages of a cue the stage split (oldest first)


_POST_COLS = "session_id, seq, kind, first_beat, last_beat, status, message_id, created_at, posted_at"
_CHUNK = 500  # ids per `IN (...)` list (well under either backend's limit on parameters)


@dataclass(frozen=True, slots=True)
class PostSummary:
    max_seq: int
    last_message_id: int | None  # newest posted message
    unresolved: bool  # some post is still "posting"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    session_id: int | None
    guild_id: int | None
    channel_id: int
    actor_id: int
    action: str
    from_beat: int | None
    to_beat: int | None
    detail: str
    at: float


_AUDIT_INSERT = ("INSERT INTO audit_log (session_id, guild_id, channel_id, actor_id, action, from_beat, "
                 "to_beat, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


# An audit entry for the session the same SQLite transaction has just inserted (PostgreSQL makes
# both in one statement: `create`).
_AUDIT_INSERT_NEW = _AUDIT_INSERT.replace("VALUES (?", "VALUES (last_insert_rowid()")


def _audit_params(a: AuditEntry) -> tuple[Any, ...]:
    return (a.session_id, a.guild_id, a.channel_id, a.actor_id, a.action, a.from_beat, a.to_beat,
            a.detail, a.at)


class SessionStore:
    def __init__(self, db: Database | PgDatabase) -> None:
        self.db = db
        # PostgreSQL: channels whose live session is being asked for in this turn of the event
        # loop, and who waits for each (`live_for_channel` answers them all with one query).
        self._live_asked: dict[int, list[asyncio.Future[SessionRow | None]]] = {}
        self._live_tasks: set[asyncio.Task[None]] = set()

    # -- one-round-trip transactions ------------------------------------------------------------
    async def _batch(self, *ops: tuple[str, Any, bool], hurry: bool = False) -> list[list[Any] | None]:
        try:
            return await self.db.batch(ops, hurry=hurry)
        except INTEGRITY_ERRORS:
            raise
        except FAULT_ERRORS as exc:
            raise DatabaseFault(str(exc) or type(exc).__name__) from exc

    # -- sessions -------------------------------------------------------------------------------
    async def create(self, row: SessionRow, audit: AuditEntry | None = None) -> int:
        """Insert a new session (and its audit entry, in the same transaction); its id. Many
        sessions started at once share one commit (`Database.batch`)."""
        if self.db.dialect == "postgres":
            # One statement for all the sessions a group commit starts (each with its audit entry)
            extra = _NO_AUDIT if audit is None else (True, *_audit_params(audit)[1:])
            try:
                made = (await self._batch((_PG_CREATE, (*_insert_values(row), *extra), False)))[0]
            except INTEGRITY_ERRORS as exc:
                raise LiveSessionExists(str(exc)) from exc
            return int(made[0][0]) if made else 0
        ops: list[tuple[str, Any, bool]] = [(_INSERT + " RETURNING id", _insert_values(row), False)]
        if audit is not None:  # the audit row names the session just inserted, in the same transaction
            ops.append((_AUDIT_INSERT_NEW, _audit_params(audit)[1:], False))
        try:
            out = await self._batch(*ops)
        except INTEGRITY_ERRORS as exc:
            raise LiveSessionExists(str(exc)) from exc
        got = out[0]
        return int(got[0][0]) if got else 0

    async def save(self, row: SessionRow, audit: Iterable[AuditEntry] = (), *,
                   clear_votes: bool = False, post_status: tuple[Sequence[int], str] | None = None,
                   supersede_posts: bool = False) -> None:
        """Write the session row, with its audit entries and side effects, in one transaction.

        `supersede_posts`: every message still marked posted becomes history of an earlier run
        (status "rewound"), so a later rewind never takes it back (used by restart)."""
        ops: list[tuple[str, Any, bool]] = [(_UPDATE, _update_params(row), False)]
        if clear_votes:
            ops.append(("DELETE FROM votes WHERE session_id = ?", (row.id,), False))
        if post_status is not None:
            seqs, status = post_status
            ops.append(("UPDATE posts SET status = ? WHERE session_id = ? AND seq = ?",
                        [(status, row.id, s) for s in seqs], True))
        if supersede_posts:
            ops.append(("UPDATE posts SET status = 'rewound' WHERE session_id = ? AND status = 'posted'",
                        (row.id,), False))
        entries = [_audit_params(a) for a in audit]
        if entries:
            ops.append((_AUDIT_INSERT, entries, True))
        try:
            # (a command, a reader's ▶, a recovery: someone waits for it, and it is rare beside
            # the posts: it does not wait for the commit window)
            await self._batch(*ops, hurry=True)
        except INTEGRITY_ERRORS as exc:
            raise LiveSessionExists(str(exc)) from exc

    async def save_many(self, rows: Sequence[SessionRow]) -> None:
        await self._batch((_UPDATE, [_update_params(r) for r in rows], True))

    async def get(self, session_id: int) -> SessionRow | None:
        r = await self.db.fetchone(_SELECT + " WHERE id = ?", (session_id,))
        return _row(r) if r else None

    async def live_for_channel(self, channel_id: int) -> SessionRow | None:
        """The live (playing, waiting or paused) session in the channel: one index lookup. On
        PostgreSQL the lookups asked for in the same turn of the event loop (thousands of starts
        arriving at once) are one query, one round trip."""
        if self.db.dialect == "postgres":
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[SessionRow | None] = loop.create_future()
            if not self._live_asked:
                loop.call_soon(self._look_up_live)
            self._live_asked.setdefault(channel_id, []).append(fut)
            return await fut
        r = await self.db.fetchone(_SELECT + " WHERE channel_id = ? AND state IN ('playing', 'waiting', 'paused')"
                                   " LIMIT 1", (channel_id,))
        return _row(r) if r else None

    def _look_up_live(self) -> None:
        asked, self._live_asked = self._live_asked, {}
        task = asyncio.get_running_loop().create_task(self._live_rows(asked))
        self._live_tasks.add(task)  # (a strong reference until it is done)
        task.add_done_callback(self._live_tasks.discard)

    async def _live_rows(self, asked: dict[int, list[asyncio.Future[SessionRow | None]]]) -> None:
        try:
            rows = await self.db.fetchall(
                _SELECT + " WHERE channel_id = ANY(?) AND state IN ('playing', 'waiting', 'paused')", (list(asked),))
        except asyncio.CancelledError:
            for futs in asked.values():
                for fut in futs:
                    fut.cancel()
            raise
        except Exception as exc:  # every caller hears of it
            for futs in asked.values():
                for fut in futs:
                    if not fut.done():
                        fut.set_exception(exc)
            return
        found = {int(r[2]): _row(r) for r in rows}
        for channel, futs in asked.items():
            for fut in futs:
                if not fut.done():
                    fut.set_result(found.get(channel))

    async def latest_for_channel(self, channel_id: int) -> SessionRow | None:
        """The live session in the channel, else the most recent ended one (that one is not
        indexed by channel: a scan, so `start` asks `live_for_channel` instead)."""
        r = await self.db.fetchone(
            _SELECT + " WHERE channel_id = ? ORDER BY state IN ('playing', 'waiting', 'paused') DESC, id DESC"
            " LIMIT 1", (channel_id,))
        return _row(r) if r else None

    async def resumable(self, shard_count: int | None = None,
                        shard_ids: Sequence[int] = ()) -> list[SessionRow]:
        """Sessions to resume at start-up; with `shard_count`, only those of guilds that shards
        `shard_ids` own (Discord's `(guild_id >> 22) % shard_count`; no guild: shard 0)."""
        sql = _SELECT + " WHERE state IN ('playing', 'waiting')"
        params: list[int] = []
        if shard_count is not None:
            sql += (" AND ((coalesce(guild_id, 0) / 4194304) % ?) IN ("
                    + ", ".join("?" for _ in shard_ids) + ")")
            params = [shard_count, *shard_ids]
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [_row(r) for r in rows]

    async def post_summaries(self, session_ids: Sequence[int] | None = None) -> dict[int, PostSummary]:
        """Per session: highest seq, newest posted message, whether any post is unresolved."""
        where = ""
        params: tuple[Any, ...] = ()
        if session_ids is not None:
            if not session_ids:
                return {}
            if self.db.dialect == "postgres":  # any number of ids, one parameter (an array)
                where = " WHERE session_id = ANY(?)"
                params = (list(session_ids),)
            elif len(session_ids) <= 500:
                where = " WHERE session_id IN (" + ",".join("?" for _ in session_ids) + ")"
                params = tuple(session_ids)
        rows = await self.db.fetchall(
            "SELECT session_id, MAX(seq), MAX(CASE WHEN status = 'posting' THEN 1 ELSE 0 END) FROM posts"
            + where + " GROUP BY session_id", params)
        last = await self.db.fetchall(
            "SELECT p.session_id, p.message_id FROM posts p JOIN (SELECT session_id, MAX(seq) AS s FROM posts"
            " WHERE status = 'posted'" + (where.replace("WHERE", "AND") if where else "")
            + " GROUP BY session_id) m ON p.session_id = m.session_id AND p.seq = m.s", params)
        last_ids = {int(r[0]): (int(r[1]) if r[1] is not None else None) for r in last}
        return {int(r[0]): PostSummary(int(r[1]), last_ids.get(int(r[0])), bool(r[2])) for r in rows}

    # -- posts ----------------------------------------------------------------------------------
    async def begin_post(self, session_id: int, seq: int, kind: str, first: int | None, last: int | None,
                         now: float) -> None:
        """Record that we are about to submit this post (committed before the stage is called). Its
        rate slot is taken: it commits at once (`hurry`), with whatever else is queued."""
        if self.db.dialect == "postgres":
            await self._batch((_PG_BEGIN, (session_id, seq, kind, first, last, now), False), hurry=True)
            return
        await self._batch(("INSERT INTO posts (session_id, seq, kind, first_beat, last_beat, status, created_at)"
                           " VALUES (?, ?, ?, ?, ?, 'posting', ?)", (session_id, seq, kind, first, last, now), False),
                          hurry=True)

    async def finish_post(self, session_id: int, seq: int, message_id: int, now: float,
                          row: SessionRow, *, clear_votes: bool = False, parts: Sequence[int] = (),
                          old: SessionRow | None = None, hurry: bool = False) -> None:
        """Mark the post posted (with the earlier `parts` of a split cue) AND move the session on,
        atomically. `old`: the session row as saved before, when the caller knows it: only the
        columns that differ are written (a post changes 3 or 4 of them; rewriting `state` alone
        costs more than the rest of the transaction, through its two indexes). `hurry`: commit at
        once rather than with the next group (SQLite; see `Database.batch`)."""
        if self.db.dialect == "postgres":  # one statement: one round trip, shared by a group
            if old is not None and _others(old) == _others(row):
                await self._batch((_PG_POSTED, (session_id, seq, message_id, now, clear_votes, parts,
                                                *_posted_values(row)), False))
                return
            await self._batch((_PG_FINISH, (message_id, now, session_id, seq, session_id, clear_votes, session_id,
                                            seq, list(parts), *_update_params(row)), False))
            return
        ops: list[tuple[str, Any, bool]] = [
            ("UPDATE posts SET status = 'posted', message_id = ?, posted_at = ? WHERE session_id = ? AND seq = ?",
             (message_id, now, session_id, seq), False)]
        if parts:
            ops.append(("INSERT INTO post_parts (session_id, seq, part, message_id) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (session_id, seq, part) DO UPDATE SET message_id = excluded.message_id",
                        [(session_id, seq, i, mid) for i, mid in enumerate(parts)], True))
        ops.append(_update_op(row, old))
        if clear_votes:
            ops.append(("DELETE FROM votes WHERE session_id = ?", (session_id,), False))
        await self._batch(*ops, hurry=hurry)

    async def set_post_status(self, session_id: int, seqs: Sequence[int], status: str) -> None:
        await self._batch(("UPDATE posts SET status = ? WHERE session_id = ? AND seq = ?",
                           [(status, session_id, s) for s in seqs], True))

    async def unresolved_posts(self, session_id: int) -> list[PostRow]:
        rows = await self.db.fetchall(f"SELECT {_POST_COLS} FROM posts WHERE session_id = ? AND status = 'posting'"
                                      " ORDER BY seq", (session_id,))
        return [PostRow(*tuple(r)) for r in rows]

    async def posts(self, session_id: int, status: str | None = None) -> list[PostRow]:
        if status is None:
            rows = await self.db.fetchall(f"SELECT {_POST_COLS} FROM posts WHERE session_id = ? ORDER BY seq",
                                          (session_id,))
        else:
            rows = await self.db.fetchall(f"SELECT {_POST_COLS} FROM posts WHERE session_id = ? AND status = ?"
                                          " ORDER BY seq", (session_id, status))
        return await self._with_parts(rows)

    async def _with_parts(self, rows: Sequence[Any]) -> list[PostRow]:
        posts = [PostRow(*tuple(r)) for r in rows]
        if not posts:
            return posts
        got = await self.db.fetchall("SELECT seq, message_id FROM post_parts WHERE session_id = ?"
                                     " ORDER BY seq, part", (posts[0].session_id,))
        by_seq: dict[int, list[int]] = {}
        for seq, mid in got:
            by_seq.setdefault(int(seq), []).append(int(mid))
        return [replace(p, parts=tuple(by_seq[p.seq])) if p.seq in by_seq else p for p in posts]

    async def posted_after(self, session_id: int, position: int) -> list[PostRow]:
        """Posted messages showing beats at or after `position`, plus a closing card: what a
        rewind to `position` takes back."""
        rows = await self.db.fetchall(
            f"SELECT {_POST_COLS} FROM posts WHERE session_id = ? AND status = 'posted'"
            " AND (last_beat >= ? OR kind = 'closing') ORDER BY seq", (session_id, position))
        return await self._with_parts(rows)

    async def stale_posts(self, session_id: int, position: int, *, include_closing: bool) -> list[PostRow]:
        """Messages still up that show beats at or after `position` (a rewind's unfinished
        tidy-up, e.g. after a crash): posted beats from `position` on, and a closing card."""
        rows = await self.db.fetchall(
            f"SELECT {_POST_COLS} FROM posts WHERE session_id = ? AND status = 'posted' AND kind != 'title'"
            " AND (last_beat >= ? OR (kind = 'closing' AND ? = 1)) ORDER BY seq",
            (session_id, position, int(include_closing)))
        return await self._with_parts(rows)

    async def stale_posts_many(self, rows: Sequence[SessionRow]) -> dict[int, list[PostRow]]:
        """`stale_posts` for many sessions at once (start-up), each at its saved position: a few
        queries for thousands of sessions instead of one each. Sessions with nothing stale are
        left out of the answer."""
        out: dict[int, list[PostRow]] = {}
        for i in range(0, len(rows), _CHUNK):
            ids = [r.id for r in rows[i:i + _CHUNK]]
            marks = ",".join("?" for _ in ids)
            got = await self.db.fetchall(
                "SELECT " + ", ".join(f"p.{c.strip()}" for c in _POST_COLS.split(",")) + " FROM posts p"
                " JOIN sessions s ON s.id = p.session_id"
                f" WHERE p.session_id IN ({marks}) AND p.status = 'posted' AND p.kind != 'title'"
                " AND (p.last_beat >= s.position OR (p.kind = 'closing' AND s.state != 'finished'))"
                " ORDER BY p.session_id, p.seq", ids)
            if not got:
                continue
            parts: dict[tuple[int, int], list[int]] = {}
            with_posts = sorted({int(r[0]) for r in got})
            for sid, seq, mid in await self.db.fetchall(
                    "SELECT session_id, seq, message_id FROM post_parts WHERE session_id IN ("
                    + ",".join("?" for _ in with_posts) + ") ORDER BY session_id, seq, part", with_posts):
                parts.setdefault((int(sid), int(seq)), []).append(int(mid))
            for r in got:
                post = PostRow(*tuple(r))
                if (post.session_id, post.seq) in parts:
                    post = replace(post, parts=tuple(parts[post.session_id, post.seq]))
                out.setdefault(post.session_id, []).append(post)
        return out

    async def known_message_ids(self, session_id: int) -> set[int]:
        rows = await self.db.fetchall("SELECT message_id FROM posts WHERE session_id = ? AND message_id IS NOT NULL"
                                      " UNION SELECT message_id FROM post_parts WHERE session_id = ?",
                                      (session_id, session_id))
        return {int(r[0]) for r in rows}

    async def session_for_message(self, message_id: int) -> int | None:
        r = await self.db.fetchone("SELECT session_id FROM posts WHERE message_id = ? LIMIT 1", (message_id,))
        if r is None:
            r = await self.db.fetchone("SELECT session_id FROM post_parts WHERE message_id = ? LIMIT 1", (message_id,))
        return int(r[0]) if r else None

    # -- votes ----------------------------------------------------------------------------------
    async def add_vote(self, session_id: int, position: int, user_id: int, now: float) -> None:
        await self._batch(("INSERT INTO votes (session_id, position, user_id, voted_at) VALUES (?, ?, ?, ?)"
                           " ON CONFLICT DO NOTHING", (session_id, position, user_id, now), False), hurry=True)

    async def voters(self, session_id: int, position: int) -> set[int]:
        rows = await self.db.fetchall("SELECT user_id FROM votes WHERE session_id = ? AND position = ?",
                                      (session_id, position))
        return {int(r[0]) for r in rows}

    # -- audit ----------------------------------------------------------------------------------
    async def audit(self, entry: AuditEntry) -> None:
        await self._batch((_AUDIT_INSERT, _audit_params(entry), False), hurry=True)

    async def audit_log(self, channel_id: int, limit: int = 100) -> list[AuditEntry]:
        rows = await self.db.fetchall(
            "SELECT session_id, guild_id, channel_id, actor_id, action, from_beat, to_beat, detail, at"
            " FROM audit_log WHERE channel_id = ? ORDER BY id DESC LIMIT ?", (channel_id, limit))
        return [AuditEntry(*tuple(r)) for r in reversed(rows)]
