"""PostgreSQL through asyncpg, behind the same interface as the SQLite `Database`.

The repositories write portable SQL with `?` placeholders (translated here to `$1, $2, ...`),
`ON CONFLICT` upserts and `RETURNING`; the few dialect differences (full-text search) branch on
`db.dialect`. Migrations come from `migrations/postgres/`, numbered like their SQLite twins, each
applied in one transaction with its ledger row, under an advisory lock so that several bot
processes starting at once never apply one twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.store.migrations import (
    Migration,
    MigrationError,
    MigrationStatus,
    _check,
    default_migrations_dir,
    load_migrations,
)

# Any number; the same in every process, so migrators of one database take turns.
_MIGRATION_LOCK = 7_316_905_142

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at DOUBLE PRECISION NOT NULL
)
"""

# Seconds a statement may take before asyncpg gives up on it (a server that stopped answering).
_COMMAND_TIMEOUT = 60.0

IntegrityError: type[BaseException] = asyncpg.IntegrityConstraintViolationError
# Failures that may pass (the server restarting, a lost connection, a lock timeout): the engine
# treats them as it treats a full disk under SQLite.
# (InternalClientError: a connection the server ended while it was idle refuses the next query so.)
FAULT_ERRORS: tuple[type[BaseException], ...] = (asyncpg.PostgresError, asyncpg.InterfaceError,
                                                 asyncpg.InternalClientError, OSError)


def pg_migrations_dir() -> Path:
    return default_migrations_dir() / "postgres"


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


@functools.lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """`?` placeholders to `$n` (outside quoted literals)."""
    out: list[str] = []
    n = 0
    quote: str | None = None
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            n += 1
            out.append(f"${n}")
            continue
        out.append(ch)
    return "".join(out)


class _Cursor:
    def __init__(self, rows: list[asyncpg.Record], rowcount: int = -1) -> None:
        self._rows = rows
        self.lastrowid = None
        self.rowcount = rowcount

    async def fetchone(self) -> asyncpg.Record | None:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[asyncpg.Record]:
        return self._rows

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class _Call:
    """What `conn.execute(...)` returns: awaitable, and usable as `async with ... as cur`
    (the shapes aiosqlite's execute has, so shared repository code runs on both)."""

    def __init__(self, conn: asyncpg.Connection, sql: str, params: Sequence[Any]) -> None:
        self._pg = conn
        self._sql = translate(sql)
        self._params = tuple(params)
        self._cur: _Cursor | None = None

    async def _run(self) -> _Cursor:
        if self._cur is None:
            head = self._sql.lstrip()[:6].upper()
            if head in ("SELECT", "WITH") or " RETURNING " in self._sql.upper():
                self._cur = _Cursor(list(await self._pg.fetch(self._sql, *self._params)))
            else:  # a plain write: its status ("UPDATE 3") gives the row count, as sqlite3's rowcount
                status = await self._pg.execute(self._sql, *self._params)
                last = str(status).rsplit(" ", 1)[-1]
                self._cur = _Cursor([], int(last) if last.isdigit() else -1)
        return self._cur

    def __await__(self) -> Any:
        return self._run().__await__()

    async def __aenter__(self) -> _Cursor:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgConnection:
    """One connection inside a transaction, with aiosqlite's calling shapes."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Call:
        return _Call(self.raw, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(r) for r in rows]
        if batch:
            await self.raw.executemany(translate(sql), batch)


_Queued = tuple[list[tuple[str, Any, bool]], "asyncio.Future[list[list[Any] | None]]"]
# Batches per commit: bounds one transaction's size (and how long its callers wait for it).
_GROUP_MAX = 2000
# Batches that make a group worth committing without waiting for the rest of the window (as
# SQLite's `GROUP_MAX`): at thousands of sessions a 200 ms window of results made commits long
# enough that the intents queued behind them left 0.2 s after their rate slots.
_GROUP_FULL = 128

# Statements written over rows (`over_rows`): each caller gives ONE row (a tuple of values), and
# a group sends all its callers' rows as ONE parameter, a JSON array of arrays that the statement
# unpacks (`json_rows`). One `json.dumps` in C per group: passing a column per array instead made
# asyncpg check every value from Python (an `isinstance` against an abstract base class each), and
# `executemany` encodes and sends a Bind and an Execute message per row. The hot path's writes cost a
# fixed few tens of microseconds per group instead of per row.
_ROWS: set[str] = set()
# Those of them that answer each caller: their rows start with the caller's row number (1, 2, ...
# in the order of the rows), which is left out of the rows the caller gets.
_NUMBERED: set[str] = set()
# (first, second) -> one statement doing both, over first's rows then second's: a group holding
# rows of both (every session's post intent, and others' results) costs one round trip, not two.
_MERGED: dict[tuple[str, str], str] = {}
# `sql` -> what the server is sent, for the statements over rows and their merges (translated once)
_SENT: dict[str, str] = {}

# Rows as sent, compact. (A NaN or an infinity goes out as a token JSON lacks: the server refuses
# that statement, and the group's writes are retried one by one, so only that write fails.)
_dumps = json.JSONEncoder(check_circular=False, separators=(",", ":")).encode


def json_rows(columns: Sequence[tuple[str, str]]) -> str:
    """A FROM item for a statement over rows: the rows of its `?` parameter as the named columns
    (`(name, SQL type)`; "jsonb" keeps a nested array as it is), then `ord`, the row's number.
    Write it as `FROM <this> AS t`."""
    cols = ", ".join(f"j.r->{i} AS {name}" if kind == "jsonb" else
                     f"j.r->>{i} AS {name}" if kind == "text" else f"(j.r->>{i})::{kind} AS {name}"
                     for i, (name, kind) in enumerate(columns))
    return f"(SELECT {cols}, j.ord FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY AS j(r, ord))"


def over_rows(sql: str, *, numbered: bool = False) -> str:
    """Mark `sql` as written over rows (see `_ROWS`: one `?`, read through `json_rows`); returns
    it. Each row must be independent of the others in the same statement. It returns no rows, or
    with `numbered` rows whose first column is the number of the caller's row (`ord`)."""
    _ROWS.add(sql)
    _SENT[sql] = translate(sql)
    if numbered:
        _NUMBERED.add(sql)
    return sql


