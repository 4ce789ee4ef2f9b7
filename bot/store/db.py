"""One owned aiosqlite connection with the pragmas we rely on, and explicit transactions."""

from __future__ import annotations

import asyncio
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
    """Owns the connection. All writes go through `transaction()`, which serialises writers.

    aiosqlite runs every call on one worker thread, so a second coroutine's statements could land
    inside the first one's transaction; the lock keeps each transaction whole.
    """

    def __init__(self, conn: aiosqlite.Connection, raw: sqlite3.Connection, path: Path | None) -> None:
        self._conn = conn
        self._raw = raw  # the same connection, for `run` (SQLite is built serialized: threadsafety 3)
        self._worker = _Worker()
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
            await conn.execute("PRAGMA busy_timeout = 5000")
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
        db = cls(conn, opened[0], p)
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
            await self._conn.close()
            self._worker.stop()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, or `ROLLBACK` if the block raises."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` as one `BEGIN IMMEDIATE` ... `COMMIT` transaction (rolled back if it
        raises) in a worker thread: a whole save in one round trip, with plain sqlite3 calls."""

        def txn(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                out = fn(conn)
                conn.execute("COMMIT")  # may fail too (disk full): roll back, or every later BEGIN fails
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return out

        async with self._lock:
            return await self._worker.call(txn, self._raw)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cur:
            row: sqlite3.Row | None = await cur.fetchone()
            return row

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


class _Worker:
    """One thread that runs whole transactions for `Database.run` (a queue and a loop callback
    per call: cheaper than an executor's futures, which doubled the CPU per posted beat)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = \
            queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="narrator-db", daemon=True)
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
        self._jobs.put((fut, fn, args))
        return fut

    def stop(self) -> None:
        self._jobs.put(None)


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
