"""The SQLite database: an aiosqlite connection (migrations, explicit transactions, reads on a worker
thread) and the group-commit writer's own connection, with the pragmas we rely on."""

from __future__ import annotations

import asyncio
import functools
import os
import queue
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.store.migrations import (
    MigrationError,
    MigrationStatus,
    apply_migrations,
    default_migrations_dir,
    migration_status,
)

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5000  # how long a write waits for another process's lock on the database
# The bot's `Database.commit_window` (see there). A post's intent never waits for it (`batch(hurry=True)`),
# so it is not bounded by the rate budget's margin; the engine wakes due sessions on this grid (`Backstage.tick`).
COMMIT_WINDOW = 0.2
GROUP_MAX = 128  # batches that make a group worth committing without waiting for the rest of the window


class StoreError(Exception):
    """The database cannot be used; the message says what to do."""


def explain(exc: sqlite3.Error, path: Path | str | None) -> str:
    """One sentence for a database failure a person can fix (full disk, read-only file...)."""
    where = path if path is not None else "the database"
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc)
    if code == sqlite3.SQLITE_FULL or "full" in text:
        return (f"the disk holding {where} is full ({text}); free some space or set DATABASE_PATH "
                "to a disk with room, then start the bot again")
    if code == sqlite3.SQLITE_READONLY or "readonly" in text or "read-only" in text:
        return (f"{where} is read-only ({text}); make the file and its folder writable by the user "
                "running the bot, or set DATABASE_PATH to a writable place")
    if code == sqlite3.SQLITE_CANTOPEN or "unable to open" in text:
        return (f"cannot open {where} ({text}); check that its folder exists and is writable, or set "
                "DATABASE_PATH to another file")
    if code == sqlite3.SQLITE_IOERR or "disk I/O" in text:
        return f"reading or writing {where} failed ({text}); check the disk, then start the bot again"
    return f"{where} cannot be used ({text}); check DATABASE_PATH"