def merge_rows(first: str, second: str, both: str) -> None:
    """`both` does what statements `first` and `second` (both over rows, returning nothing) do, in
    one statement taking first's rows then second's: rows of one must never touch rows of the
    other (they see the same snapshot)."""
    _MERGED[first, second] = both
    _SENT[both] = translate(both)


def _returns_rows(sql: str) -> bool:
    """A SELECT, or a write with RETURNING (a write's `WITH` parts need no RETURNING)."""
    return sql.lstrip()[:6].upper() == "SELECT" or " RETURNING " in sql.upper()


def _merged(a: str, rows_a: list[Any], b: str, rows_b: list[Any]) -> tuple[str, str, str] | None:
    """The one statement doing statements `a` and `b` over their rows (`merge_rows`, in either
    order), then its two parameters; None when they do not merge."""
    both = _MERGED.get((a, b))
    if both is not None:
        return both, _dumps(rows_a), _dumps(rows_b)
    both = _MERGED.get((b, a))
    if both is not None:
        return both, _dumps(rows_b), _dumps(rows_a)
    return None


# One round trip: (sql, its rows, where the rows it returns go: one (batch, statement) for a
# fetch, one per row for a numbered statement over rows, else None; over rows)
_Trip = tuple[str, list[Any], list[tuple[int, int]] | None, bool]


