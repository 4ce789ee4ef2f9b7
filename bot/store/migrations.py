"""Numbered SQL migrations (`migrations/NNNN_name.sql`), each applied in one transaction with its
ledger row. Refuses a database that is newer than the code or whose applied files were edited."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at REAL NOT NULL
)
"""


class MigrationError(Exception):
    """The database and the migration files disagree; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    path: Path
    sql: str

    @property
    def checksum(self) -> str:
        # Line endings and trailing spaces are not edits that matter.
        norm = "\n".join(line.rstrip() for line in self.sql.strip().splitlines())
        return hashlib.sha256(norm.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    applied: list[tuple[int, str]]
    pending: list[tuple[int, str]]

    @property
    def version(self) -> int:
        return self.applied[-1][0] if self.applied else 0


def default_migrations_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "migrations"


def load_migrations(directory: Path) -> list[Migration]:
    if not directory.is_dir():
        raise MigrationError(f"migration folder {directory} not found; run from the project checkout")
    found: dict[int, Migration] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql":
            continue
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"{path}: migration files are named NNNN_name.sql (lower-case, digits, _)")
        version = int(m.group(1))
        if version in found:
            raise MigrationError(f"{path}: version {version} is used twice ({found[version].path.name})")
        found[version] = Migration(version, m.group(2), path, path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def split_statements(sql: str) -> list[str]:
    """Split a script into statements (trigger bodies stay whole), so they can run inside one
    explicit transaction; `executescript` would commit first."""
    statements: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            stmt = buf.strip()
            if stmt and not all(
                part.strip().startswith("--") or not part.strip() for part in stmt.splitlines()
            ):
                statements.append(stmt)
            buf = ""
    if buf.strip() and not all(p.strip().startswith("--") or not p.strip() for p in buf.splitlines()):
        raise MigrationError("a migration ends with an incomplete statement (missing ';'?)")
    return statements


async def _ledger(conn: aiosqlite.Connection) -> dict[int, tuple[str, str]]:
    await conn.execute(_LEDGER)
    async with conn.execute("SELECT version, name, checksum FROM schema_migrations ORDER BY version") as cur:
        return {int(r[0]): (str(r[1]), str(r[2])) for r in await cur.fetchall()}


def _check(applied: dict[int, tuple[str, str]], files: list[Migration]) -> list[Migration]:
    by_version = {m.version: m for m in files}
    newest_known = max(by_version, default=0)
    for version, (name, checksum) in applied.items():
        mig = by_version.get(version)
        if mig is None:
            if version > newest_known:
                raise MigrationError(
                    f"the database is at schema version {version} ({name}) but this code only knows up to "
                    f"{newest_known}: run a newer release of the bot, or point DATABASE_PATH elsewhere"
                )
            raise MigrationError(f"migration {version:04d}_{name}.sql was applied but its file is missing")
        if mig.checksum != checksum:
            raise MigrationError(
                f"{mig.path.name} was edited after it was applied to this database; landed migrations are "
                "immutable: restore the file and put the change in a new migration"
            )
    return [m for m in files if m.version not in applied]


async def apply_migrations(conn: aiosqlite.Connection, directory: Path) -> list[str]:
    """Apply pending migrations in order; return the names applied. Each file and its ledger row
    commit together or not at all."""
    files = load_migrations(directory)
    pending = _check(await _ledger(conn), files)
    done: list[str] = []
    for mig in pending:
        statements = split_statements(mig.sql)
        await conn.execute("BEGIN IMMEDIATE")
        # Another process may have applied it between our look at the ledger and taking the
        # write lock: look again now that nobody else can write.
        async with conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (mig.version,)) as cur:
            already = await cur.fetchone()
        if already is not None:
            await conn.execute("ROLLBACK")
            continue
        try:
            for stmt in statements:
                await conn.execute(stmt)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                (mig.version, mig.name, mig.checksum, time.time()),
            )
        except sqlite3.Error as exc:
            await _rollback(conn)
            raise MigrationError(f"{mig.path.name} failed and was rolled back: {exc}") from exc
        except BaseException:
            await _rollback(conn)
            raise
        try:
            await conn.execute("COMMIT")
        except sqlite3.Error as exc:  # e.g. the disk filled up while writing the journal
            await _rollback(conn)
            raise MigrationError(f"{mig.path.name} could not be saved and was rolled back: {exc}") from exc
        done.append(mig.path.name)
    return done


async def _rollback(conn: aiosqlite.Connection) -> None:
    """Roll back, when SQLite has not already done so itself (it does on a full disk)."""
    if conn.in_transaction:
        await conn.execute("ROLLBACK")


async def migration_status(conn: aiosqlite.Connection, directory: Path) -> MigrationStatus:
    files = load_migrations(directory)
    applied = await _ledger(conn)
    pending = _check(applied, files)
    return MigrationStatus(
        applied=[(v, n) for v, (n, _) in sorted(applied.items())],
        pending=[(m.version, m.name) for m in pending],
    )
