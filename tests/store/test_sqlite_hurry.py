"""SQLite group commit: a post's intent (`batch(hurry=True)`) never waits for the commit window."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.store.db import Database


async def test_a_hurried_batch_commits_at_once_and_takes_the_waiting_ones_along(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "hurry.sqlite3")
    try:
        await db.execute("CREATE TABLE t (x INTEGER)")
        db.commit_window = 30.0  # far longer than this test may take
        commits = 0
        run = db.run

        async def counted(fn: Any) -> Any:
            nonlocal commits
            commits += 1
            return await run(fn)

        db.run = counted  # type: ignore[method-assign]
        await db.batch([("INSERT INTO t VALUES (1)", (), False)])  # the first commit goes at once
        assert commits == 1
        waiting = asyncio.ensure_future(db.batch([("INSERT INTO t VALUES (2)", (), False)]))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not waiting.done()  # within the window of the last commit: it waits for the next one
        # An intent: its rate slot is taken, so it commits at the next turn of the loop, and the
        # batch waiting for the window rides along in the same transaction.
        await asyncio.wait_for(db.batch([("INSERT INTO t VALUES (3)", (), False)], hurry=True), 5.0)
        await asyncio.wait_for(waiting, 1.0)
        assert commits == 2
        rows = await db.fetchall("SELECT x FROM t ORDER BY x")
        assert [r[0] for r in rows] == [1, 2, 3]
    finally:
        await db.close()