async def _write_group(conn: asyncpg.Connection, batches: list[list[tuple[str, Any, bool]]]
                       ) -> list[list[list[Any] | None]]:
    """Every batch of `batches` in ONE transaction; the results of each, as `batch` returns them.
    Batches of one shape go together, statement by statement, each statement with all their
    rows at once (over rows, or `executemany`); shapes in order of first arrival."""
    shapes: dict[tuple[tuple[str, bool], ...], list[int]] = {}
    for i, ops in enumerate(batches):
        shapes.setdefault(tuple((sql, many) for sql, _, many in ops), []).append(i)
    results: list[list[list[Any] | None]] = [[None] * len(ops) for ops in batches]
    calls: list[_Trip] = []
    for shape, members in shapes.items():
        for k, (sql, many) in enumerate(shape):
            if sql in _NUMBERED and not many:
                calls.append((sql, [batches[i][k][1] for i in members], [(i, k) for i in members], True))
                continue
            if not many and sql not in _ROWS and _returns_rows(sql):
                calls.extend((sql, [tuple(batches[i][k][1])], [(i, k)], False) for i in members)
                continue
            rows: list[Any] = []
            for i in members:
                params = batches[i][k][1]
                if many:
                    rows.extend(tuple(p) for p in params)
                else:
                    rows.append(params)
                    results[i][k] = []
            if rows:
                calls.append((sql, rows, None, sql in _ROWS))
    if len(calls) == 2 and calls[0][3] and calls[1][3] and calls[0][2] is None and calls[1][2] is None:
        merged = _merged(calls[0][0], calls[0][1], calls[1][0], calls[1][1])
        if merged is not None:
            both, *params = merged
            calls = [(both, [tuple(params)], None, False)]

    async def run(sql: str, rows: list[Any], into: list[tuple[int, int]] | None, over: bool) -> None:
        query = _SENT.get(sql) or translate(sql)
        if into is None:
            if over:
                await conn.execute(query, _dumps(rows))
            elif len(rows) == 1:
                await conn.execute(query, *rows[0])
            else:
                await conn.executemany(query, rows)  # atomic on its own
        elif not over:
            results[into[0][0]][into[0][1]] = list(await conn.fetch(query, *rows[0]))
        else:
            for i, k in into:
                results[i][k] = []
            for r in await conn.fetch(query, _dumps(rows)):
                i, k = into[r[0] - 1]
                results[i][k].append(tuple(r)[1:])

    if len(calls) == 1:  # one statement is its own transaction: one round trip, not three
        await run(*calls[0])
        return results
    async with conn.transaction():
        for call in calls:
            await run(*call)
    return results


