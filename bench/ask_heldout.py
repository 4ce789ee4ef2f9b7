"""Held-out /ask figures: the question sets in tests/answers/heldout/ (seed + corpus texts),
written blind by someone who had not read the answer engine.

    .venv/bin/python bench/ask_heldout.py [-v] [--postgres]   (-v lists every miss)

--postgres runs the same sets on PostgreSQL (DATABASE_URL if set, else a throw-away server
started like the tests' one): its full-text ranking must stay within 3 points of SQLite's.

Prints per set: questions, % answered from a relevant line (the main beat used, and any beat
used), % of not-yet-answerable questions deflected, and spoilers (an answer using a later beat).
Targets: >= 80% from a relevant line, zero spoilers.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answers import AnswerEngine  # noqa: E402
from bot.store import Database, PgDatabase  # noqa: E402
from tests.answers.heldout_eval import SetResult, evaluate_set, set_paths  # noqa: E402


async def run(verbose: bool, url: str | None) -> None:
    total = SetResult("all sets")
    print("backend:", "PostgreSQL" if url else "SQLite")
    async with (await PgDatabase.open(url) if url else await Database.open(":memory:")) as db:
        await db.migrate()
        engine = AnswerEngine(db, cooldown_seconds=0)
        for path in set_paths():
            r = await evaluate_set(engine, path)
            print(r.summary())
            if verbose:
                for m in r.misses:
                    print("   ", m)
            for f in ("total", "answerable", "main_relevant", "any_relevant", "unanswerable", "deflected", "spoilers"):
                setattr(total, f, getattr(total, f) + getattr(r, f))
    print(total.summary())


def main() -> None:
    server = None
    url = None
    if "--postgres" in sys.argv:
        url = os.environ.get("DATABASE_URL")
        if not url:
            from tests.pg_server import start

            server = start()
            url = server.new_url()
    try:
        asyncio.run(run("-v" in sys.argv, url))
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
