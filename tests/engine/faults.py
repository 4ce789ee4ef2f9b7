"""A failing-database shim for engine tests: a real SessionStore whose writes fail on demand the way
a full disk makes them fail (the store raises DatabaseFault and nothing of the write is saved)."""

from __future__ import annotations

import sys
from typing import Any

from bot.store import Store
from bot.store.sessions import AuditEntry, DatabaseFault, SessionRow, SessionStore


class FailingStore(SessionStore):
    def __init__(self, db: Store) -> None:
        super().__init__(db)
        self.failing: set[str] = set()  # SessionStore method names, or "*" for every write
        self.refused: list[str] = []  # the writes that failed, in order

    def fail(self, *methods: str) -> None:
        self.failing = set(methods) or {"*"}

    def heal(self) -> None:
        self.failing = set()

    async def _batch(self, *ops: tuple[str, Any, bool], hurry: bool = False) -> list[list[Any] | None]:
        caller = sys._getframe(1).f_code.co_name  # the SessionStore method writing
        if "*" in self.failing or caller in self.failing:
            self.refused.append(caller)
            # as the store reports a full disk: nothing of the transaction was saved
            raise DatabaseFault("database or disk is full")
        return await super()._batch(*ops, hurry=hurry)

    async def create(self, row: SessionRow, audit: AuditEntry | None = None) -> int:
        if "*" in self.failing or "create" in self.failing:
            self.refused.append("create")
            raise DatabaseFault("database or disk is full")
        return await super().create(row, audit)
