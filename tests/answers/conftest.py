from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.store import Database


class FakeClock:
    """Only what the answer engine needs: monotonic time that moves when told."""

    def __init__(self) -> None:
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    database = await Database.open(":memory:")
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
