"""A failing-database shim for engine tests: a real SessionStore whose writes fail on demand the way
a full disk makes them fail (inside the transaction, which is then rolled back)."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from typing import TypeVar

from bot.store.db import Database
from bot.store.sessions import SessionStore

T = TypeVar("T")


class FailingStore(SessionStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.failing: set[str] = set()  # SessionStore method names, or "*" for every write
        self.refused: list[str] = []  # the writes that failed, in order

    def fail(self, *methods: str) -> None:
        self.failing = set(methods) or {"*"}

    def heal(self) -> None:
        self.failing = set()

    async def _txn(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        caller = sys._getframe(1).f_code.co_name  # the SessionStore method writing
        if "*" in self.failing or caller in self.failing:
            self.refused.append(caller)

            def full(conn: sqlite3.Connection) -> T:
                raise sqlite3.OperationalError("database or disk is full")

            return await super()._txn(full)
        return await super()._txn(fn)