class Database:
    """Owns the connections. Writes go through `transaction()` or `batch()`/`run()`, serialised by
    one lock: aiosqlite runs every call on one worker thread, so a second coroutine's statements
    could land inside the first one's transaction; the lock keeps each transaction whole.
    `batch()` (the engine's hot path) commits in groups on the writer's own connection.
    """

    dialect = "sqlite"

    # Batches arriving within this many seconds of the last commit wait for the next one and share
    # it (as PostgreSQL's commit_delay): a post then leaves at most this much later, and a commit,
    # most of what a post costs the database, is shared by every session posting meanwhile. 0
    # commits as soon as the event loop turns; the bot sets `COMMIT_WINDOW` (`open_store`).
    commit_window = 0.0

    def __init__(self, conn: aiosqlite.Connection, raw: sqlite3.Connection, path: Path | None,
                 write: sqlite3.Connection | None = None) -> None:
        self._conn = conn
        self._raw = raw  # the same connection, for reads (SQLite is built serialized: threadsafety 3)
        # The writer's own connection, used on the event loop's thread: a whole group commit costs
        # tens of microseconds there, less than handing it to a thread and back. It never waits for
        # a lock there (busy timeout 0): when another process holds the database, that commit is
        # done on the worker thread instead, waiting as long as any. It never checkpoints either
        # (the worker thread does, `_checkpoint`), so the loop never waits for the disk to sync.
        self._write = write
        self._worker = _Worker()
        self._queue: Group = []
        self._writer: asyncio.Task[None] | None = None
        self._armed = False
        self._timer: asyncio.TimerHandle | None = None  # the armed commit, when it waits for the window
        self._last_commit = 0.0
        self._last_checkpoint = 0.0
        self.path = path
        self._lock = asyncio.Lock()
        self._identity = _identity(path)

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        memory = str(path) == ":memory:"
        p = None if memory else Path(path)
        if p is not None:
            try:
                p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                if not p.exists():
                    # Create it 0600 before SQLite does, so webhook tokens are never world-readable.
                    fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)
                    os.close(fd)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the database at {path}: {exc.strerror or exc}; "
                    "set DATABASE_PATH to a writable file path"
                ) from exc
        opened: list[sqlite3.Connection] = []
        location = ":memory:" if p is None else str(p)

        def connector() -> sqlite3.Connection:
            raw = sqlite3.connect(location, isolation_level=None, check_same_thread=False)
            opened.append(raw)
            return raw

        try:
            conn = await aiosqlite.Connection(connector, 64)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database at {path}: {exc}; check DATABASE_PATH") from exc
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if p is not None:
                await conn.execute("PRAGMA journal_mode = WAL")
                await conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            # Close the connection's worker thread, or the process would never exit.
            await conn.close()
            if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
                raise StoreError(
                    f"{path} is not a usable SQLite database ({exc}); point DATABASE_PATH at another file "
                    "or move this one away"
                ) from exc
            raise StoreError(explain(exc, path)) from exc
        write = None
        if p is not None:
            try:
                write = sqlite3.connect(location, isolation_level=None, check_same_thread=False, timeout=0)
                write.row_factory = sqlite3.Row
                for pragma in ("foreign_keys = ON", "synchronous = NORMAL", "wal_autocheckpoint = 0"):
                    write.execute(f"PRAGMA {pragma}")
            except sqlite3.Error as exc:
                if write is not None:
                    write.close()
                await conn.close()
                raise StoreError(explain(exc, path)) from exc
        db = cls(conn, opened[0], p, write)
        if p is not None:
            try:
                await db._probe_write()
            except sqlite3.Error as exc:
                await db.close()
                raise StoreError(explain(exc, path)) from exc
        return db

    async def _probe_write(self) -> None:
        """Fail now, with one sentence, on a database we could read but never save to (a read-only
        file or folder), instead of starting "ready" and failing every session. Nothing changes:
        the write is rolled back."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                async with self._conn.execute("PRAGMA user_version") as cur:
                    row = await cur.fetchone()
                await self._conn.execute(f"PRAGMA user_version = {int(row[0]) if row else 0}")
            finally:
                await self._conn.execute("ROLLBACK")

    def file_problem(self) -> str | None:
        """Why the database file is no longer the one we opened (deleted, replaced), or None.
        SQLite keeps writing to a deleted file's inode, so without this check a deleted database
        loses every change at the next restart without a word."""
        if self.path is None or self._identity is None:
            return None
        now = _identity(self.path)
        if now is None:
            return (f"the database file {self.path} was deleted while the bot runs: progress saved from now "
                    "on is lost when the bot stops; restore the file (or stop the bot) now")
        if now != self._identity:
            return (f"the database file {self.path} was replaced while the bot runs: the bot still writes to "
                    "the old file; restart the bot to use the new one")
        return None

    async def close(self) -> None:
        async with self._lock:
            await self._worker.stop()  # its last read or checkpoint done before the connections close
            if self._write is not None:
                self._write.close()
            await self._conn.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, or `ROLLBACK` if the block raises.

        The worker thread's checkpoints and reads share this connection without the lock; a COMMIT
        that met a checkpoint between two steps failed ("cannot commit transaction - SQL statements
        in progress") and left the transaction open, holding the write lock for good: every later
        write was "database is locked". So the end of a transaction runs on the worker thread too,
        between two of its jobs, and a COMMIT that fails all the same is rolled back."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._end("ROLLBACK")
                raise
            try:
                await self._end("COMMIT")
            except BaseException:
                try:
                    await self._end("ROLLBACK")  # never keep the write lock after a failed commit
                except sqlite3.Error:
                    pass  # the failed commit already ended it (SQLite rolls back on some errors)
                raise

    async def _end(self, sql: str) -> None:
        await self._worker.call(_end_transaction, self._raw, sql)

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` as one `BEGIN IMMEDIATE` ... `COMMIT` transaction (rolled back if it
        raises): a whole save at once, with plain sqlite3 calls. On a database file, on the loop's
        thread unless another process holds the lock (then on the worker thread, waiting for it)."""
        async with self._lock:
            if self._write is None:  # in memory: one connection for everything
                return await self._worker.call(_transaction, self._raw, fn)
            try:
                out = _transaction(self._write, fn, waits=False)
            except _Busy:
                out = await self._worker.call(_transaction, self._write, fn)
            self._after_commit()
            return out

    def _after_commit(self) -> None:
        loop = asyncio.get_running_loop()
        now = self._last_commit = loop.time()
        if now - self._last_checkpoint >= CHECKPOINT_EVERY:
            self._last_checkpoint = now
            self._worker.call(_checkpoint, self._raw).add_done_callback(_ignore)

    async def batch(self, ops: Sequence[tuple[str, Any, bool]], *, hurry: bool = False) -> list[list[Any] | None]:
        """Run `(sql, params, many)` statements as one atomic unit; returns the rows of each
        single statement. PgDatabase has the same method, so the repositories' hot path is written
        once for both backends.

        Group commit: batches that arrive within `commit_window` of the last commit (or while one
        is under way) are queued, and the next commit takes them all in one transaction; others are
        committed as soon as the event loop turns. Should one batch fail, the group is rolled back and
        redone with each batch in a SAVEPOINT, so the failing batch raises for its caller alone.
        The call returns only once its batch is committed, so "intent recorded before the send,
        result after" holds as before.

        `hurry` (a post's intent: its rate slot is taken, the send waits for this commit): commit at
        the next turn of the event loop, taking along whatever waits for the window. The engine
        wakes the sessions that are due on the window's grid, so their intents share that commit
        and the previous round's results ride along: about one commit per window, and a post
        leaves one loop turn after its slot was taken, whatever the window."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[list[list[Any] | None]] = loop.create_future()
        queue = self._queue
        queue.append((list(ops), fut))
        if not self._armed and (self._writer is None or self._writer.done()):
            self._armed = True  # else the writer takes this batch with the next commit
            wait = 0.0 if hurry else self._last_commit + self.commit_window - loop.time()
            if wait > 0:
                self._timer = loop.call_later(wait, self._start_writer)
            else:
                loop.call_soon(self._start_writer)
        elif (hurry or len(queue) == GROUP_MAX) and self._timer is not None:
            # An intent (see `hurry`), or enough for one commit: waiting longer saves nothing and
            # makes a commit that holds the loop longer (the many-session lateness).
            self._timer.cancel()
            self._timer = None
            loop.call_soon(self._start_writer)
        return await fut

    def _start_writer(self) -> None:
        self._armed = False
        self._timer = None
        if self._queue and (self._writer is None or self._writer.done()):
            self._writer = asyncio.get_running_loop().create_task(self._write_queued())

    async def _write_queued(self) -> None:
        while self._queue:
            group, self._queue = self._queue, []
            results: list[tuple[list[list[Any] | None] | None, BaseException | None]] = []
            try:
                try:
                    # Optimistic: the whole group as one transaction, no savepoints (two statements
                    # fewer per batch). Should one batch fail, all is rolled back and redone below.
                    await self.run(functools.partial(_apply_group, group=group, results=results))
                except _BatchFailed:
                    await self.run(functools.partial(_apply_group, group=group, results=results, isolate=True))
            except asyncio.CancelledError:
                for _, fut in group:
                    fut.cancel()
                raise
            except Exception as exc:  # BEGIN or COMMIT failed: nothing of the group is saved
                for _, fut in group:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            _answer(group, results)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one query, read on the database thread in one round trip (between two whole
        write transactions of `run`, never inside one)."""
        return await self._worker.call(_fetchall, self._raw, sql, params)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        return await self._worker.call(_fetchone, self._raw, sql, params)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write in its own transaction; returns lastrowid."""
        async with self.transaction() as conn, conn.execute(sql, params) as cur:
            return cur.lastrowid or 0

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def migrate(self, directory: Path | None = None) -> list[str]:
        try:
            async with self._lock:
                return await apply_migrations(self._conn, directory or default_migrations_dir())
        except sqlite3.Error as exc:  # a full disk, a read-only file: one sentence
            raise StoreError(explain(exc, self.path)) from exc
        except MigrationError as exc:
            cause = exc.__cause__
            if isinstance(cause, sqlite3.Error) and _environmental(cause):
                raise StoreError(f"migrating the database failed (nothing was changed): {explain(cause, self.path)}") from exc
            raise

    async def migration_status(self, directory: Path | None = None) -> MigrationStatus:
        async with self._lock:
            return await migration_status(self._conn, directory or default_migrations_dir())


CHECKPOINT_EVERY = 1.0  # seconds between two checkpoints of the write-ahead log (on the worker thread)


class _Busy(Exception):
    """Another connection holds the write lock (and this transaction would not wait for it)."""


def _transaction(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T], *, waits: bool = True) -> T:
    """`fn(conn)` between `BEGIN IMMEDIATE` and `COMMIT`, rolled back if it raises. `waits`: wait for
    another process's lock as long as the busy timeout allows (else raise `_Busy` at once)."""
    if waits and conn.execute("PRAGMA busy_timeout").fetchone()[0] == 0:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            return _transaction(conn, fn)
        finally:
            conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if not waits and getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise _Busy from exc
        raise
    try:
        out = fn(conn)
        conn.execute("COMMIT")  # may fail too (disk full): roll back, or every later BEGIN fails
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return out


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the write-ahead log into the database file, as far as readers allow (never waits)."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _ignore(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()  # a checkpoint that could not run now runs next time


