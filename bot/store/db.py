"""One owned aiosqlite connection with the pragmas we rely on, and explicit transactions."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.migrations import MigrationStatus, apply_migrations, default_migrations_dir, migration_status


class StoreError(Exception):
    """The database cannot be used; the message says what to do."""


class Database:
    """Owns the connection. All writes go through `transaction()`, which serialises writers.

    aiosqlite runs every call on one worker thread, so a second coroutine's statements could land
    inside the first one's transaction; the lock keeps each transaction whole.
    """

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: Path | None) -> None:
        self._conn = conn
        self.path = path
        self._lock = asyncio.Lock()

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
        try:
            conn = await aiosqlite.connect(":memory:" if p is None else str(p), isolation_level=None)
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
            raise StoreError(
                f"{path} is not a usable SQLite database ({exc}); point DATABASE_PATH at another file "
                "or move this one away"
            ) from exc
        return cls(conn, p)

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

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

    async def batch(self, ops: Sequence[tuple[str, Any, bool]]) -> list[list[Any] | None]:
        """Run `(sql, params, many)` statements as one `BEGIN IMMEDIATE` ... `COMMIT` transaction in
        ONE round trip to the database thread; returns the rows of each single statement."""

        def run(conn: sqlite3.Connection) -> list[list[Any] | None]:
            out: list[list[Any] | None] = []
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, params, many in ops:
                    if many:
                        conn.executemany(sql, params)
                        out.append(None)
                    else:
                        out.append(conn.execute(sql, params).fetchall())
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return out

        aconn = self._conn
        async with self._lock:
            result: list[list[Any] | None] = await aconn._execute(run, aconn._conn)  # type: ignore[no-untyped-call]
            return result

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
        async with self._lock:
            return await apply_migrations(self._conn, directory or default_migrations_dir())

    async def migration_status(self, directory: Path | None = None) -> MigrationStatus:
        async with self._lock:
            return await migration_status(self._conn, directory or default_migrations_dir())
