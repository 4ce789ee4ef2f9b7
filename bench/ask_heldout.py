"""Held-out /ask figures: the question sets in tests/answers/heldout/ (seed + corpus texts),
written blind by someone who had not read the answer engine.

    .venv/bin/python bench/ask_heldout.py [-v]      (-v lists every miss)

Prints per set: questions, % answered from a relevant line (the main beat used, and any beat
used), % of not-yet-answerable questions deflected, and spoilers (an answer using a later beat).
Targets: >= 80% from a relevant line, zero spoilers.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answers import AnswerEngine  # noqa: E402
from bot.store import Database  # noqa: E402
from tests.answers.heldout_eval import SetResult, evaluate_set, set_paths  # noqa: E402


async def run(verbose: bool) -> None:
    total = SetResult("all sets")
    async with await Database.open(":memory:") as db:
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
    asyncio.run(run("-v" in sys.argv))


if __name__ == "__main__":
    main()