class _BatchFailed(Exception):
    """One batch of an optimistic group failed: roll the group back and redo it batch by batch."""


Group = list[tuple[list[tuple[str, Any, bool]], "asyncio.Future[list[list[Any] | None]]"]]


def _apply_group(conn: sqlite3.Connection, *, group: Group, results: list[Any], isolate: bool = False) -> None:
    """Run each batch of `group` (inside `Database.run`'s transaction), appending (rows, None) or
    (None, error) to `results`. `isolate`: each batch in a savepoint, so a failing one is rolled
    back alone and reported to its caller; else the first failure raises `_BatchFailed`."""
    results.clear()
    cur = conn.cursor()
    for ops, _ in group:
        if isolate:
            cur.execute("SAVEPOINT narrator_batch")
        try:
            out: list[list[Any] | None] = []
            for sql, params, many in ops:
                if many:
                    cur.executemany(sql, params)
                    out.append(None)
                else:
                    out.append(cur.execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            if not isolate:
                raise _BatchFailed from exc
            cur.execute("ROLLBACK TO narrator_batch")
            cur.execute("RELEASE narrator_batch")
            results.append((None, exc))
            continue
        if isolate:
            cur.execute("RELEASE narrator_batch")
        results.append((out, None))


def _answer(group: Group, results: list[Any]) -> None:
    for (_, fut), (out, err) in zip(group, results, strict=True):
        if fut.done():
            continue
        if err is not None:
            fut.set_exception(err)
        elif out is not None:
            fut.set_result(out)


def _end_transaction(conn: sqlite3.Connection, sql: str) -> None:
    """COMMIT or ROLLBACK (a ROLLBACK of a transaction SQLite already ended is nothing to do; a
    COMMIT with none open still fails: what the block wrote was lost)."""
    if sql == "ROLLBACK" and not conn.in_transaction:
        return
    conn.execute(sql)


def _fetchall(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[sqlite3.Row]:
    return conn.execute(sql, params).fetchall()


def _fetchone(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(sql, params).fetchone()
    return row


class _Worker:
    """One thread that runs whole transactions for `Database.run` (a queue and a loop callback
    per call: cheaper than an executor's futures, which doubled the CPU per posted beat)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = \
            queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="narrator-db", daemon=True)
        self._stopped = False
        self._thread.start()

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            fut, fn, args = job
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the awaiting coroutine
                fut.get_loop().call_soon_threadsafe(_settle, fut, None, exc)
            else:
                fut.get_loop().call_soon_threadsafe(_settle, fut, result, None)

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        if self._stopped:
            fut.set_exception(sqlite3.ProgrammingError("Cannot operate on a closed database."))
            return fut
        self._jobs.put((fut, fn, args))
        return fut

    async def stop(self) -> None:
        """Finish the jobs queued so far, then end the thread; later calls fail."""
        self._stopped = True
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None and not job[0].done():
                job[0].set_exception(sqlite3.ProgrammingError("Cannot operate on a closed database."))


def _settle(fut: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if fut.done():  # the caller was cancelled
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


def _environmental(exc: sqlite3.Error) -> bool:
    """A failure of the place the database lives (disk, permissions), not of the SQL."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR) \
        or any(w in str(exc) for w in ("full", "readonly", "unable to open", "disk I/O"))


def _identity(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
