"""`narrator db migrate|status`: apply or show schema migrations."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from bot.cli import CliError
from bot.config import Settings
from bot.store import Database, MigrationError, PgDatabase, Store, StoreError


def register(sub: Any) -> None:
    p = sub.add_parser("db", help="database maintenance")
    dbsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    m = dbsub.add_parser("migrate", help="apply pending migrations (safe to run twice)")
    m.set_defaults(func=_migrate)
    s = dbsub.add_parser("status", help="show applied and pending migrations")
    s.set_defaults(func=_status)


async def _report(db: Store, where: str, status_only: bool, prefix: str = "") -> int:
    """Print the migration status, or apply what is pending and say what was applied."""
    if status_only:
        st = await db.migration_status()
        print(f"database: {where}")
        print(f"schema version: {st.version}")
        for v, n in st.applied:
            print(f"  applied  {v:04d}_{n}")
        for v, n in st.pending:
            print(f"  pending  {v:04d}_{n}")
        return 0
    applied = await db.migrate()
    for name in applied:
        print(f"applied {prefix}{name}")
    if not applied:
        print("database is up to date")
    return 0


async def _with_pg(url: str, status_only: bool) -> int:
    from bot.store.pg import redact

    try:
        async with await PgDatabase.open(url) as db:
            return await _report(db, redact(url), status_only, prefix="postgres/")
    except (MigrationError, StoreError) as exc:
        raise CliError(str(exc)) from exc


async def _with_db(settings: Settings, status_only: bool) -> int:
    if settings.database_url:
        return await _with_pg(settings.database_url, status_only)
    path = settings.database_path
    # `status` only looks: a database that does not exist yet is not created (an empty
    # in-memory one lists what `migrate` would apply)
    missing = status_only and not path.exists()
    if missing:
        _check_creatable(path)
    try:
        async with await Database.open(":memory:" if missing else path) as db:
            shown = f"{path}" + (" (not created yet; narrator db migrate creates it)" if missing else "")
            return await _report(db, shown, status_only)
    except (MigrationError, StoreError) as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:  # the folder or file cannot be created (read-only, not a folder, ...)
        where = exc.filename or settings.database_path
        why = ("a file is in the way of its folder" if isinstance(exc, (FileExistsError,
                                                                        NotADirectoryError))
               else exc.strerror or str(exc))
        raise CliError(f"cannot open the database at {where}: {why}; set "
                       "DATABASE_PATH to a file in a folder you can write to") from None


def _check_creatable(path: Path) -> None:
    """Fail now, as migrate would, when the database could never be created at `path`."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    why = ("a file is in the way of its folder" if not parent.is_dir()
           else "the folder is not writable" if not os.access(parent, os.W_OK | os.X_OK) else "")
    if why:
        raise CliError(f"cannot open the database at {parent}: {why}; set DATABASE_PATH to a "
                       "file in a folder you can write to")


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_with_db(settings, status_only=False))


def _status(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_with_db(settings, status_only=True))
