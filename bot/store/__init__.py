"""The only package that speaks SQL: the connection, the migration runner and the repositories.

Two backends with one interface: SQLite (`Database`, the default, a file at DATABASE_PATH) and
PostgreSQL (`PgDatabase`, chosen by DATABASE_URL=postgresql://...)."""

from __future__ import annotations

from pathlib import Path

from bot.store.db import COMMIT_WINDOW, Database, StoreError
from bot.store.migrations import MigrationError, MigrationStatus
from bot.store.pg import PgDatabase

Store = Database | PgDatabase


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))


async def open_store(database_url: str | None, database_path: Path | str) -> Store:
    """PostgreSQL when `database_url` is set, else the SQLite file at `database_path`."""
    if database_url:
        if not is_postgres_url(database_url):
            raise StoreError("DATABASE_URL must start with postgresql:// (leave it empty to use the SQLite "
                             "file at DATABASE_PATH)")
        pg = await PgDatabase.open(database_url)
        pg.commit_window = COMMIT_WINDOW
        return pg
    db = await Database.open(database_path)
    db.commit_window = COMMIT_WINDOW
    return db


__all__ = ["Database", "MigrationError", "MigrationStatus", "PgDatabase", "Store", "StoreError", "is_postgres_url",
           "open_store"]
