"""SQLite: the worker thread's checkpoints and reads share the connection that
`Database.transaction()` writes on. A COMMIT that meets the checkpoint still stepping fails ("SQL
statements in progress"); it must never leave the transaction open, or the write lock is held for
good and every later write says "database is locked" (a bot found wedged that way in an
end-to-end run under load)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store import open_store
from bot.store.guilds import GuildStore


async def test_a_commit_that_meets_a_checkpoint_in_progress_never_keeps_the_write_lock(tmp_path: Path) -> None:
    db = await open_store(None, tmp_path / "store.sqlite3")
    try:
        await db.migrate()
        guilds = GuildStore(db)
        raw = db._raw  # the connection the worker checkpoints and reads on
        # the worker's checkpoint on that connection, caught between two steps (as under load)
        reading = raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
        with pytest.raises(sqlite3.OperationalError, match="in progress"):
            await guilds.claim_webhook_notice(42)
        reading.close()
        # the failed commit was rolled back: writes go on, and the claim was not half-made
        assert await guilds.claim_webhook_notice(42) is True
        assert await guilds.claim_webhook_notice(42) is False
        await guilds.set_tidy(7, "none")
    finally:
        await db.close()