def _settle(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _usable(conn: Any) -> bool:
    """The connection is open (a connection the server ended says so once asyncpg has seen it)."""
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:
        return False


def _hot(group: list[_Queued]) -> tuple[str, ...] | None:
    """The one statement, then its parameters, that commits `group` when every batch of it is a
    single statement over rows returning nothing, of one kind or of two that merge (the hot path:
    posts' intents and results); else None."""
    rows: dict[str, list[Any]] = {}
    for ops, _ in group:
        if len(ops) != 1:
            return None
        sql, params, many = ops[0]
        if many or sql not in _ROWS or sql in _NUMBERED:
            return None
        got = rows.get(sql)
        if got is None:
            rows[sql] = [params]
        else:
            got.append(params)
    if len(rows) == 1:
        ((sql, only),) = rows.items()
        return _SENT[sql], _dumps(only)
    if len(rows) == 2:
        (a, ra), (b, rb) = rows.items()
        merged = _merged(a, ra, b, rb)
        if merged is not None:
            return _SENT[merged[0]], *merged[1:]
    return None


async def _commit_group(conn: asyncpg.Connection, group: list[_Queued]) -> None:
    """Commit `group` and settle its callers' futures."""
    hot = _hot(group)
    if hot is not None:
        await _commit_together(conn, group, hot)
        return
    if len(group) > 1 and all(len(ops) == 1 for ops, _ in group):
        # Every batch is ONE statement, atomic on its own: each kind's statement commits by
        # itself, with no BEGIN/COMMIT round trips.
        shapes: dict[tuple[str, bool], list[_Queued]] = {}
        for item in group:
            sql, _, many = item[0][0]
            shapes.setdefault((sql, many), []).append(item)
        for members in shapes.values():
            await _commit_together(conn, members)
        return
    await _commit_together(conn, group)


async def _commit_together(conn: asyncpg.Connection, group: list[_Queued], hot: tuple[str, ...] | None = None) -> None:
    """One transaction for `group` (`hot`: its one statement and parameters, see `_hot`); if it
    fails, each batch alone."""
    try:
        if hot is not None:
            await conn.execute(*hot)  # one statement, atomic on its own: no BEGIN/COMMIT round trips
            results: list[list[list[Any] | None]] = [[[]] for _ in group]  # no rows: a list of its own each
        else:
            results = await _write_group(conn, [ops for ops, _ in group])
    except asyncpg.PostgresError:
        if len(group) == 1 or not _usable(conn):
            raise
        await _one_by_one(conn, group)
        return
    for (_, fut), out in zip(group, results, strict=True):
        if not fut.done():
            fut.set_result(out)


async def _one_by_one(conn: asyncpg.Connection, group: list[_Queued]) -> None:
    """One batch broke the group (a constraint, say): each alone, so only that one fails."""
    for ops, fut in group:
        try:
            alone = await _write_group(conn, [ops])
        except asyncpg.PostgresError as exc:
            if not fut.done():
                fut.set_exception(exc)
        else:
            if not fut.done():
                fut.set_result(alone[0])


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What the pool does to a connection given back (after asyncpg has rolled back a transaction
    left open): nothing. asyncpg's default sends `RESET ALL; UNLISTEN *; CLOSE ALL; ...`, a round
    trip per acquire that doubled the cost of every write group and read; the store never sets a
    session variable, listens, keeps a cursor or takes a session-level advisory lock."""


def _cancel(*queues: list[_Queued]) -> None:
    """Cancel the futures of the callers of these queued batches (their writer was cancelled:
    none may wait for it forever)."""
    for queue in queues:
        for _, fut in queue:
            fut.cancel()


class _WriterConnection:
    """A group-commit writer's own connection: opened for its first group and kept from one to the
    next, closed and replaced when it fails."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: asyncpg.Connection | None = None

    async def commit(self, group: list[_Queued]) -> None:
        """Commit `group` and settle its callers' futures: each with its rows, or with the error
        that kept its batch from being saved (no connection, or it broke: nothing of the group was
        saved)."""
        try:
            conn = self.conn
            if conn is not None and conn.is_closed():
                await self.release()
                conn = None
            if conn is None:
                conn = self.conn = await asyncpg.connect(self.url, command_timeout=_COMMAND_TIMEOUT)
            await _commit_group(conn, group)
        except Exception as exc:
            for _, fut in group:
                if not fut.done():
                    fut.set_exception(exc)
            await self.release()

    async def release(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                await conn.close(timeout=5.0)
            except Exception:  # a broken connection
                with contextlib.suppress(asyncpg.InterfaceError):
                    conn.terminate()


class PgDatabase:
    """A pool of connections to one PostgreSQL database (`DATABASE_URL`)."""

    dialect = "postgres"
    path: Path | None = None
    # Group commit's window, as SQLite's `Database.commit_window`: a write arriving within this
    # many seconds of the last commit waits for the rest of it, so that the writes of every
    # session posting meanwhile go together; a hurried one (a post's intent) does not wait. 0:
    # commit as soon as the event loop turns; the bot sets `COMMIT_WINDOW` (`open_store`).
    commit_window = 0.0

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url
        self._queue: list[_Queued] = []
        self._writer: asyncio.Task[None] | None = None
        self._armed = False  # the writer is due to start (the window is running)
        self._timer: asyncio.TimerHandle | None = None  # ... at the end of the window
        self._hurried = False  # a queued batch must not wait for the window (`batch(hurry=True)`)
        self._sleep: asyncio.Future[None] | None = None  # the writer waiting out the window
        self._last_commit = 0.0
        # The writer's connection, kept from one group to the next (taking one from the pool and
        # giving it back costs as much CPU as a group's statement), and outside the pool (whose
        # wrapper adds a Python call per statement); closed and replaced when it fails.
        self._main = _WriterConnection(url)
        # The writer is committing a group (or connecting for one): a hurried batch arriving now
        # does not queue behind it but goes to the hurried lane (`_fast`).
        self._committing = False
        # The hurried lane: hurried batches (posts' intents, commands) that arrived while the
        # writer was committing, committed at once by a task of their own on a second connection,
        # so that a post never waits for a commit of a window of results to finish (at 10,000
        # sessions such commits made posts leave up to 80 ms late, more than the rate budget's
        # margin). See `batch` for why the two connections never reorder one session's writes.
        self._fast: list[_Queued] = []
        self._fast_writer: asyncio.Task[None] | None = None
        self._spare = _WriterConnection(url)

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 4) -> PgDatabase:
        from bot.store.db import StoreError

        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size, command_timeout=_COMMAND_TIMEOUT,
                                             reset=_keep_session)
        except (OSError, asyncpg.PostgresError, ValueError) as exc:
            raise StoreError(
                f"cannot connect to the PostgreSQL database at {redact(url)} ({exc}); check DATABASE_URL "
                "and that the server is running"
            ) from exc
        return cls(pool, url)

    async def close(self) -> None:
        writers = [w for w in (self._writer, self._fast_writer) if w is not None and not w.done()]
        if writers:
            # What is queued is committed, not dropped; but a database that stopped answering
            # must not hold the shutdown (its callers get the cancellation).
            _, late = await asyncio.wait(writers, timeout=5.0)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._main.release()
        await self._spare.release()
        await self._pool.close()

    async def __aenter__(self) -> PgDatabase:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def file_problem(self) -> str | None:
        return None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgConnection]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield PgConnection(conn)

    async def batch(self, ops: Sequence[tuple[str, Any, bool]], *, hurry: bool = False) -> list[list[Any] | None]:
        """Run `(sql, params, many)` statements as one atomic unit; returns the rows of each
        single statement (the same method as SQLite's `Database.batch`).

        Group commit, as on SQLite: batches that arrive within `commit_window` of the last
        commit, or while one is under way, are queued, and ONE writer task commits them together
        on a connection of its own. Batches of the same shape (the same statements, e.g. every
        session's "post recorded") are sent together: a statement over rows (`over_rows`) once for
        all their rows, two such merged into one (`merge_rows`), any other statement with
        all its rows at once (`executemany`), so a group of a thousand sessions costs a round trip
        or two instead of thousands. Reads use the pool's other connections and never queue
        behind the writes. The call returns only once its batch is committed ("intent recorded
        before the send, result after" holds). If the group fails, each of its batches is retried
        alone, so a failing batch raises for its caller only. Batches committed together must not
        depend on each other's order: the
        repositories write one session's rows from under that session's lock, one at a time.

        `hurry` (a post's intent, as on SQLite): the next group is committed at once, without
        waiting for the rest of the window, and takes along whatever is queued; so is a full
        group (`_GROUP_FULL`). A hurried batch arriving while the writer is committing a group
        does not wait for that commit (a window of results, at thousands of sessions): it goes to
        the hurried lane, committed at once on a second connection with the other hurried batches
        arriving meanwhile, and nothing else.

        The two connections never reorder one session's writes, nor wait for each other's rows.
        Every write of a session is made under that session's lock (its player's: posting,
        recording, commands, recovery) and awaited there, i.e. until it is committed, before the
        next one is asked for: a post's result n is committed (on either connection) before its
        intent n+1 is even queued, whichever lane then takes it. So the two transactions in
        flight at one time hold writes of different sessions: rows of their own (a session's row,
        its posts, parts and votes), inserts of new rows (posts, audit entries, sessions started)
        and the foreign keys' KEY SHARE locks on sessions rows, which a write of other columns
        (FOR NO KEY UPDATE) never blocks. Neither waits for the other: no deadlock, no wait."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[list[list[Any] | None]] = loop.create_future()
        if hurry and self._committing:
            self._fast.append((list(ops), fut))
            if self._fast_writer is None or self._fast_writer.done():  # else it takes this one next
                self._fast_writer = loop.create_task(self._write_fast(), name="narrator-pg-hurried-writer")
                self._fast_writer.add_done_callback(self._fast_done)
            return await fut
        self._queue.append((list(ops), fut))
        if hurry:
            self._hurried = True
        if not self._armed and (self._writer is None or self._writer.done()):
            self._armed = True  # else the writer takes this batch with its next group
            wait = 0.0 if hurry else self._last_commit + self.commit_window - loop.time()
            if wait > 0:
                self._timer = loop.call_later(wait, self._start_writer)
            else:
                loop.call_soon(self._start_writer)
        elif hurry or len(self._queue) == _GROUP_FULL:
            if self._timer is not None:  # the writer was due at the end of the window: now
                self._timer.cancel()
                self._timer = None
                loop.call_soon(self._start_writer)
            elif self._sleep is not None and not self._sleep.done():  # it waits out the window
                self._sleep.set_result(None)
        return await fut

    def _start_writer(self) -> None:
        self._armed = False
        self._timer = None
        if self._queue and (self._writer is None or self._writer.done()):
            self._writer = asyncio.get_running_loop().create_task(self._write_queued(), name="narrator-pg-writer")
            self._writer.add_done_callback(self._writer_done)

    def _writer_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():  # perhaps before it ever ran: no caller may wait for it forever
            _cancel(self._queue)
            self._queue = []

    def _fast_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            _cancel(self._fast)
            self._fast = []

    async def _write_queued(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            group: list[_Queued] = []
            try:
                # the writes that came during the last commit gather for the rest of its window,
                # unless one of them is hurried (then or while waiting)
                wait = self._last_commit + self.commit_window - loop.time()
                if wait > 0 and not self._hurried and len(self._queue) < _GROUP_FULL:
                    self._sleep = loop.create_future()
                    wake = loop.call_later(wait, _settle, self._sleep)
                    try:
                        await self._sleep
                    finally:
                        wake.cancel()
                        self._sleep = None
                self._hurried = False
                self._last_commit = loop.time()
                if len(self._queue) <= _GROUP_MAX:
                    group, self._queue = self._queue, []
                else:
                    group, self._queue = self._queue[:_GROUP_MAX], self._queue[_GROUP_MAX:]
                self._committing = True
                try:
                    await self._main.commit(group)
                finally:
                    self._committing = False
            except asyncio.CancelledError:
                _cancel(group, self._queue)
                self._queue = []
                await self._main.release()
                raise

    async def _write_fast(self) -> None:
        """The hurried lane (see `batch`): commit what it holds at once, group after group."""
        while self._fast:
            group, self._fast = self._fast[:_GROUP_MAX], self._fast[_GROUP_MAX:]
            try:
                await self._spare.commit(group)
            except asyncio.CancelledError:
                _cancel(group, self._fast)
                self._fast = []
                await self._spare.release()
                raise

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[asyncpg.Record]:
        async with self._pool.acquire() as conn:
            return list(await conn.fetch(translate(sql), *params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> asyncpg.Record | None:
        async with self._pool.acquire() as conn:
            row: asyncpg.Record | None = await conn.fetchrow(translate(sql), *params)
            return row

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write in its own transaction (no lastrowid on PostgreSQL: use RETURNING)."""
        async with self._pool.acquire() as conn:
            await conn.execute(translate(sql), *params)
        return 0

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(r) for r in rows]
        if batch:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.executemany(translate(sql), batch)

    # -- migrations -----------------------------------------------------------------------------
    async def migrate(self, directory: Path | None = None) -> list[str]:
        files = load_migrations(directory or pg_migrations_dir())
        done: list[str] = []
        async with self._pool.acquire() as conn:
            for mig in await self._pending(conn, files):
                if await self._apply(conn, mig):
                    done.append(mig.path.name)
        return done

    async def _pending(self, conn: asyncpg.Connection, files: list[Migration]) -> list[Migration]:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(_LEDGER)
            rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        return _check({int(r[0]): (str(r[1]), str(r[2])) for r in rows}, files)

    async def _apply(self, conn: asyncpg.Connection, mig: Migration) -> bool:
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
                # Another process may have applied it while we waited for the lock.
                if await conn.fetchval("SELECT 1 FROM schema_migrations WHERE version = $1", mig.version):
                    return False
                await conn.execute(mig.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
                    mig.version, mig.name, mig.checksum, time.time())
        except asyncpg.PostgresError as exc:
            raise MigrationError(f"postgres/{mig.path.name} failed and was rolled back: {exc}") from exc
        return True

    async def migration_status(self, directory: Path | None = None) -> MigrationStatus:
        files = load_migrations(directory or pg_migrations_dir())
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
                await conn.execute(_LEDGER)
            rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        applied = {int(r[0]): (str(r[1]), str(r[2])) for r in rows}
        pending = _check(applied, files)
        return MigrationStatus(
            applied=[(v, n) for v, (n, _) in sorted(applied.items())],
            pending=[(m.version, m.name) for m in pending],
        )
