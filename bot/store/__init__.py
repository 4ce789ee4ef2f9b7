"""The only package that speaks SQL: the connection, the migration runner and the repositories."""

from bot.store.db import Database, StoreError
from bot.store.migrations import MigrationError, MigrationStatus

__all__ = ["Database", "MigrationError", "MigrationStatus", "StoreError"]
